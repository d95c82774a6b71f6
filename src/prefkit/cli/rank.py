"""``prefkit rank``: a leaderboard with confidence intervals from a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    SeedOption,
    clean_errors,
    console,
    print_frame,
    print_json,
)


def rank(
    file: Annotated[
        Path,
        typer.Argument(
            help="Comparisons (or rankings for --model pl): JSONL, CSV or Parquet."
        ),
    ],
    model: Annotated[str, typer.Option("--model", help="bt, elo, pl or gpm.")] = "bt",
    ties: Annotated[
        str, typer.Option("--ties", help="half, drop, rao-kupper or davidson (bt).")
    ] = "half",
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
        int, typer.Option("--rounds", help="Bootstrap replicates.")
    ] = 1000,
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

    if as_json and as_csv:
        raise CliError("--json and --csv are exclusive; pick one")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CliError(f"--plot {plot} must end in .png, .svg or .pdf")
    table = load(file, fmt)
    method = ci or ("bootstrap" if model == "elo" else "sandwich")
    board = leaderboard(
        table,
        model=model,
        ties=ties,
        control=control,
        ci=method,
        rounds=rounds,
        alpha=alpha,
        anchor=anchor,
        seed=seed,
    )
    if plot is not None:
        from prefkit.rank.plot import plot_leaderboard

        plot_leaderboard(board).savefig(plot, dpi=120)
    if as_json:
        print_json(board.to_dict())
    elif as_csv:
        board.table.to_csv(sys.stdout, index=False)
    else:
        level = round(100 * (1 - alpha))
        print_frame(
            board.table,
            title=f"{model} leaderboard ({level}% {method} intervals)",
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


def register(app: typer.Typer) -> None:
    """Add ``prefkit rank`` to ``app``."""
    app.command("rank")(clean_errors(rank))
