"""Online Elo: a hand-computed update, order dependence and its warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from prefkit.errors import OrderDependenceWarning, PrefkitError
from prefkit.rank import LeaderboardError, fit_elo, leaderboard

from .helpers import battles, simulate


def test_one_update_by_hand():
    """K=32 from 1000/1000: the winner gains 16 and the loser drops 16."""
    with pytest.warns(OrderDependenceWarning):
        result = fit_elo(battles([("x", "y", "a")]), k=32)
    assert result.ratings.to_dict() == pytest.approx({"x": 1016.0, "y": 984.0})


def test_two_updates_by_hand():
    """A tie after a win moves the ratings back by K (0.5 - E)."""
    with pytest.warns(OrderDependenceWarning):
        result = fit_elo(battles([("x", "y", "a"), ("x", "y", "tie")]), k=32)
    expected = 1 / (1 + 10 ** ((984 - 1016) / 400))
    assert result.ratings["x"] == pytest.approx(1016 + 32 * (0.5 - expected))
    assert result.ratings["y"] == pytest.approx(984 - 32 * (0.5 - expected))


def test_order_dependence_is_warned_and_real():
    """Reversing the battles changes online Elo, and the warning says by how much."""
    df = battles([("x", "y", "a")] * 20 + [("y", "x", "a")] * 20)
    with pytest.warns(
        OrderDependenceWarning, match=r"reversing it moves a rating by up to \d"
    ):
        forward = fit_elo(df, k=32)
    with pytest.warns(OrderDependenceWarning):
        backward = fit_elo(df.iloc[::-1], k=32)
    assert forward.ratings["x"] < 1000 < backward.ratings["x"]
    assert forward.order_spread > 50


def test_permutation_average_is_order_free_and_silent():
    """Averaged over random orders, reversing the input barely moves the ratings."""
    df = simulate(np.array([0.5, 0.0, -0.5]), 600, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forward = fit_elo(df, permutations=200, seed=3)
        backward = fit_elo(df.iloc[::-1], permutations=200, seed=3)
    # different random orders, so equal up to Monte Carlo noise only
    np.testing.assert_allclose(forward.ratings, backward.ratings, atol=2.0)
    # and it orders the models as the truth does
    assert list(forward.ratings.sort_values(ascending=False).index) == [
        "m00",
        "m01",
        "m02",
    ]


def test_elo_leaderboard_bootstrap_and_errors():
    """The Elo board takes bootstrap intervals and refuses sandwich ones."""
    df = simulate(np.array([0.5, 0.0, -0.5]), 500, 2)
    board = leaderboard(df, model="elo", ci="bootstrap", rounds=50, permutations=20)
    assert (board.table.lower <= board.table.rating).all()
    assert board.table.model.tolist() == ["m00", "m01", "m02"]
    with pytest.raises(
        LeaderboardError, match="ci='sandwich' has no meaning for online Elo"
    ):
        leaderboard(df, model="elo", ci="sandwich")
    with pytest.raises(
        LeaderboardError, match=r"unknown option.*kk; it accepts k, perm"
    ):
        leaderboard(df, model="elo", ci="none", kk=3)
    with pytest.raises(PrefkitError, match=r"k=-1\.0 is not a valid Elo K-factor"):
        fit_elo(df, k=-1.0)
    with pytest.raises(PrefkitError, match="permutations=-2 must be >= 0"):
        fit_elo(df, permutations=-2)
