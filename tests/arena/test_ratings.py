"""The arena's live Bradley-Terry fit, rank intervals and judge agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.arena.board import build_board
from prefkit.arena.ratings import (
    ANCHOR,
    SCALE,
    agreement,
    bt_gradient,
    bt_hessian,
    bt_objective,
    fit_bt,
    judges_on_human_pairs,
    leaderboard_table,
    rank_intervals,
    wilson_interval,
)
from prefkit.errors import PrefkitError


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, 4, 30)
    j = (i + rng.integers(1, 4, 30)) % 4
    y = rng.choice([0.0, 0.5, 1.0], 30)
    return rng.normal(size=4), i, j, y


def test_gradient_matches_finite_differences():
    """The analytic gradient agrees with central differences."""
    theta, i, j, y = _data()
    eps = 1e-6
    numeric = [
        (
            bt_objective(theta + eps * e, i, j, y, 0.1)
            - bt_objective(theta - eps * e, i, j, y, 0.1)
        )
        / (2 * eps)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(bt_gradient(theta, i, j, y, 0.1), numeric, atol=1e-6)


def test_hessian_matches_finite_differences_of_gradient():
    """The Hessian is the derivative of the gradient."""
    theta, i, j, y = _data(1)
    eps = 1e-6
    numeric = np.array(
        [
            (
                bt_gradient(theta + eps * e, i, j, y, 0.1)
                - bt_gradient(theta - eps * e, i, j, y, 0.1)
            )
            / (2 * eps)
            for e in np.eye(4)
        ]
    )
    np.testing.assert_allclose(bt_hessian(theta, i, j, 0.1), numeric, atol=1e-6)


def test_two_models_three_wins_in_four_give_log_three():
    """x beats y 3 times in 4: the strength gap is ln 3 (up to the tiny ridge)."""
    t = pd.DataFrame(
        {"model_a": ["x"] * 4, "model_b": ["y"] * 4, "winner": ["a", "a", "a", "b"]}
    )
    fit = fit_bt(t, l2=1e-9)
    assert fit.converged_
    assert fit.theta[0] - fit.theta[1] == pytest.approx(np.log(3), abs=1e-6)
    # Var(theta_x - theta_y) = 1 / (n p (1 - p)) = 1 / (4 * 3/16) = 4/3
    var_gap = fit.cov[0, 0] + fit.cov[1, 1] - 2 * fit.cov[0, 1]
    assert var_gap == pytest.approx(4 / 3, rel=1e-5)


def test_a_tie_counts_half_a_win_each():
    """One win each way plus ties leaves two models level."""
    t = pd.DataFrame(
        {
            "model_a": ["x", "y", "x"],
            "model_b": ["y", "x", "y"],
            "winner": ["a", "a", "tie"],
        }
    )
    fit = fit_bt(t)
    assert fit.theta[0] == pytest.approx(fit.theta[1], abs=1e-9)


def test_recovers_known_strengths_from_seeded_battles():
    """With 20000 simulated battles the fitted gaps match the true ones."""
    rng = np.random.default_rng(7)
    truth = np.array([1.0, 0.3, 0.0, -0.5, -0.8])
    i = rng.integers(0, 5, 20000)
    j = (i + rng.integers(1, 5, 20000)) % 5
    p = 1 / (1 + np.exp(-(truth[i] - truth[j])))
    t = pd.DataFrame(
        {
            "model_a": [f"m{k}" for k in i],
            "model_b": [f"m{k}" for k in j],
            "winner": np.where(rng.random(20000) < p, "a", "b"),
        }
    )
    fit = fit_bt(t, l2=1e-6)
    np.testing.assert_allclose(fit.theta, truth - truth.mean(), atol=0.06)


def test_permuting_rows_and_renaming_keeps_the_ratings():
    """Shuffling rows and swapping the a/b sides of each row changes nothing."""
    rng = np.random.default_rng(3)
    t = pd.DataFrame(
        {
            "model_a": rng.choice(["x", "y", "z"], 60),
            "model_b": rng.choice(["u", "v"], 60),
            "winner": rng.choice(["a", "b", "tie"], 60),
        }
    )
    flipped = t.rename(columns={"model_a": "model_b", "model_b": "model_a"})
    flipped["winner"] = flipped["winner"].map({"a": "b", "b": "a", "tie": "tie"})
    shuffled = flipped.sample(frac=1.0, random_state=1)
    a, b = fit_bt(t), fit_bt(shuffled)
    assert a.models == b.models
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-9)


def test_fit_rejects_a_non_positive_ridge():
    """l2 must be positive; the message says what was given."""
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    with pytest.raises(PrefkitError, match=r"l2 must be positive \(got 0"):
        fit_bt(t, l2=0.0)


def test_rank_intervals_by_hand():
    """Overlapping intervals share ranks; separated ones do not."""
    lower = np.array([10.0, 8.0, 1.0])
    upper = np.array([12.0, 11.0, 2.0])
    best, worst = rank_intervals(lower, upper)
    assert best.tolist() == [1, 1, 3]
    assert worst.tolist() == [2, 2, 3]


def test_leaderboard_table_scale_and_order():
    """Ratings are 1000 + 400/ln10 * theta, best first, with the contract columns."""
    t = pd.DataFrame(
        {"model_a": ["x"] * 4, "model_b": ["y"] * 4, "winner": ["a", "a", "a", "b"]}
    )
    table = leaderboard_table(fit_bt(t, l2=1e-9))
    assert table["model"].tolist() == ["x", "y"]
    assert table["rating"].iloc[0] == pytest.approx(ANCHOR + SCALE * np.log(3) / 2)
    assert list(table.columns) == [
        "model", "rating", "lower", "upper", "rank", "rank_lower", "rank_upper",
        "n_battles",
    ]  # fmt: skip
    assert table["n_battles"].tolist() == [4, 4]


def test_wilson_interval_published_value():
    """Wilson's interval for 8 of 10 at 95% is (0.490, 0.943)."""
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_judge_verdict_is_relabelled_into_the_human_order():
    """A judge that saw (y, x) and said 'a' agrees with a human 'b' on (x, y)."""
    human = pd.DataFrame(
        {"prompt_id": ["1"], "model_a": ["x"], "model_b": ["y"], "winner": ["b"]}
    )
    verdicts = pd.DataFrame(
        {
            "prompt_id": ["1", "2"],
            "model_a": ["y", "x"],
            "model_b": ["x", "y"],
            "judge": ["j", "j"],
            "winner": ["a", "a"],
        }
    )
    paired = judges_on_human_pairs(human, verdicts)
    assert paired["judge_winner"].tolist() == ["b"]
    row = agreement(paired).iloc[0]
    assert (row["judge"], row["n"], row["agree"], row["rate"]) == ("j", 1, 1, 1.0)


