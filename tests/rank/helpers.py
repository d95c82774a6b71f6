"""Seeded battle generators shared by the rank tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_counts(theta: np.ndarray, n: int, seed: int):
    """Aggregated counts of ``n`` seeded BT battles without ties (no table)."""
    from prefkit.rank.aggregate import aggregate_arrays

    rng = np.random.default_rng(seed)
    m = len(theta)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1 / (1 + np.exp(theta[b] - theta[a]))
    outcome = (rng.random(n) >= p).astype(np.int64)
    return aggregate_arrays(a, b, outcome, [f"m{k:02d}" for k in range(m)])


def simulate(
    theta: np.ndarray,
    n: int,
    seed: int,
    *,
    ties: str = "none",
    eta: float = 0.0,
) -> pd.DataFrame:
    """Battles between uniformly drawn pairs under BT (optionally with ties)."""
    rng = np.random.default_rng(seed)
    m = len(theta)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    d = theta[a] - theta[b]
    if ties == "rao-kupper":
        pa = 1 / (1 + np.exp(eta - d))
        pb = 1 / (1 + np.exp(eta + d))
    elif ties == "davidson":
        z = np.stack([d / 2, -d / 2, np.full(n, eta)], 1)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        pa, pb = p[:, 0], p[:, 1]
    else:
        pa = 1 / (1 + np.exp(-d))
        pb = 1 - pa
    u = rng.random(n)
    winner = np.where(u < pa, "a", np.where(u < pa + pb, "b", "tie"))
    names = np.array([f"m{k:02d}" for k in range(m)])
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})


def battles(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """A comparisons table from (model_a, model_b, winner) triples."""
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


def from_win_matrix(W: np.ndarray, names: str) -> pd.DataFrame:
    """Battles where row model beat column model ``W[i, j]`` times."""
    rows = []
    for i in range(len(W)):
        for j in range(len(W)):
            rows += [(names[i], names[j], "a")] * int(W[i, j])
    return battles(rows)
