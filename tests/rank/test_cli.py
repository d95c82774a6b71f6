"""``prefkit rank``: tables, JSON, CSV, plots and clean errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from prefkit.cli import rank as rank_cli

from .helpers import simulate


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """An app holding only the rank command (and a second, so it is a group)."""
    app = typer.Typer()
    rank_cli.register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.fixture(scope="module")
def battles_file(tmp_path_factory):
    """A JSONL file of seeded battles between three models."""
    path = tmp_path_factory.mktemp("rank") / "battles.jsonl"
    battles = simulate(np.array([0.5, 0.0, -0.5]), 1500, 1, ties="rao-kupper", eta=0.3)
    battles.to_json(path, orient="records", lines=True)
    return path


def test_help_has_an_example(app):
    """The help text comes from the docstring and shows an example."""
    result = CliRunner().invoke(app, ["rank", "--help"])
    assert result.exit_code == 0
    assert "Example: prefkit rank battles.jsonl" in result.output


def test_json_output(app, battles_file):
    """--json prints the whole leaderboard as JSON, best model first."""
    result = CliRunner().invoke(
        app, ["rank", str(battles_file), "--json", "--ties", "drop"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [row["model"] for row in data["table"]] == ["m00", "m01", "m02"]
    assert data["settings"]["ties"] == "drop"


def test_csv_and_table_output(app, battles_file):
    """--csv prints the table as CSV; the default is a rich table."""
    result = CliRunner().invoke(app, ["rank", str(battles_file), "--csv"])
    assert result.exit_code == 0
    assert (
        result.output.splitlines()[0]
        == "model,rating,lower,upper,rank,rank_lower,rank_upper,n_battles"
    )
    table = CliRunner().invoke(app, ["rank", str(battles_file), "--ties", "rao-kupper"])
    assert "bt leaderboard (95% sandwich intervals)" in table.output
    assert "tie parameter theta" in table.output


def test_plot_is_written(app, battles_file, tmp_path):
    """--plot writes a PNG image (online Elo still warns about order, one line)."""
    out = tmp_path / "board.png"
    args = ["rank", str(battles_file), "--model", "elo", "--rounds", "20"]
    result = CliRunner().invoke(app, [*args, "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: online Elo depends on the order of the battles" in result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_permutations_average_elo_over_orders(app, battles_file):
    """--permutations averages Elo over random orders, so no order warning."""
    args = ["rank", str(battles_file), "--model", "elo", "--permutations", "5"]
    result = CliRunner().invoke(app, [*args, "--ci", "none", "--json"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert json.loads(result.output)["extras"]["order_spread"] is None


def test_ci_none_title_says_no_intervals(app, battles_file):
    """--ci none is titled 'no intervals', not '95% none intervals'."""
    result = CliRunner().invoke(app, ["rank", str(battles_file), "--ci", "none"])
    assert result.exit_code == 0, result.output
    assert "bt leaderboard (no intervals)" in result.output


def test_unbeaten_model_warns_and_l2_makes_it_finite(app, tmp_path):
    """x beats y once, y ties z: one warning line, unbounded CIs; --l2 fixes it."""
    path = tmp_path / "perfect.jsonl"
    path.write_text(
        '{"model_a": "x", "model_b": "y", "winner": "a"}\n'
        '{"model_a": "y", "model_b": "z", "winner": "tie"}\n'
    )
    result = CliRunner().invoke(app, ["rank", str(path), "--csv"])
    assert result.exit_code == 0, result.output
    assert (
        "warning: the maximum-likelihood ratings do not exist: {x} never lose"
        in result.output
    )
    assert "x," in result.output and ",-inf,inf,1,1,3,1" in result.output
    shrunk = CliRunner().invoke(app, ["rank", str(path), "--l2", "0.5", "--json"])
    assert shrunk.exit_code == 0, shrunk.output
    top = json.loads(shrunk.output)["table"][0]
    assert top["model"] == "x"
    assert top["lower"] < top["rating"] < top["upper"]


def test_max_iter_reaches_the_fit(app, battles_file):
    """--max-iter 1 stops Newton early and the convergence warning says so."""
    result = CliRunner().invoke(app, ["rank", str(battles_file), "--max-iter", "1"])
    assert result.exit_code == 0, result.output
    assert "did not converge in 1 iterations" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "zz"], "model='zz' is not a ranker"),
        (["--json", "--csv"], "--json and --csv are exclusive"),
        (["--plot", "x.gif"], "must end in .png, .svg or .pdf"),
        (["--anchor", "nobody"], "anchor='nobody' is not a model"),
        (["--rounds", "5"], "--rounds 5 needs --ci bootstrap (got --ci sandwich)"),
        (["--ci", "none", "--rounds", "5"], "needs --ci bootstrap (got --ci none)"),
        (
            ["--model", "elo", "--ties", "rao-kupper"],
            "ties='rao-kupper' applies to model='bt' only",
        ),
        (["--permutations", "3"], "unknown option(s) for model='bt': permutations"),
        (["--model", "pl", "--l2", "1"], "unknown option(s) for model='pl': l2"),
    ],
)
def test_errors_are_one_clean_line(app, battles_file, args, message):
    """Bad options end with one error line and exit code 2, no traceback."""
    result = CliRunner().invoke(app, ["rank", str(battles_file), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_a_clean_error(app, tmp_path):
    """A file that does not exist is reported by name."""
    result = CliRunner().invoke(app, ["rank", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "none.jsonl" in result.output
