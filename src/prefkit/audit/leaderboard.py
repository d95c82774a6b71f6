"""Leaderboard-level agreement between a judge and the human (gold) verdicts.

A small Bradley-Terry fit [BT52] by Newton's method (ties count
half a win to each side) ranks the models twice on the same items, once by
the judge and once by the gold labels; the audit compares the two.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit

FloatArray = NDArray[Any]


def win_matrix(
    i: NDArray[Any], j: NDArray[Any], score_i: FloatArray, w: FloatArray, n: int
) -> FloatArray:
    """``W[u, v]`` = weighted wins of ``u`` over ``v`` (a tie gives 1/2 each)."""
    W = np.zeros((n, n))
    np.add.at(W, (i, j), w * score_i)
    np.add.at(W, (j, i), w * (1 - score_i))
    return W


def bradley_terry(
    W: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-8,
    init: FloatArray | None = None,
) -> FloatArray:
    """Log-strengths maximising the BT likelihood of a win matrix (Newton steps).

    .. math:: \\ell(r) = \\sum_{u \\ne v} W'_{uv} \\log \\sigma(r_u - r_v),
        \\quad W' = W + \\epsilon

    A pseudo-win ``epsilon = 0.005`` each way between every two models keeps
    an unbeaten or winless model finite. Returned centred (mean zero);
    ``init`` (log-strengths) warm-starts the iteration.
    """
    n = len(W)
    Wp = W + 0.005 * (1 - np.eye(n))
    games = Wp + Wp.T
    wins = Wp.sum(axis=1)
    r = np.zeros(n) if init is None else init - np.mean(init)
    for _ in range(max_iter):
        P = expit(r[:, None] - r[None, :])
        grad = wins - (games * P).sum(axis=1)
        V = games * P * P.T
        hess = np.diag(V.sum(axis=1)) - V + 1e-9 * np.eye(n) + 1.0 / n
        step = np.linalg.solve(hess, grad)
        # Damped: a full Newton step can overshoot from a flat start.
        step *= min(1.0, 1.0 / max(np.max(np.abs(step)), 1e-12))
        r = r + step
        r -= r.mean()
        if np.max(np.abs(step)) < tol:
            break
    return r


def separability(lower: FloatArray, upper: FloatArray) -> float:
    """Share of model pairs whose rating CIs do not overlap."""
    n = len(lower)
    if n < 2:
        return float("nan")
    sep = 0
    for u in range(n):
        for v in range(u + 1, n):
            sep += int(lower[u] > upper[v] or lower[v] > upper[u])
    return sep / (n * (n - 1) / 2)


def flipped_pairs(
    models: list[str],
    judge_rating: FloatArray,
    gold_rating: FloatArray,
    gold_lower: FloatArray,
    gold_upper: FloatArray,
) -> pd.DataFrame:
    """Model pairs the judge orders the other way round from the gold leaderboard.

    ``gold_separated`` is True when the gold CIs of the two do not overlap (a
    flip that contradicts a clear human ordering).
    """
    rows = []
    n = len(models)
    for u in range(n):
        for v in range(u + 1, n):
            dg = gold_rating[u] - gold_rating[v]
            dj = judge_rating[u] - judge_rating[v]
            if dg * dj < 0:
                hi, lo = (u, v) if dg > 0 else (v, u)
                sep = gold_lower[hi] > gold_upper[lo]
                rows.append((models[hi], models[lo], abs(dg), abs(dj), bool(sep)))
    cols = ["gold_better", "judge_better", "gold_gap", "judge_gap", "gold_separated"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("gold_gap", ascending=False, ignore_index=True)
