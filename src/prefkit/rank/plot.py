"""A picture of a leaderboard: ratings with CI bars and the win-probability map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from prefkit.rank.leaderboard import Leaderboard


def plot_leaderboard(board: Leaderboard, *, max_models: int | None = None) -> Figure:
    """Ratings with their intervals (left) and P(row beats column) (right).

    Parameters
    ----------
    board : Leaderboard
        The leaderboard to draw.
    max_models : int or None, default=None
        Only the best ``max_models`` are drawn (the titles say so); None draws
        every model, the figure growing taller with their number.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown and not saved; the caller decides).
    """
    from matplotlib.figure import Figure

    table = board.table if max_models is None else board.table.head(max_models)
    names = table["model"].tolist()
    n = len(names)
    total = len(board.table)
    top = f"top {n} of {total} models: " if n < total else ""
    fig = Figure(figsize=(12, max(3.0, 0.3 * n + 1.5)), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.2])

    # ratings, best at the top, with interval bars where there are intervals
    y = np.arange(n)[::-1]
    rating = table["rating"].to_numpy()
    low = table["lower"].to_numpy()
    high = table["upper"].to_numpy()
    # a point estimate may fall outside a percentile interval (online Elo)
    err = np.clip(np.vstack([rating - low, high - rating]), 0.0, None)
    has_ci = bool(np.isfinite(err).all())
    left.errorbar(
        rating, y, xerr=err if has_ci else None, fmt="o", color="tab:blue", capsize=3
    )
    left.set_yticks(y, names)
    left.set_xlabel("rating")
    level = round(100 * (1 - float(board.settings.get("alpha", 0.05))))
    left.set_title(top + (f"ratings with {level}% intervals" if has_ci else "ratings"))
    left.grid(axis="x", alpha=0.3)

    # win probabilities in the same order
    win = board.win_probabilities.loc[names, names].to_numpy()
    image = right.imshow(win, vmin=0, vmax=1, cmap="RdBu_r")
    size = 8 if n <= 20 else 6 if n <= 40 else 5
    right.set_xticks(np.arange(n), names, rotation=90, fontsize=size)
    right.set_yticks(np.arange(n), names, fontsize=size)
    right.set_title(top + "P(row beats column)")
    fig.colorbar(image, ax=right, shrink=0.8)
    return fig
