"""Pieces every CLI command shares: output, errors, option sets."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TextIO, TypeVar

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from prefkit.errors import PrefkitError, PrefkitWarning

#: Width of the console when output goes to a file or a pipe: wide enough
#: that no table cell is cut (a terminal keeps its own width).
PIPE_WIDTH = 10_000


def _console(stderr: bool = False) -> Console:
    """A rich console that cuts nothing when its stream is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH)


console = _console()
err_console = _console(stderr=True)


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a Python warning as one line: ``warning: <message>``.

    Stands in for :func:`warnings.showwarning`: no source path, no code line.
    Warnings of prefkit's own classes need no class name; others keep it.
    """
    text = str(message)
    if not issubclass(category, PrefkitWarning):
        text = f"{category.__name__}: {text}"
    stream = file if file is not None else sys.stderr
    stream.write(f"warning: {text}\n")


F = TypeVar("F", bound=Callable[..., Any])

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every random step.")]


class CliError(PrefkitError):
    """A usage problem found by a command (printed as one line, exit 2)."""


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` as a clean error (one line per problem) and exit."""
    for line in str(message).splitlines() or ["error"]:
        # the message is plain text: "[likelihood]" must not be read as markup
        err_console.print(
            f"[bold red]error:[/] {escape(line)}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
    raise typer.Exit(code)


def clean_errors(func: F) -> F:
    """Turn prefkit errors (and a few OS errors) into one-line messages."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PrefkitError as exc:
            fail(str(exc))
        except (
            FileNotFoundError,
            FileExistsError,
            IsADirectoryError,
            NotADirectoryError,
            PermissionError,
        ) as exc:
            fail(f"{exc.filename}: {exc.strerror}")
        return None

    return wrapper  # type: ignore[return-value]


def to_jsonable(value: Any) -> Any:
    """Numbers, arrays and frames as plain JSON values."""
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return value


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to standard output."""
    sys.stdout.write(
        json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n"
    )


def print_frame(
    df: pd.DataFrame, title: str | None = None, floatfmt: str = "{:.3f}"
) -> None:
    """Show a DataFrame as a rich table."""
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(
            str(col),
            justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left",
        )
    for row in df.itertuples(index=False, name=None):
        cells = []
        for v in row:
            if isinstance(v, (float, np.floating)):
                cells.append("" if np.isnan(v) else floatfmt.format(v))
            else:
                cells.append(str(v))
        table.add_row(*cells)
    console.print(table)
