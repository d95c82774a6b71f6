"""Tests of the position, length and uncertainty summaries behind the report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from prefkit.report.effects import (
    expand_orders,
    item_uncertainty,
    length_effect,
    picked_first,
    position_effect,
    uncertain_items,
    wilson_interval,
)
from tests.report.conftest import make_comparisons


def test_wilson_interval_matches_the_textbook_case() -> None:
    """8 successes in 10 give the Wilson 95% interval (0.490, 0.943)."""
    lower, upper = wilson_interval(8, 10)
    assert math.isclose(lower, 0.4902, abs_tol=1e-4)
    assert math.isclose(upper, 0.9433, abs_tol=1e-4)


def test_wilson_interval_of_nothing_is_nan() -> None:
    """No trials give an undefined interval, not a number."""
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_picked_first_reads_winner_with_display_order() -> None:
    """The first slot won when a won unswapped or b won swapped."""
    winner = pd.Series(["a", "b", "a", "b"])
    swapped = pd.Series([False, False, True, True])
    assert picked_first(winner, swapped).tolist() == [True, False, False, True]


def test_position_effect_recovers_the_seeded_first_rate() -> None:
    """A judge that picks the first slot 80% of the time is measured near 0.8."""
    effect = position_effect(make_comparisons(n=2000, first_rate=0.8, seed=1))
    row = effect.iloc[0]
    assert row["n"] == 2000
    assert row["lower"] < 0.8 < row["upper"]
    assert abs(row["first_rate"] - 0.8) < 0.03


def test_position_effect_leaves_out_ties_and_splits_judges() -> None:
    """Ties do not count and each judge gets its own row."""
    table = pd.DataFrame(
        {
            "model_a": ["x"] * 4,
            "model_b": ["y"] * 4,
            "winner": ["a", "tie", "a", "b"],
            "swapped": [False, False, True, True],
            "judge": ["j1", "j1", "j2", "j2"],
        }
    )
    effect = position_effect(table).set_index("judge")
    assert effect.loc["j1", "n"] == 1 and effect.loc["j1", "first_rate"] == 1.0
    assert effect.loc["j2", "n"] == 2 and effect.loc["j2", "first_rate"] == 0.5


def test_position_effect_without_order_is_empty() -> None:
    """A table with no display order yields no position rows."""
    table = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    assert position_effect(table).empty


def test_length_effect_of_a_judge_that_always_prefers_longer() -> None:
    """A judge choosing the longer side scores 1.0 in every bin; ties of length drop."""
    rng = np.random.default_rng(0)
    len_a = rng.integers(1, 300, size=200)
    len_b = rng.integers(1, 300, size=200)
    table = pd.DataFrame(
        {
            "model_a": "x",
            "model_b": "y",
            "response_a": ["a" * n for n in len_a],
            "response_b": ["b" * n for n in len_b],
            "winner": np.where(len_a >= len_b, "a", "b"),
        }
    )
    effect = length_effect(table, n_bins=4)
    assert (effect["longer_rate"] == 1.0).all()
    assert effect["n"].sum() == int((len_a != len_b).sum())
    assert len(effect) == 4


def test_item_uncertainty_falls_back_to_p_a() -> None:
    """Without an uncertainty column, p_a = 0.5 is most uncertain and 0 or 1 least."""
    table = pd.DataFrame({"p_a": [0.5, 1.0, 0.25]})
    assert item_uncertainty(table).tolist() == [1.0, 0.0, 0.5]


def test_uncertain_items_groups_both_orders_and_sorts() -> None:
    """Both orders of an item are listed together; the most uncertain comes first."""
    table = pd.DataFrame(
        {
            "prompt_id": ["1", "1", "2", "2", "3", "3"],
            "model_a": ["x", "y", "x", "y", "x", "y"],
            "model_b": ["y", "x", "y", "x", "y", "x"],
            "winner": ["a", "a", "a", "b", "a", "b"],
            "uncertainty": [0.9, 0.9, 0.2, 0.2, 0.9, 0.9],
        }
    )
    items = uncertain_items(table, n=2)
    assert [len(rows) for rows in items] == [2, 2]
    # item 1's two orders disagree about x vs y; item 3's agree: 1 goes first
    assert items[0]["prompt_id"].tolist() == ["1", "1"]
    assert items[1]["prompt_id"].tolist() == ["3", "3"]


def test_expand_orders_splits_dual_order_rows() -> None:
    """A dual-order row becomes one row per shown order with that order's verdict."""
    table = pd.DataFrame(
        {
            "model_a": ["x", "x"],
            "model_b": ["y", "y"],
            "winner": ["tie", "a"],
            "p_a": [0.5, 0.9],
            "winner_ab": ["a", "a"],
            "winner_ba": ["b", None],
            "p_a_ab": [0.8, 0.9],
            "p_a_ba": [0.2, None],
        }
    )
    out = expand_orders(table)
    assert len(out) == 3
    assert out["swapped"].tolist() == [False, False, True]
    assert out["winner"].tolist() == ["a", "a", "b"]
    assert out["p_a"].tolist() == [0.8, 0.9, 0.2]
    # the A/B judge always picking the first slot: a in (a, b), b in (b, a)
    assert position_effect(table).iloc[0]["first_rate"] == 1.0


def test_rows_without_orders_get_no_display_order() -> None:
    """A jury's combined rows in a dual-order table count in no position figure."""
    table = pd.DataFrame(
        {
            "model_a": ["x", "x"],
            "model_b": ["y", "y"],
            "winner": ["a", "a"],
            "swapped": [False, False],
            "judge": ["ab", "jury"],
            "winner_ab": ["a", None],
            "winner_ba": ["b", None],
        }
    )
    out = expand_orders(table)
    assert out[out["judge"] == "jury"]["swapped"].isna().all()
    assert position_effect(table)["judge"].tolist() == ["ab"]
