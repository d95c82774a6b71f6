"""prefkit arena on a --db file that is not an arena database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [["export", "-o", "v.jsonl"], ["leaderboard"], ["serve"]],
)
def test_not_a_database_is_one_clean_line(tmp_path, args):
    """A --db file that SQLite cannot read gives one error line naming it."""
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"PAR1 this is not sqlite at all" * 10)
    result = runner.invoke(app, ["arena", args[0], "--db", str(fake), *args[1:]])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --db {fake}: not a readable arena database (file is not a "
        "database); give the SQLite file `prefkit arena serve` made"
    )
