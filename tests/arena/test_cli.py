"""``prefkit arena`` commands: help, export, leaderboard, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prefkit.arena import ArenaStore
from prefkit.cli.main import app
from prefkit.data import read_table
from tests.arena.helpers import candidate_rows, make_client, open_battle, vote

runner = CliRunner()


@pytest.mark.parametrize("command", ["serve", "export", "leaderboard"])
def test_every_command_has_help_with_an_example(command: str):
    """Each arena command explains itself and shows an example."""
    result = runner.invoke(app, ["arena", command, "--help"])
    assert result.exit_code == 0
    assert "Example: prefkit arena" in result.output


def _db_with_votes(tmp_path: Path, n: int) -> Path:
    with make_client(tmp_path) as client:
        for _ in range(n):
            vote(client, open_battle(client), "right")
    return tmp_path / "arena.sqlite"


def test_export_writes_a_comparisons_table(tmp_path: Path):
    """Export writes one validated comparisons row per vote, voters as judges."""
    db = _db_with_votes(tmp_path, 3)
    out = tmp_path / "votes.parquet"
    result = runner.invoke(
        app, ["arena", "export", "--db", str(db), "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"file": str(out), "votes": 3}
    table = read_table(out)
    assert len(table) == 3
    assert table["judge"].str.startswith("voter-").all()
    assert set(table["source"]) == {"sampling"}
    flipped = table["swapped"].map({True: "a", False: "b"})
    assert (table["winner"] == flipped).all()


def test_leaderboard_json_counts_votes(tmp_path: Path):
    """The leaderboard command's JSON gives the votes, voters and models."""
    db = _db_with_votes(tmp_path, 4)
    result = runner.invoke(app, ["arena", "leaderboard", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.output)
    assert (board["n_votes"], board["n_voters"]) == (4, 1)
    assert {r["model"] for r in board["human"]} <= {"alpha", "beta", "gamma"}


def test_missing_database_is_one_clean_line(tmp_path: Path):
    """A --db that does not exist gives one error line and exit code 2."""
    result = runner.invoke(
        app, ["arena", "export", "--db", str(tmp_path / "no.sqlite"), "-o", "x.jsonl"]
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_a_bad_candidates_file_cleanly(tmp_path: Path):
    """serve validates --candidates before starting and names the bad line."""
    rows = candidate_rows(1)
    rows[2]["response"] = None
    bad = tmp_path / "c.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = tmp_path / "a.sqlite"
    result = runner.invoke(
        app, ["arena", "serve", "--db", str(db), "--candidates", str(bad)]
    )
    assert result.exit_code == 2
    assert "c.jsonl:3: response" in result.output
    assert ArenaStore(db).counts()["candidates"] == 0


def test_serve_refuses_a_short_admin_token(tmp_path: Path, monkeypatch):
    """A weak PREFKIT_ARENA_ADMIN_TOKEN stops the server with a clear message."""
    monkeypatch.setenv("PREFKIT_ARENA_ADMIN_TOKEN", "abc")
    result = runner.invoke(app, ["arena", "serve", "--db", str(tmp_path / "a.sqlite")])
    assert result.exit_code == 2
    assert "admin_token is too short" in result.output
