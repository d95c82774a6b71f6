"""The report's figures, drawn with matplotlib and returned as inline SVG text.

Text in the figures is drawn as paths (``svg.fonttype = "path"``), so model
names cannot inject markup and the figures need no web fonts at view time.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

_RC: dict[str, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "prefkit",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_LABEL_LIMIT = 28


def _short(label: object) -> str:
    """A label cut to fit beside a bar."""
    text = str(label)
    return text if len(text) <= _LABEL_LIMIT else text[: _LABEL_LIMIT - 1] + "…"


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Any, Any]]:
    """A figure and axes under the report's style, closed afterwards."""
    with plt.rc_context(_RC):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element (XML prolog and doctype removed)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :].strip()


def _errors(rate: Any, lower: pd.Series, upper: pd.Series) -> Any:
    """Error-bar lengths below and above; an interval may miss 0 or 1 by rounding."""
    below = rate - lower.to_numpy(float)
    above = upper.to_numpy(float) - rate
    return np.clip(np.vstack([below, above]), 0, None)


def _height(n_rows: int) -> float:
    return 0.9 + 0.28 * max(n_rows, 1)


def leaderboard_plot(table: pd.DataFrame, xlabel: str = "rating") -> str:
    """Ratings with their confidence intervals, best at the top."""
    rows = table.sort_values("rating", ascending=True)
    y = np.arange(len(rows))
    rating = rows["rating"].to_numpy(float)
    lower = rows["lower"].to_numpy(float)
    upper = rows["upper"].to_numpy(float)
    err = np.vstack(
        [np.clip(rating - lower, 0, None), np.clip(upper - rating, 0, None)]
    )
    with _figure(6.4, _height(len(rows))) as (fig, ax):
        ax.errorbar(rating, y, xerr=err, fmt="o", color="#1f5fa8", ecolor="#7aa6d6")
        ax.set_yticks(y, [_short(m) for m in rows["model"]])
        ax.set_xlabel(xlabel + " (95% CI)")
        ax.grid(axis="x", alpha=0.3)
        return to_svg(fig)


def heatmap_plot(win_probabilities: pd.DataFrame) -> str:
    """Predicted probability that the row model beats the column model."""
    values = win_probabilities.to_numpy(dtype=float, copy=True)
    n = len(values)
    # a model against itself is not a prediction
    np.fill_diagonal(values, np.nan)
    size = 1.6 + 0.45 * n
    with _figure(size + 1.2, size) as (fig, ax):
        image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="RdBu")
        labels = [_short(m) for m in win_probabilities.index]
        ax.set_xticks(range(n), [_short(m) for m in win_probabilities.columns])
        ax.set_yticks(range(n), labels)
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        # numbers in the cells only while they stay legible (and cheap to draw)
        if n <= 8:
            for i in range(n):
                for j in range(n):
                    if i != j and np.isfinite(values[i, j]):
                        colour = "white" if abs(values[i, j] - 0.5) > 0.3 else "black"
                        ax.text(
                            j,
                            i,
                            f"{values[i, j]:.2f}",
                            ha="center",
                            va="center",
                            color=colour,
                            fontsize=7,
                        )
        ax.set_xlabel("opponent")
        ax.set_ylabel("model")
        fig.colorbar(
            image, ax=ax, fraction=0.046, pad=0.04, label="P(row beats column)"
        )
        return to_svg(fig)


def position_plot(effect: pd.DataFrame) -> str:
    """Share of verdicts given to the first-shown response, per judge."""
    y = np.arange(len(effect))
    rate = effect["first_rate"].to_numpy(float)
    err = _errors(rate, effect["lower"], effect["upper"])
    with _figure(6.4, _height(len(effect))) as (fig, ax):
        ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
        ax.errorbar(rate, y, xerr=err, fmt="s", color="#b03a2e", ecolor="#e59c93")
        ax.set_yticks(y, [_short(j) for j in effect["judge"]])
        ax.set_xlim(0, 1)
        ax.set_xlabel(
            "share of non-tie verdicts given to the first-shown response (95% CI)"
        )
        return to_svg(fig)


def length_plot(effect: pd.DataFrame) -> str:
    """Share of verdicts won by the longer response, per length-ratio bin and judge."""
    with _figure(6.4, 3.2) as (fig, ax):
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
        judges = list(dict.fromkeys(effect["judge"]))
        width = 0.8 / max(len(judges), 1)
        for i, judge in enumerate(judges):
            part = effect[effect["judge"] == judge]
            x = part["bin"].to_numpy(float) + (i - (len(judges) - 1) / 2) * width
            rate = part["longer_rate"].to_numpy(float)
            err = _errors(rate, part["lower"], part["upper"])
            ax.errorbar(x, rate, yerr=err, fmt="o", label=_short(judge), capsize=2)
        bins = effect.drop_duplicates("bin").sort_values("bin")
        ticks = [
            f"×{lo:.1f}–{hi:.1f}"
            for lo, hi in zip(bins["ratio_low"], bins["ratio_high"], strict=True)
        ]
        ax.set_xticks(bins["bin"].to_numpy(float), ticks)
        ax.set_ylim(0, 1)
        ax.set_xlabel("length ratio, longer / shorter response")
        ax.set_ylabel("share won by the longer")
        ax.legend(fontsize=7, frameon=False)
        return to_svg(fig)


_SCRIPT = re.compile(r"<\s*script", re.IGNORECASE)


def is_inert_svg(svg: str) -> bool:
    """True when an SVG holds no script element (a guard used by the tests)."""
    return _SCRIPT.search(svg) is None
