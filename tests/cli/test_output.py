"""CLI output plumbing: warnings as one line, wide tables when piped."""

from __future__ import annotations

import io
import json
import warnings

from typer.testing import CliRunner

from prefkit.cli.common import PIPE_WIDTH, _console, show_warning
from prefkit.cli.main import app
from prefkit.errors import OrderDependenceWarning

runner = CliRunner()


def test_show_warning_is_one_line_without_path():
    """A prefkit warning prints as 'warning: <message>', no path or code line."""
    stream = io.StringIO()
    show_warning(
        OrderDependenceWarning("order matters"),
        OrderDependenceWarning,
        "/x/rank/elo.py",
        198,
        stream,
        "warnings.warn(...)",
    )
    assert stream.getvalue() == "warning: order matters\n"


def test_show_warning_keeps_class_name_of_foreign_warnings():
    """A warning of another library keeps its class name in the line."""
    stream = io.StringIO()
    show_warning(FutureWarning("old API"), FutureWarning, "/x/y.py", 1, stream)
    assert stream.getvalue() == "warning: FutureWarning: old API\n"


def test_cli_routes_python_warnings_to_show_warning():
    """Running any command installs the one-line warning printer."""
    saved = warnings.showwarning
    try:
        result = runner.invoke(app, ["formats", "--json"])
        assert result.exit_code == 0
        assert warnings.showwarning is show_warning
    finally:
        warnings.showwarning = saved


def test_console_is_wide_when_not_a_terminal():
    """Output to a pipe or file gets a console wide enough to cut no cell."""
    assert _console().width == PIPE_WIDTH


def test_piped_table_keeps_long_model_names(tmp_path):
    """A leaderboard printed to a pipe shows model names whole."""
    long_a, long_b = "Platypus2-70B-instruct-long-name", "Vicuna-13B-v1.5-long-name"
    path = tmp_path / "v.jsonl"
    rows = [
        {"model_a": long_a, "model_b": long_b, "winner": w} for w in ("a", "b", "a")
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["rank", str(path)])
    assert result.exit_code == 0, result.output
    assert long_a in result.stdout and long_b in result.stdout
