"""The leaderboard contract, style control and option validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from prefkit.rank import (
    ControlError,
    LeaderboardError,
    UnknownNameError,
    battle_counts,
    leaderboard,
    win_rate_matrix,
)
from prefkit.rank.style import normalised_difference, rms_scale, text_feature

from .helpers import battles, simulate

COLUMNS = [
    "model",
    "rating",
    "lower",
    "upper",
    "rank",
    "rank_lower",
    "rank_upper",
    "n_battles",
]


def test_table_contract_and_ordering():
    """Columns, best-first order, centring at 1000 and the win-probability matrix."""
    df = simulate(np.array([0.5, -0.5, 0.0]), 3000, 1)
    board = leaderboard(df)
    assert board.table.columns.tolist() == COLUMNS
    assert board.table.model.tolist() == ["m00", "m02", "m01"]
    assert board.table.rating.mean() == pytest.approx(1000.0)
    assert board.table.n_battles.sum() == 2 * 3000
    win = board.win_probabilities
    assert win.index.tolist() == board.table.model.tolist()
    np.testing.assert_allclose(win.to_numpy() + win.to_numpy().T, 1.0)
    gap = board.table.rating.iloc[0] - board.table.rating.iloc[1]
    assert win.iloc[0, 1] == pytest.approx(1 / (1 + 10 ** (-gap / 400)))
    assert board.coefficients is None and board.tie_parameter is None
    json.dumps(board.to_dict())


def test_anchor_pins_a_model_and_shifts_only():
    """Anchoring puts the named model at 1000 and shifts every rating equally."""
    df = simulate(np.array([0.5, -0.5, 0.0]), 3000, 1)
    free = leaderboard(df).table.set_index("model")
    pinned = leaderboard(df, anchor="m01").table.set_index("model")
    assert pinned.loc["m01", "rating"] == pytest.approx(1000.0)
    shift = pinned.rating - free.rating
    np.testing.assert_allclose(shift, shift.iloc[0])
    # the anchor has no uncertainty of its own
    assert pinned.loc["m01", "upper"] == pytest.approx(1000.0)


def test_scale_and_base_are_applied():
    """Scale 1 and base e give ratings in natural log-odds around initial 0."""
    df = simulate(np.array([0.5, -0.5]), 4000, 2)
    board = leaderboard(df, scale=1.0, base=np.e, initial=0.0)
    top, bottom = board.table.rating
    assert top - bottom == pytest.approx(1.0, abs=0.15)


def test_style_control_recovers_coefficient_and_removes_length_bias():
    """A length effect is estimated within its CI and taken out of the ratings."""
    rng = np.random.default_rng(5)
    m, n = 4, 20_000
    theta = np.array([0.3, 0.1, -0.1, -0.3])
    verbose = np.array(
        [4.0, 1.0, 1.0, 1.0]
    )  # the worst-but-one... model m00 writes long
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    la = rng.poisson(50 * verbose[a]) + 1
    lb = rng.poisson(50 * verbose[b]) + 1
    x = rms_scale(normalised_difference(la * 1.0, lb * 1.0)[:, None])[:, 0]
    beta = 0.6
    p = 1 / (1 + np.exp(-(theta[a] - theta[b] + beta * x)))
    winner = np.where(rng.random(n) < p, "a", "b")
    names = np.array([f"m{k}" for k in range(m)])
    df = pd.DataFrame(
        {
            "model_a": names[a],
            "model_b": names[b],
            "winner": winner,
            "response_a": ["w " * k for k in la],
            "response_b": ["w " * k for k in lb],
        }
    )
    board = leaderboard(df, control=["length"], ties="drop")
    coef = board.coefficients.set_index("feature").loc["length"]
    assert coef.lower <= beta <= coef.upper
    tab = board.table.set_index("model").loc[list(names)]
    truth = 1000 + 400 / np.log(10) * (theta - theta.mean())
    np.testing.assert_allclose(tab.rating, truth, atol=12)
    # without control the verbose model is overrated by far more than that
    assert tab.rating_raw["m0"] - truth[0] > 40
    assert board.table.columns.tolist() == [
        *COLUMNS,
        "rating_raw",
        "lower_raw",
        "upper_raw",
    ]


def test_text_features_count_markdown():
    """Tokens, headers, bold spans and list items are counted per response."""
    text = pd.Series(
        ["# Title\nsome **bold** and __more__\n- one\n- two\n1. three", ""]
    )
    assert text_feature(text, "length").tolist() == [12.0, 0.0]
    assert text_feature(text, "header").tolist() == [1.0, 0.0]
    assert text_feature(text, "bold").tolist() == [2.0, 0.0]
    assert text_feature(text, "list").tolist() == [3.0, 0.0]
    np.testing.assert_allclose(
        normalised_difference(np.array([3.0, 0.0]), np.array([1.0, 0.0])), [0.5, 0.0]
    )


def test_user_feature_columns():
    """A control name may refer to f_a/f_b columns or a ready difference column."""
    df = simulate(np.array([0.2, 0.0, -0.2]), 2000, 7)
    rng = np.random.default_rng(0)
    df["score_a"] = rng.uniform(1, 2, len(df))
    df["score_b"] = rng.uniform(1, 2, len(df))
    df["diff"] = rng.normal(size=len(df))
    board = leaderboard(df, control="score,diff")
    assert board.coefficients.feature.tolist() == ["score", "diff"]
    # neither feature matters in this data
    assert ((board.coefficients.lower < 0) & (board.coefficients.upper > 0)).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"model": "trueskill"},
            UnknownNameError,
            "model='trueskill' is not a ranker; use one of bt, elo, pl, gpm",
        ),
        (
            {"ci": "jackknife"},
            UnknownNameError,
            "ci='jackknife' is not an interval method",
        ),
        (
            {"rounds": 1, "ci": "bootstrap"},
            LeaderboardError,
            "rounds=1 must be an integer >= 2",
        ),
        ({"alpha": 1.5}, LeaderboardError, r"alpha=1.5 must be in \(0, 1\)"),
        (
            {"anchor": "nobody"},
            LeaderboardError,
            "anchor='nobody' is not a model of this table",
        ),
        (
            {"control": ["length"], "model": "elo", "ci": "none"},
            LeaderboardError,
            "control=.* works with model='bt' only",
        ),
        (
            {"control": ["length"]},
            ControlError,
            "needs the response texts; columns response_a, response_b are missing",
        ),
        (
            {"control": ["nothing"]},
            ControlError,
            "control feature 'nothing' is unknown",
        ),
        ({"scale": -400.0}, LeaderboardError, "rating scale .* is invalid"),
        ({"lr": 0.1}, LeaderboardError, "unknown option.*lr; it accepts l2, l2_style"),
    ],
)
def test_invalid_options(kwargs, error, match):
    """Every rejected option names itself, the value received and what to use."""
    df = simulate(np.array([0.2, 0.0, -0.2]), 300, 7)
    with pytest.raises(error, match=match):
        leaderboard(df, **kwargs)


def test_non_numeric_control_column_is_rejected():
    """A control column with text in it is refused with the row it is on."""
    df = battles([("x", "y", "a"), ("y", "x", "a")]).assign(diff=[0.1, "high"])
    with pytest.raises(ControlError, match="non-numeric or missing value on row 2"):
        leaderboard(df, control="diff")


def test_empirical_matrices():
    """Battle counts and observed win rates (ties as half) per pair."""
    df = battles([("x", "y", "a"), ("y", "x", "tie"), ("x", "z", "b")])
    counts = battle_counts(df)
    assert (
        counts.loc["x", "y"] == 2
        and counts.loc["y", "x"] == 2
        and counts.loc["y", "z"] == 0
    )
    rate = win_rate_matrix(df)
    assert rate.loc["x", "y"] == 0.75 and rate.loc["y", "x"] == 0.25
    assert rate.loc["z", "x"] == 1.0 and np.isnan(rate.loc["y", "z"])


def test_style_control_bootstrap_agrees_with_sandwich():
    """Bootstrap and sandwich intervals of a style coefficient have similar widths."""
    rng = np.random.default_rng(8)
    df = simulate(np.array([0.3, 0.0, -0.3]), 1500, 9, ties="rao-kupper", eta=0.3)
    df["verbosity"] = rng.normal(size=len(df))
    sand = leaderboard(df, control="verbosity", ties="rao-kupper")
    boot = leaderboard(
        df, control="verbosity", ties="rao-kupper", ci="bootstrap", rounds=200
    )
    w_sand = (sand.coefficients.upper - sand.coefficients.lower).iloc[0]
    w_boot = (boot.coefficients.upper - boot.coefficients.lower).iloc[0]
    assert w_boot == pytest.approx(w_sand, rel=0.25)
    tie = boot.tie_parameter
    assert tie["lower"] < np.exp(0.3) < tie["upper"]
    data = json.loads(json.dumps(boot.to_dict()))
    assert data["coefficients"][0]["feature"] == "verbosity"
    assert data["tie_parameter"]["name"] == "theta"
    assert set(data["table"][0]) >= {"rating_raw", "lower_raw", "upper_raw"}


def test_n_battles_counts_only_what_the_fit_used():
    """ties='drop' leaves ties out of n_battles; 'half' counts them."""
    df = battles([("x", "y", "a"), ("y", "x", "a"), ("x", "y", "tie")])
    df = pd.concat([df, battles([("y", "z", "a"), ("z", "y", "a")])])
    dropped = leaderboard(df, ties="drop").table.set_index("model")["n_battles"]
    assert dropped.to_dict() == {"x": 2, "y": 4, "z": 2}
    halved = leaderboard(df).table.set_index("model")["n_battles"]
    assert halved.to_dict() == {"x": 3, "y": 5, "z": 2}


def test_default_interval_method_follows_the_model():
    """ci=None is bootstrap for Elo and sandwich for Bradley-Terry."""
    df = simulate(np.array([0.3, 0.0, -0.3]), 300, 2)
    elo = leaderboard(df, model="elo", rounds=20, permutations=5)
    assert elo.settings["ci"] == "bootstrap"
    assert leaderboard(df).settings["ci"] == "sandwich"


def test_ties_option_is_refused_by_models_with_a_fixed_convention():
    """Elo counts a tie as half a win and says so rather than ignore ties=."""
    df = simulate(np.array([0.3, 0.0, -0.3]), 300, 2)
    with pytest.raises(
        LeaderboardError,
        match="ties='rao-kupper' applies to model='bt' only; model='elo' always",
    ):
        leaderboard(df, model="elo", ties="rao-kupper")
    # the model's own convention is accepted and recorded
    assert leaderboard(df, model="pl", ties="drop").settings["ties"] == "drop"
