"""Tests of the ``prefkit optimize`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from prefkit.cli.main import app

runner = CliRunner()


def test_every_command_has_help_with_example() -> None:
    """Each optimize command documents itself with an example."""
    for command in ("losses", "train", "ranking", "curriculum"):
        result = runner.invoke(app, ["optimize", command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output


def test_losses_json_lists_registry() -> None:
    """--json lists every loss with its hyper-parameters."""
    result = runner.invoke(app, ["optimize", "losses", "--json"])
    assert result.exit_code == 0
    rows = {r["loss"]: r for r in json.loads(result.output)}
    assert rows["rdpo"]["hyper_parameters"] == "beta=0.1, epsilon=0.1"
    assert len(rows) == 11


def test_curriculum_writes_pairs(tmp_path: Path) -> None:
    """The curriculum command writes ordered pairs and reports their number."""
    ratings = tmp_path / "ratings.jsonl"
    pd.DataFrame(
        {
            "prompt_id": ["p"] * 3, "prompt": ["P"] * 3, "model": ["a", "b", "c"],
            "response": ["A", "B", "C"], "score": [3.0, 2.0, 0.0],
        }
    ).to_json(ratings, orient="records", lines=True)  # fmt: skip
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(
        app, ["optimize", "curriculum", str(ratings), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pairs"] == 3
    written = pd.read_json(out, lines=True)
    assert written["gap"].tolist() == [3.0, 2.0, 1.0]


def test_bad_param_is_one_clean_line(tmp_path: Path) -> None:
    """A malformed --param fails with one line and exit code 2."""
    pairs = tmp_path / "pairs.jsonl"
    pd.DataFrame({"prompt": ["q"], "chosen": ["a"], "rejected": ["b"]}).to_json(
        pairs, orient="records", lines=True
    )
    result = runner.invoke(
        app,
        [
            "optimize",
            "train",
            str(pairs),
            "--out",
            str(tmp_path / "m"),
            "--param",
            "beta",
        ],
    )
    assert result.exit_code == 2
    assert "expected NAME=NUMBER" in result.output
    assert "Traceback" not in result.output


def test_unknown_columns_clean_error(tmp_path: Path) -> None:
    """A pairs file in no known format is a clean error."""
    pairs = tmp_path / "pairs.jsonl"
    pd.DataFrame({"q": ["x"]}).to_json(pairs, orient="records", lines=True)
    result = runner.invoke(
        app, ["optimize", "train", str(pairs), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "neither prompt/chosen/rejected" in result.output