def test_board_fits_judges_on_the_same_pairs_only():
    """The judge board uses only verdicts on pairs people voted on."""
    human = pd.DataFrame(
        {
            "prompt_id": ["1", "2", "3"],
            "model_a": ["x", "x", "y"],
            "model_b": ["y", "y", "z"],
            "winner": ["a", "tie", "b"],
            "judge": ["v1", "v2", "v1"],
        }
    )
    verdicts = pd.DataFrame(
        {
            "prompt_id": ["1", "2", "9"],
            "model_a": ["x", "y", "x"],
            "model_b": ["y", "x", "z"],
            "judge": ["j", "j", "j"],
            "winner": ["a", "a", "a"],
        }
    )
    board = build_board(human, verdicts)
    assert (board.n_votes, board.n_voters) == (3, 2)
    assert sorted(board.judges["j"]["model"]) == ["x", "y"]
    assert board.judges["j"]["n_battles"].tolist() == [2, 2]
    assert board.agreement["n"].tolist() == [2]
    assert board.agreement["agree"].tolist() == [1]


def _simulated(n: int, models: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = np.linspace(1.0, -1.0, models)
    i = rng.integers(0, models, n)
    j = (i + rng.integers(1, models, n)) % models
    p = 1 / (1 + np.exp(-(truth[i] - truth[j])))
    return pd.DataFrame(
        {
            "prompt_id": [str(k) for k in range(n)],
            "model_a": [f"m{k}" for k in i],
            "model_b": [f"m{k}" for k in j],
            "winner": np.where(rng.random(n) < p, "a", "b"),
            "judge": "v",
        }
    )


def test_board_uses_prefkit_rank_once_every_model_has_enough_battles():
    """With 30+ battles a model the board is prefkit.rank's sandwich leaderboard."""
    from prefkit.arena.board import L2
    from prefkit.rank import leaderboard

    human = _simulated(400, 4, 0)
    board = build_board(human, pd.DataFrame())
    assert board.notes["human"] == "Bradley-Terry with sandwich intervals"
    expected = leaderboard(human[["model_a", "model_b", "winner"]], l2=L2).table
    pd.testing.assert_frame_equal(
        board.human.reset_index(drop=True),
        expected.loc[:, board.human.columns].reset_index(drop=True),
    )


def test_board_early_uses_wide_ridge_intervals():
    """With a handful of votes the note says ridge/Wald, and intervals are wide."""
    human = _simulated(6, 3, 1)
    board = build_board(human, pd.DataFrame())
    assert board.notes["human"].startswith("ridge Bradley-Terry with Wald")
    assert ((board.human["upper"] - board.human["lower"]) > 400).all()
