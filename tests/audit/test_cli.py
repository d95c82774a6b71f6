"""``prefkit audit`` through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from prefkit.cli.main import app
from prefkit.data import write_table
from tests.audit.synthetic import items, judge

runner = CliRunner()


def _verdicts(tmp_path: Path) -> Path:
    """A JSONL file of a clean and a first-slot judge with gold labels."""
    it = items(n=150, seed=4)
    table = pd.concat([judge(it, "clean", seed=1), judge(it, "first", seed=2)])
    return write_table(table.drop(columns=["p_a"]), tmp_path / "verdicts.jsonl")


def test_json_output_flags_the_first_picker(tmp_path: Path) -> None:
    """--json prints the audit table; only the first-picker's position is flagged."""
    path = _verdicts(tmp_path)
    result = runner.invoke(app, ["audit", str(path), "--json", "--rounds", "200"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["table"]
    flagged = {(r["judge"], r["figure"]) for r in rows if r["flag"]}
    assert flagged == {("first", "first_slot_rate")}
    skipped = [r for r in rows if r["value"] is None]
    assert all(r["note"].startswith("skipped: ") for r in skipped)


def test_table_output_and_json_file(tmp_path: Path) -> None:
    """The default output is a table with FLAG; -o writes the same JSON."""
    path = _verdicts(tmp_path)
    out = tmp_path / "audit.json"
    result = runner.invoke(app, ["audit", str(path), "--rounds", "100", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "judge audit (95% CIs)" in result.stdout
    assert "1 flagged" in result.stdout
    saved = json.loads(out.read_text())
    flags = [(r["judge"], r["figure"]) for r in saved["table"] if r["flag"]]
    assert flags == [("first", "first_slot_rate")]


def test_probes_need_a_judge(tmp_path: Path) -> None:
    """--probes without --judge is one clean error line and exit code 2."""
    path = _verdicts(tmp_path)
    result = runner.invoke(app, ["audit", str(path), "--probes", "position"])
    assert result.exit_code == 2
    assert "--probes needs --judge" in result.output
    assert "Traceback" not in result.output


def test_unknown_probe_is_named(tmp_path: Path) -> None:
    """An unknown probe name lists the valid ones."""
    path = _verdicts(tmp_path)
    result = runner.invoke(
        app, ["audit", str(path), "--probes", "flattery", "--judge", "local"]
    )
    assert result.exit_code == 2
    assert "unknown probe(s) flattery" in result.output


def test_help_has_an_example() -> None:
    """The command's help text shows an example."""
    result = runner.invoke(app, ["audit", "--help"])
    assert result.exit_code == 0
    assert "Example: prefkit audit" in result.stdout


def _alpaca_like(tmp_path: Path) -> Path:
    """Judge 'gpt4_turbo_judge' comparing models against baseline 'gpt4'."""
    rows = [
        {
            "prompt_id": str(i),
            "model_a": "gpt4",
            "model_b": m,
            "winner": "a" if (i + k) % 4 else "b",
            "judge": "gpt4_turbo_judge",
        }
        for i in range(40)
        for k, m in enumerate(["llama", "mistral"])
    ]
    return write_table(pd.DataFrame(rows), tmp_path / "alpaca_like.jsonl")


def test_family_option_enables_self_preference(tmp_path: Path) -> None:
    """--family maps the judge and the baseline to one family, so the
    self-preference audit runs (the baseline wins 3 in 4 rows) instead of
    being skipped."""
    path = _alpaca_like(tmp_path)
    args = ["audit", str(path), "--json", "--rounds", "0"]
    family = ["--family", "gpt4_turbo_judge=gpt-4", "--family", "gpt4=gpt-4"]
    rows = json.loads(runner.invoke(app, args).stdout)["table"]
    (before,) = [r for r in rows if r["figure"] == "self_win_rate"]
    assert "no comparison sets the judge's own family" in before["note"]
    result = runner.invoke(app, args + family)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["table"]
    (after,) = [r for r in rows if r["figure"] == "self_win_rate"]
    assert after["value"] == 0.75
    assert after["note"] == "family 'gpt-4' vs others"


def test_malformed_family_is_one_error_line(tmp_path: Path) -> None:
    """A --family without '=' exits non-zero with one line saying the form."""
    path = _alpaca_like(tmp_path)
    result = runner.invoke(app, ["audit", str(path), "--family", "gpt-4"])
    assert result.exit_code != 0
    assert "--family 'gpt-4': expected NAME=FAMILY" in result.output
    assert "Traceback" not in result.output


def test_help_documents_family() -> None:
    """The audit help says how to declare the judge's family."""
    result = runner.invoke(app, ["audit", "--help"], env={"COLUMNS": "200"})
    assert "--family" in result.output
    assert "NAME=FAMILY" in result.output
