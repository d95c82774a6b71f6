"""The intransitive model: cycles that Bradley-Terry cannot represent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitError
from prefkit.rank import LeaderboardError, compare_heldout, fit_bt, fit_gpm, leaderboard
from prefkit.rank.aggregate import aggregate
from prefkit.rank.gpm import gpm_objective

from .helpers import simulate


def cyclic_battles(n: int, seed: int, p: float = 0.85) -> pd.DataFrame:
    """A beats B, B beats C, C beats A, each with probability ``p``."""
    rng = np.random.default_rng(seed)
    pairs = np.array([("A", "B"), ("B", "C"), ("C", "A")])
    k = rng.integers(0, 3, n)
    won = rng.random(n) < p
    return pd.DataFrame(
        {
            "model_a": pairs[k, 0],
            "model_b": pairs[k, 1],
            "winner": np.where(won, "a", "b"),
        }
    )


def test_cycle_bt_is_at_chance_and_gpm_is_not():
    """On a 3-cycle, BT predicts 50% everywhere; the embedding recovers 85%."""
    df = cyclic_battles(3000, 1)
    bt = fit_bt(df)
    np.testing.assert_allclose(bt.theta, 0.0, atol=0.05)
    gpm = fit_gpm(df, dim=1, l2=1e-3)
    win = gpm.win_probabilities()
    for a, b in [("A", "B"), ("B", "C"), ("C", "A")]:
        assert win.loc[a, b] == pytest.approx(0.85, abs=0.03)
        assert win.loc[b, a] == pytest.approx(0.15, abs=0.03)
    assert gpm.cyclic_share > 0.95


def test_heldout_likelihood_prefers_gpm_on_cycles_only():
    """Held out, the embedding beats BT on cyclic data and ties it on BT data."""
    cyc = compare_heldout(cyclic_battles(3000, 2), seed=1)
    assert cyc["bt"] == pytest.approx(np.log(0.5), abs=0.01)
    assert cyc["gpm"] > cyc["bt"] + 0.2
    trans = compare_heldout(simulate(np.array([0.6, 0.0, -0.3, -0.5]), 4000, 3), seed=1)
    assert abs(trans["gpm"] - trans["bt"]) < 0.01
    assert trans["cyclic_share"] < 0.05


def test_gpm_gradient_matches_finite_differences():
    """The analytic gradient of the GPM objective agrees with central differences."""
    data = aggregate(
        simulate(np.array([0.3, 0.0, -0.2, 0.1]), 500, 4, ties="rao-kupper", eta=0.3)
    )
    w = np.random.default_rng(0).normal(size=4 + 4 * 4)
    _, g = gpm_objective(w, data, 2, 0.1)
    h = 1e-6
    num = [
        (gpm_objective(w + e, data, 2, 0.1)[0] - gpm_objective(w - e, data, 2, 0.1)[0])
        / (2 * h)
        for e in np.eye(len(w)) * h
    ]
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_gpm_leaderboard_and_errors():
    """The gpm board reports the cyclic share; bootstrap and bad options are refused."""
    board = leaderboard(cyclic_battles(900, 5), model="gpm")
    assert board.extras["cyclic_share"] > 0.9
    assert (board.table.upper - board.table.lower).max() < 100
    with pytest.raises(
        LeaderboardError, match="ci='bootstrap' is not available for model='gpm'"
    ):
        leaderboard(cyclic_battles(100, 5), model="gpm", ci="bootstrap")
    with pytest.raises(PrefkitError, match="dim=0 must be an integer >= 1"):
        fit_gpm(cyclic_battles(100, 5), dim=0)
    with pytest.raises(PrefkitError, match=r"test_fraction=1\.5 must be in"):
        compare_heldout(cyclic_battles(100, 5), test_fraction=1.5)
