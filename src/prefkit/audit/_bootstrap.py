"""The cluster bootstrap every audit figure shares.

Items that answer the same prompt are not independent (a hard prompt makes
every judge err on it), so CIs resample whole prompts: each round draws
``n_clusters`` prompts with replacement and gives every row the number of
times its prompt was drawn as a weight. Figures are therefore written as
functions of a row-weight vector ``w``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[Any]
Statistic = Callable[[FloatArray], float]


@dataclass(frozen=True)
class Estimate:
    """A figure with its percentile CI.

    Attributes
    ----------
    value : float
        The figure on the data as given (unit weights).
    lower, upper : float
        Percentile bootstrap bounds (NaN when no CI could be formed).
    n : int
        Rows the figure used.
    """

    value: float
    lower: float
    upper: float
    n: int


def cluster_codes(clusters: NDArray[np.object_] | None, n: int) -> NDArray[np.intp]:
    """Integer cluster codes; every row is its own cluster when ``clusters`` is None."""
    if clusters is None:
        return np.arange(n, dtype=np.intp)
    _, codes = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    return codes.astype(np.intp)


def cluster_bootstrap(
    statistic: Statistic,
    codes: NDArray[np.intp],
    *,
    rounds: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    n: int | None = None,
) -> Estimate:
    """Percentile CI of ``statistic(w)`` resampling clusters with replacement.

    Parameters
    ----------
    statistic : callable
        ``statistic(w) -> float`` for a row-weight vector ``w`` of shape
        ``(n_rows,)``; it may return NaN when a resample leaves it undefined
        (such rounds are dropped).
    codes : array of shape (n_rows,)
        Cluster code of every row, ``0 .. n_clusters - 1``.
    rounds : int, default=1000
        Bootstrap rounds; 0 gives the value with NaN bounds.
    alpha : float, default=0.05
        One minus the CI level.
    seed : int, default=0
        Seed of the resampling.
    n : int or None, default=None
        Rows counted in the result (defaults to ``len(codes)``).

    Returns
    -------
    Estimate
    """
    n_rows = len(codes)
    value = float(statistic(np.ones(n_rows)))
    if rounds <= 0 or n_rows == 0 or not np.isfinite(value):
        return Estimate(value, np.nan, np.nan, n_rows if n is None else n)
    n_clusters = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    draws = np.empty(rounds)
    for r in range(rounds):
        counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters))
        draws[r] = statistic(counts[codes].astype(np.float64))
    draws = draws[np.isfinite(draws)]
    if len(draws) < max(10, rounds // 2):
        return Estimate(value, np.nan, np.nan, n_rows if n is None else n)
    lower, upper = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Estimate(value, float(lower), float(upper), n_rows if n is None else n)


def weighted_mean(x: FloatArray, w: FloatArray) -> float:
    """``sum(w x) / sum(w)``, NaN when the weights sum to zero."""
    total = float(w.sum())
    return float(np.dot(w, x) / total) if total > 0 else float("nan")
