"""The real LLMFAO crowd votes: the leaderboard against an independent fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from prefkit.rank import leaderboard

from ..conftest import need


def llmfao_crowd(shared_data) -> pd.DataFrame:
    """LLMFAO crowd votes as a comparisons table (left = a, right = b)."""
    raw = pd.read_json(
        need(shared_data / "llmfao" / "crowd-comparisons.jsonl"), lines=True
    )
    return pd.DataFrame(
        {
            "model_a": raw["left"],
            "model_b": raw["right"],
            "winner": raw["winner"].map({"left": "a", "right": "b", "tie": "tie"}),
        }
    )


def scipy_reference(df: pd.DataFrame) -> pd.Series:
    """Ties-as-half BT by scipy L-BFGS on per-pair counts, written independently."""
    names = sorted(set(df.model_a) | set(df.model_b))
    pos = {n: k for k, n in enumerate(names)}
    a = df.model_a.map(pos).to_numpy()
    b = df.model_b.map(pos).to_numpy()
    y = df.winner.map({"a": 1.0, "b": 0.0, "tie": 0.5}).to_numpy()
    m = len(names)

    def objective(theta):
        d = theta[a] - theta[b]
        nll = np.sum(y * np.logaddexp(0, -d) + (1 - y) * np.logaddexp(0, d))
        r = y - 1 / (1 + np.exp(-d))
        grad = np.bincount(a, r, m) - np.bincount(b, r, m)
        return nll, -grad

    res = minimize(
        objective,
        np.zeros(m),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10_000},
    )
    theta = res.x - res.x.mean()
    return pd.Series(1000 + 400 / np.log(10) * theta, index=names)


def test_llmfao_crowd_matches_independent_fit(shared_data):
    """On 8,931 real crowd votes, ratings agree with a scipy fit within 0.5 points."""
    df = llmfao_crowd(shared_data)
    board = leaderboard(df, ties="half", ci="bootstrap", rounds=200)
    ours = board.table.set_index("model").rating
    ref = scipy_reference(df)
    assert len(ours) == len(ref) == 59
    assert (ours - ref.loc[ours.index]).abs().max() < 0.5
    assert board.converged_
    tab = board.table
    assert ((tab.lower < tab.rating) & (tab.rating < tab.upper)).all()
    assert (tab.rank_lower <= tab["rank"]).all() and (
        tab["rank"] <= tab.rank_upper
    ).all()
