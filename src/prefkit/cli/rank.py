"""``prefkit rank``: a leaderboard with confidence intervals from a file."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    SeedOption,
    clean_errors,
    console,
    err_console,
    print_frame,
    print_json,
)
from prefkit.errors import PrefkitWarning


def rank(
    file: Annotated[
        Path,
        typer.Argument(
            help="Comparisons (or rankings for --model pl): JSONL, CSV or Parquet."
        ),
    ],
    model: Annotated[str, typer.Option("--model", help="bt, elo, pl or gpm.")] = "bt",
    ties: Annotated[
        str | None,
        typer.Option(
            "--ties", help="half, drop, rao-kupper or davidson (bt; default: half)."
        ),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            "--control", help="Style control features, e.g. length,markdown (bt)."
        ),
    ] = None,
    ci: Annotated[
        str | None,
        typer.Option(
            "--ci",
            help="sandwich, bootstrap or none (default: sandwich; bootstrap for elo).",
        ),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option("--rounds", help="Bootstrap replicates (default: 1000)."),
    ] = None,
    l2: Annotated[
        float | None,
        typer.Option(
            "--l2",
            help="L2 prior precision: on the ratings (bt), which keeps them "
            "finite, or on the embedding (gpm).",
        ),
    ] = None,
    max_iter: Annotated[
        int | None,
        typer.Option("--max-iter", help="Iterations of the fit at most (bt, pl, gpm)."),
    ] = None,
    permutations: Annotated[
        int | None,
        typer.Option(
            "--permutations", help="Average Elo over this many random orders (elo)."
        ),
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="One minus the confidence level.")
    ] = 0.05,
    anchor: Annotated[
        str | None, typer.Option("--anchor", help="Model pinned at 1000.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Input format (auto detects it).")
    ] = "auto",
    seed: SeedOption = 0,
    as_json: JsonOption = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the table as CSV.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Write a PNG/SVG of ratings and win probabilities."
        ),
    ] = None,
) -> None:
    """Rank models from pairwise votes, with confidence intervals and rank ranges.

    Example: prefkit rank battles.jsonl --ties rao-kupper --ci bootstrap --plot b.png
    """
    from prefkit.data import load
    from prefkit.rank import leaderboard
    from prefkit.rank.leaderboard import DEFAULT_CI

    if as_json and as_csv:
        raise CliError("--json and --csv are exclusive; pick one")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CliError(f"--plot {plot} must end in .png, .svg or .pdf")
    method = ci or DEFAULT_CI.get(model, "sandwich")
    if rounds is not None and method != "bootstrap":
        raise CliError(f"--rounds {rounds} needs --ci bootstrap (got --ci {method})")
    opts = {
        name: value
        for name, value in (
            ("l2", l2),
            ("max_iter", max_iter),
            ("permutations", permutations),
        )
        if value is not None
    }
    table = load(file, fmt)
    with _clean_warnings():
        board = leaderboard(
            table,
            model=model,
            ties=ties,
            control=control,
            ci=ci,
            rounds=1000 if rounds is None else rounds,
            alpha=alpha,
            anchor=anchor,
            seed=seed,
            **opts,
        )
    method = board.settings["ci"]
    if plot is not None:
        from prefkit.rank.plot import plot_leaderboard

        plot_leaderboard(board).savefig(plot, dpi=120)
    if as_json:
        print_json(board.to_dict())
    elif as_csv:
        board.table.to_csv(sys.stdout, index=False)
    else:
        level = round(100 * (1 - alpha))
        what = "no intervals" if method == "none" else f"{level}% {method} intervals"
        print_frame(
            board.table,
            title=f"{model} leaderboard ({what})",
            floatfmt="{:.1f}",
        )
        if board.tie_parameter is not None:
            t = board.tie_parameter
            interval = f"[{t['lower']:.3f}, {t['upper']:.3f}]"
            console.print(f"tie parameter {t['name']} = {t['value']:.3f} {interval}")
        if board.coefficients is not None:
            print_frame(
                board.coefficients,
                title="style coefficients (log-odds per scaled unit)",
            )
        if "cyclic_share" in board.extras:
            console.print(
                f"cyclic share of the log-odds: {board.extras['cyclic_share']:.3f}"
            )
        if plot is not None:
            console.print(f"plot written to {plot}")


@contextmanager
def _clean_warnings() -> Iterator[None]:
    """Show prefkit's warnings raised inside as one clean line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrefkitWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, PrefkitWarning):
            err_console.print(
                f"[yellow]warning:[/] {warning.message}",
                highlight=False,
                soft_wrap=True,
            )
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def register(app: typer.Typer) -> None:
    """Add ``prefkit rank`` to ``app``."""
    app.command("rank")(clean_errors(rank))
