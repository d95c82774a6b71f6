"""Empirical pair matrices: battles per pair and observed win rates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefkit.rank.aggregate import aggregate


def battle_counts(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Model x model number of battles (weighted), symmetric."""
    data = aggregate(comparisons)
    names = list(data.models)
    M = data.pair_matrix(data.counts.sum(axis=1))
    return pd.DataFrame(M, index=names, columns=names)


def win_rate_matrix(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Model x model observed share of battles the row won (a tie is half a win).

    Pairs that never met are NaN.
    """
    data = aggregate(comparisons)
    m, names = data.n_models, list(data.models)
    wins = np.zeros((m, m))
    c = data.counts
    np.add.at(wins, (data.i, data.j), c[:, 0] + 0.5 * c[:, 2])
    np.add.at(wins, (data.j, data.i), c[:, 1] + 0.5 * c[:, 2])
    total = data.pair_matrix(c.sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, wins / np.where(total > 0, total, 1.0), np.nan)
    return pd.DataFrame(rate, index=names, columns=names)
