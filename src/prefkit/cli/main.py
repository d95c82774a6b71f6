"""Entry point of the ``prefkit`` command.

Each task area lives in its own module with a ``register(app)`` function;
this file only assembles them and turns errors into clean exits.
"""

from __future__ import annotations

import importlib
import logging
import sys
import warnings

import typer

from prefkit.cli.common import fail, show_warning
from prefkit.errors import PrefkitError

app = typer.Typer(
    name="prefkit",
    help=(
        "Human-preference data for ML: leaderboards, judges, audits, "
        "reward models, DPO."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Modules of ``prefkit.cli`` that add commands, in the order of ``--help``.
COMMAND_MODULES = (
    "data",
    "rank",
    "judge",
    "audit",
    "evaluate",
    "reward",
    "optimize",
    "arena",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"prefkit.cli.{_name}").register(app)


@app.callback()
def _root(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log progress details to stderr."
    ),
) -> None:
    """prefkit: leaderboards with honest CIs, judge audits, preference training."""
    # a warning is one clean line on stderr, not a path and a code line
    warnings.showwarning = show_warning
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Run the CLI; library errors become one clean line and exit code 2."""
    try:
        app()
    except PrefkitError as exc:
        try:
            fail(str(exc))
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
