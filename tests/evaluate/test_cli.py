"""Tests of the evaluate, demo, generate and report commands (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app

COMMANDS = ("evaluate", "demo", "generate", "report")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    """Each command's help text includes an example line."""
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"prefkit {command}" in result.stdout


def _votes(path: Path) -> Path:
    """A small judged comparisons file: each pair won 2 to 1 by x over y over z."""
    rows = []
    games = [
        ("x", "y"),
        ("x", "y"),
        ("y", "x"),
        ("y", "z"),
        ("y", "z"),
        ("z", "y"),
        ("x", "z"),
        ("x", "z"),
        ("z", "x"),
    ] * 3
    for i, (a, b) in enumerate(games):
        rows.append(
            {
                "prompt_id": str(i),
                "prompt": f"q{i}",
                "model_a": a,
                "model_b": b,
                "response_a": "r" * (i + 3),
                "response_b": "s",
                "winner": "a",
                "swapped": i % 2 == 0,
                "judge": "people",
            }
        )
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path


def test_evaluate_recorded_votes_then_report_again(tmp_path: Path) -> None:
    """A judged table is ranked and audited; report rebuilds the page later."""
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(_votes(tmp_path / "v.jsonl")),
            "-o",
            str(out),
            "--rounds",
            "20",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [r["model"] for r in shown["leaderboard"]] == ["x", "y", "z"]
    (out / "report.html").unlink()
    again = CliRunner().invoke(app, ["report", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert "x" in (out / "report.html").read_text()


def test_evaluate_unjudged_pairs_without_judge_fails_cleanly(tmp_path: Path) -> None:
    """Pairs without verdicts and no judge give one clean error line, exit 2."""
    table = pd.read_json(_votes(tmp_path / "v.jsonl"), lines=True)
    table.drop(columns=["winner"]).to_json(
        tmp_path / "u.jsonl", orient="records", lines=True
    )
    result = CliRunner().invoke(
        app, ["evaluate", str(tmp_path / "u.jsonl"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "27 of 27 pairs hold no verdict (rows 1, 2, 3, 4, 5, ...)" in result.output
    # the example judge list is printed as written, not eaten as markup
    assert "judges: [likelihood] in a config" in result.output
    assert "Traceback" not in result.output


def test_report_on_a_folder_that_is_not_a_run_fails_cleanly(tmp_path: Path) -> None:
    """report on an empty folder names the missing files."""
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "missing run.json, leaderboard.json, comparisons.parquet" in result.output


def test_evaluate_with_a_bad_config_fails_cleanly(tmp_path: Path) -> None:
    """A config file with an unknown setting is one clean error line."""
    (tmp_path / "c.yaml").write_text("comparisons: v.jsonl\nmodel: elo\n")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2
    assert "unknown setting(s) model" in result.output


def test_demo_refuses_fewer_than_one_prompt(tmp_path: Path) -> None:
    """--prompts 0 and -3 are one clean error line, before any folder is made."""
    for n in ("0", "-3"):
        out = tmp_path / f"d{n}"
        result = CliRunner().invoke(app, ["demo", "--prompts", n, "--out", str(out)])
        assert result.exit_code == 2
        assert f"--prompts must be at least 1 (got {n})" in result.output
        assert not out.exists()


def test_output_folder_that_is_a_file_fails_cleanly(tmp_path: Path) -> None:
    """-o naming an existing file (or a folder below one) is one error line."""
    votes = str(_votes(tmp_path / "v.jsonl"))
    (tmp_path / "afile").write_text("keep me")
    for out in ("afile", "afile/sub"):
        result = CliRunner().invoke(
            app, ["evaluate", votes, "-o", str(tmp_path / out), "--rounds", "20"]
        )
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert (tmp_path / "afile").read_text() == "keep me"


def test_evaluate_probes_none_means_no_probes(tmp_path: Path) -> None:
    """--probes none is accepted (as by demo) and runs no probe."""
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["evaluate", str(_votes(tmp_path / "v.jsonl")), "--probes", "none", "-o",
         str(out), "--rounds", "20"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["probes"] is None
