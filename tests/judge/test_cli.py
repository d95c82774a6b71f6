"""The ``prefkit judge`` command."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app
from prefkit.data import read_table
from prefkit.judge import register_backend
from tests.judge.fakes import FirstSlotJudge, LengthScorer, candidates

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_backends() -> None:
    register_backend("firstslot", lambda arg: FirstSlotJudge())
    register_backend("lengthrm", lambda arg: LengthScorer())


def _write(tmp_path, df: pd.DataFrame, name: str = "cands.jsonl") -> str:
    path = tmp_path / name
    df.to_json(path, orient="records", lines=True)
    return str(path)


def test_judge_help_has_an_example() -> None:
    """The command's help shows what it does and an example."""
    result = runner.invoke(app, ["judge", "--help"])
    assert result.exit_code == 0
    assert (
        "Example: prefkit judge" in result.output
        and "--route-to-humans" in result.output
    )


def test_judge_writes_comparisons_and_the_review_queue(tmp_path) -> None:
    """Candidates in, comparisons and the N most uncertain pairs out."""
    cands = _write(tmp_path, candidates())
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--judge",
            "firstslot",
            "--out",
            str(tmp_path / "out.jsonl"),
            "--route-to-humans",
            "2",
            "--queue-out",
            str(tmp_path / "q.jsonl"),
            "--no-cache",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["pairs"] == 6 and summary["tie"] == 6
    assert (
        summary["positional_consistency"] == 0.0
        and summary["first_slot_rate_ab"] == 1.0
    )
    out = read_table(tmp_path / "out.jsonl")
    assert {"winner", "p_a", "winner_ab", "winner_ba", "uncertainty", "judge"} <= set(
        out.columns
    )
    queue = read_table(tmp_path / "q.jsonl")
    assert len(queue) == 2 and queue["uncertainty"].tolist() == [1.0, 1.0]


def test_judge_reads_unjudged_pairs_and_uses_the_cache(tmp_path) -> None:
    """A comparisons table is judged as given; the cache path is honoured."""
    from prefkit.judge import make_pairs

    pairs = _write(tmp_path, make_pairs(candidates(), "baseline:x"), "pairs.jsonl")
    args = [
        "judge",
        pairs,
        "--judge",
        "lengthrm",
        "--cache",
        str(tmp_path / "c.sqlite"),
        "--no-progress",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs"] == 4
    assert (tmp_path / "c.sqlite").exists()


def test_judge_pointwise_and_listwise_need_candidates(tmp_path) -> None:
    """Pointwise grades candidates; pairs are refused for it."""
    cands = _write(tmp_path, candidates())
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--judge",
            "lengthrm",
            "--protocol",
            "pointwise",
            "--no-cache",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["responses"] == 6
    from prefkit.judge import make_pairs

    pairs = _write(tmp_path, make_pairs(candidates()), "pairs.jsonl")
    result = runner.invoke(
        app, ["judge", pairs, "--protocol", "pointwise", "--no-cache"]
    )
    assert result.exit_code == 2 and "needs candidates" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--judge", "gpt:4"], "backend 'gpt' is not registered"),
        (["--route-to-humans", "3"], "go together"),
        (["--protocol", "chat"], "--protocol 'chat' is not known"),
        (["--pairs", "some"], "pairing plan 'some' is not known"),
        (["--protocol", "pointwise", "--grade-scale", "5"], "LOW,HIGH"),
    ],
)
def test_judge_errors_are_one_clean_line(
    tmp_path, args: list[str], message: str
) -> None:
    """Bad options end with one error line and exit code 2, no traceback."""
    cands = _write(tmp_path, candidates())
    result = runner.invoke(app, ["judge", cands, "--no-cache", "--no-progress", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_judge_retry_options_are_checked(tmp_path) -> None:
    """Retry and rate options reach the retry policy, which checks them."""
    cands = _write(tmp_path, candidates())
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--judge",
            "firstslot",
            "--no-cache",
            "--max-rate",
            "0",
            "--no-progress",
        ],
    )
    assert result.exit_code == 2 and "max_rate must be > 0" in result.output
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--judge",
            "firstslot",
            "--no-cache",
            "--retries",
            "0",
            "--timeout",
            "30",
            "--max-rate",
            "1000",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs"] == 6


def test_judge_jury_of_two_judges(tmp_path) -> None:
    """--jury runs each juror and aggregates; a bad method is refused."""
    cands = _write(tmp_path, candidates())
    out_file = tmp_path / "jury.jsonl"
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--jury",
            "firstslot,lengthrm",
            "--jury-method",
            "mean",
            "--out",
            str(out_file),
            "--no-cache",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = read_table(out_file)
    assert out["judge"].iloc[0] == "jury:mean(fake:first-slot,fakerm:length)"
    assert "winner_ab" not in out.columns and len(out["jury_votes"].iloc[0]) == 2
    result = runner.invoke(
        app,
        [
            "judge",
            cands,
            "--jury",
            "firstslot,lengthrm",
            "--jury-method",
            "vote",
            "--no-cache",
            "--no-progress",
        ],
    )
    assert result.exit_code == 2 and "jury method 'vote'" in result.output
