"""Connectivity and existence of the maximum-likelihood ratings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from prefkit.rank import leaderboard
from prefkit.rank.graph import SeparationError, SeparationWarning, separation

from .helpers import battles

#: x beats y once, y ties z once: x never loses, y and z never win.
PERFECT = battles([("x", "y", "a"), ("y", "z", "tie")])


def test_separation_names_the_groups():
    """A chain x > y > z names x as never losing and z as never winning."""
    winner, loser = np.array([0, 1]), np.array([1, 2])
    assert separation(winner, loser, ["x", "y", "z"]) == (
        "{x} never lose to the other models and {z} never beat them"
    )


def test_a_cycle_is_strongly_connected():
    """x > y > z > x leaves nobody unbeaten: the ML ratings exist."""
    winner, loser = np.array([0, 1, 2]), np.array([1, 2, 0])
    assert separation(winner, loser, ["x", "y", "z"]) is None


def test_unbeaten_model_gives_unbounded_intervals():
    """A never-losing model warns by name and reports infinite intervals."""
    with pytest.warns(SeparationWarning, match=r"\{x\} never lose .* \{y, z\} never"):
        board = leaderboard(PERFECT)
    assert np.isneginf(board.table["lower"]).all()
    assert np.isposinf(board.table["upper"]).all()
    assert board.table["rank_lower"].tolist() == [1, 1, 1]
    assert board.table["rank_upper"].tolist() == [3, 3, 3]
    # JSON has no infinity: unbounded ends become null
    assert board.to_dict()["table"][0]["lower"] is None


def test_unbeaten_model_raises_when_strict():
    """strict=True refuses the board and points to the L2 prior."""
    with pytest.raises(SeparationError, match=r"pass l2 > 0 \(prefkit rank --l2"):
        leaderboard(PERFECT, strict=True)


def test_l2_prior_gives_finite_intervals_silently():
    """With l2 > 0 the estimate exists: no warning and finite intervals."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        board = leaderboard(PERFECT, l2=0.1)
    assert np.isfinite(board.table[["lower", "upper"]].to_numpy()).all()
    assert board.table["model"].iloc[0] == "x"


def test_drop_ties_count_no_edge():
    """Under ties='drop' the x-y tie links nothing, so x and y are separated."""
    df = battles([("x", "y", "tie"), ("x", "z", "a"), ("z", "x", "a")])
    df = pd.concat([df, battles([("z", "y", "a"), ("y", "z", "a")])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        leaderboard(df)
    df = battles([("x", "y", "tie"), ("y", "x", "tie"), ("x", "z", "a")])
    with pytest.warns(SeparationWarning, match=r"\{x, y\} never lose"):
        leaderboard(df, ties="drop")


def test_plackett_luce_unbeaten_item_is_unbounded():
    """Two rankings with x first: PL warns and its intervals are infinite."""
    rankings = pd.DataFrame(
        {"prompt_id": ["p1", "p2"], "ranked": [["x", "y", "z"], ["x", "z", "y"]]}
    )
    with pytest.warns(SeparationWarning, match=r"\{x\} never lose"):
        board = leaderboard(rankings, model="pl")
    assert np.isposinf(board.table["upper"]).all()
    assert board.table["rank_upper"].tolist() == [3, 3, 3]


def test_gpm_unbeaten_model_is_unbounded():
    """GPM's l2 shrinks only the embedding: a never-losing model still warns."""
    with pytest.warns(SeparationWarning, match="use model='bt' with l2 > 0"):
        board = leaderboard(PERFECT, model="gpm", dim=2)
    assert np.isposinf(board.table["upper"]).all()
