"""Tests of the Curry-DPO pair sampler in prefkit.curate."""

from __future__ import annotations

import pandas as pd
import pytest

from prefkit.curate.curriculum import CurationError, curriculum_pairs
from prefkit.errors import PrefkitDataError


def ratings() -> pd.DataFrame:
    """Two prompts: four rated responses (one tie) and two rated responses."""
    return pd.DataFrame(
        {
            "prompt_id": ["p"] * 4 + ["q"] * 2,
            "prompt": ["P"] * 4 + ["Q"] * 2,
            "model": ["a", "b", "c", "d", "a", "b"],
            "response": ["A", "B", "C", "D", "qa", "qb"],
            "score": [5.0, 4.0, 4.0, 1.0, 2.0, 3.5],
        }
    )


def test_all_pairs_skip_ties_and_sort_by_gap() -> None:
    """k = 4 with one tie gives 5 pairs; with prompt q, 6, gaps non-increasing."""
    out = curriculum_pairs(ratings())
    assert len(out) == 6
    assert out["gap"].is_monotonic_decreasing
    assert out["gap"].tolist() == [4.0, 3.0, 3.0, 1.5, 1.0, 1.0]
    assert (out["score_chosen"] > out["score_rejected"]).all()
    assert not ((out["model_chosen"] == "b") & (out["model_rejected"] == "c")).any()
    q = out[out["prompt_id"] == "q"].iloc[0]
    assert (q["chosen"], q["rejected"]) == ("qb", "qa")


def test_best_vs_rest() -> None:
    """best_vs_rest pairs the top response with each other one."""
    out = curriculum_pairs(ratings(), pairs="best_vs_rest")
    p = out[out["prompt_id"] == "p"]
    assert sorted(p["model_rejected"]) == ["b", "c", "d"]
    assert set(p["model_chosen"]) == {"a"}


def test_staged_order() -> None:
    """Staged order puts every prompt's easiest pair first."""
    out = curriculum_pairs(ratings(), order="staged")
    assert out["stage"].is_monotonic_increasing
    first = out[out["stage"] == 1]
    assert sorted(first["gap"]) == [1.5, 4.0]


def test_seed_breaks_ties_reproducibly() -> None:
    """Equal gaps keep a seeded order; the same seed gives the same table."""
    a = curriculum_pairs(ratings(), seed=3)
    b = curriculum_pairs(ratings(), seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_invalid_settings() -> None:
    """Unknown schemes and orders are refused with the valid ones."""
    with pytest.raises(CurationError, match="expected 'all' or 'best_vs_rest'"):
        curriculum_pairs(ratings(), pairs="random")  # type: ignore[arg-type]
    with pytest.raises(CurationError, match="expected 'global' or 'staged'"):
        curriculum_pairs(ratings(), order="shuffled")  # type: ignore[arg-type]


def test_missing_text_column() -> None:
    """Ratings without response texts are refused, naming the column."""
    with pytest.raises(PrefkitDataError, match="response: column missing"):
        curriculum_pairs(ratings().drop(columns="response"))
