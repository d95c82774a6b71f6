"""A judge run killed with SIGKILL half-way resumes to the uninterrupted result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

from prefkit.data import read_table, write_table
from prefkit.judge import judge_pairs, make_pairs
from tests.judge.fakes import candidates
from tests.judge.fakeserver import StubJudge

ROOT = Path(__file__).resolve().parents[2]


def _cli(cands: Path, url: str, cache: Path, out: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "prefkit.cli.main",
        "judge",
        str(cands),
        "--judge",
        f"openai:stub@{url}",
        "--cache",
        str(cache),
        "--out",
        str(out),
        "--concurrency",
        "1",
        "--no-progress",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path) -> None:
    """Killed after 7 replies, the resumed run sends only what is missing."""
    cands = tmp_path / "cands.jsonl"
    candidates().to_json(cands, orient="records", lines=True)
    n_requests = 6 * 2

    # a run that the stub stalls after 7 replies, then SIGKILL
    stub = StubJudge(hang_after=7)
    try:
        killed = _cli(
            cands, stub.url, tmp_path / "c.sqlite", tmp_path / "resumed.jsonl"
        )
        assert stub.hanging.wait(180), killed.communicate(timeout=5)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(30)
        assert killed.returncode == -signal.SIGKILL
        assert not (tmp_path / "resumed.jsonl").exists()

        stub.hang_after = None
        resumed = _cli(
            cands, stub.url, tmp_path / "c.sqlite", tmp_path / "resumed.jsonl"
        )
        _, err = resumed.communicate(timeout=180)
        assert resumed.returncode == 0, err.decode()
    finally:
        stub.close()
    # every request was answered exactly once over both runs; only the one in
    # flight at the kill (sent, never answered) arrived twice
    assert len(stub.answered) == n_requests
    assert set(stub.answered.values()) == {1}
    assert sum(stub.received.values()) == n_requests + 1

    # the uninterrupted run, in process, with the calls the CLI makes
    fresh = StubJudge()
    try:
        whole = judge_pairs(
            make_pairs(read_table(cands)),
            f"openai:stub@{fresh.url}",
            cache=tmp_path / "fresh.sqlite",
            concurrency=1,
            progress=False,
        )
        write_table(whole, tmp_path / "whole.jsonl")
    finally:
        fresh.close()
    pd.testing.assert_frame_equal(
        read_table(tmp_path / "resumed.jsonl"), read_table(tmp_path / "whole.jsonl")
    )
    assert sum(fresh.answered.values()) == n_requests
