"""Seeded synthetic judges with one planted defect each are flagged exactly there."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from prefkit.audit import AuditResult, audit
from prefkit.errors import JudgeBiasWarning
from tests.audit.synthetic import items, judge, ratings

KINDS = ("clean", "first", "length", "self", "overconfident")
PLANTED = {
    ("first", "position", "first_slot_rate"),
    ("length", "verbosity", "longer_pick_excess"),
    ("length", "verbosity", "length_coef"),
    ("selfy", "self_preference", "self_win_excess"),
    ("overconfident", "calibration", "ece"),
    ("overconfident", "calibration", "overconfidence"),
    ("middler", "scale", "sd_ratio"),
}


@pytest.fixture(scope="module")
def planted() -> AuditResult:
    """One audit over all synthetic judges (200 bootstrap rounds)."""
    it = items(n=400, seed=0)
    table = pd.concat([judge(it, k, seed=i + 1) for i, k in enumerate(KINDS)])
    grades = pd.concat([ratings(it, "clean"), ratings(it, "middler")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = audit(table, ratings=grades, rounds=200, seed=0)
    result.details["warnings"] = pd.DataFrame(
        {"message": [str(w.message) for w in caught if w.category is JudgeBiasWarning]}
    )
    return result


def test_flags_exactly_where_planted(planted: AuditResult) -> None:
    """The set of flagged (judge, audit, figure) equals the planted defects."""
    flagged = planted.flagged
    got = set(zip(flagged["judge"], flagged["audit"], flagged["figure"], strict=True))
    assert got == PLANTED


def test_clean_judge_flagged_nowhere(planted: AuditResult) -> None:
    """The clean judge has many computed figures and none is flagged."""
    clean = planted.table[planted.table["judge"] == "clean"]
    assert clean["value"].notna().sum() >= 12
    assert not clean["flag"].any()


def test_planted_sizes_recovered(planted: AuditResult) -> None:
    """The first-picker's first-slot rate CI covers its planted 0.67."""
    t = planted.table.set_index(["judge", "figure"])
    row = t.loc[("first", "first_slot_rate")]
    assert row["lower"] <= 0.67 <= row["upper"]
    assert t.loc[("middler", "sd_ratio"), "upper"] < 0.6


def test_one_warning_per_flag(planted: AuditResult) -> None:
    """A JudgeBiasWarning is emitted for every flagged figure and names it."""
    messages = planted.details["warnings"]["message"].tolist()
    assert len(messages) == len(PLANTED)
    assert any("first_slot_rate" in m and "'first'" in m for m in messages)


def test_flag_needs_whole_ci_outside_band(planted: AuditResult) -> None:
    """Every flag has its CI entirely outside the band, and vice versa."""
    t = planted.table.dropna(subset=["lower", "upper", "band_low"])
    outside = (t["upper"] < t["band_low"]) | (t["lower"] > t["band_high"])
    assert (outside == t["flag"]).all()


def test_to_dict_is_plain(planted: AuditResult) -> None:
    """to_dict gives JSON-ready rows with NaN as None."""
    import json

    d = planted.to_dict()
    text = json.dumps(d)
    assert "NaN" not in text
    assert len(d["table"]) == len(planted.table)


def test_dbg_score_on_own_family_grades() -> None:
    """A grader adding one point to its own family's responses has DBG 1."""
    gold = pd.Series([3.0, 4.0, 2.0, 5.0, 3.0, 1.0] * 10)
    models = pd.Series(["selfy", "m1", "m2"] * 20)
    r = pd.DataFrame(
        {
            "prompt_id": [f"q{i // 3}" for i in range(60)],
            "model": models,
            "score": gold + (models == "selfy").astype(float),
            "gold": gold,
            "judge": "selfy",
        }
    )
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    res = audit(t, ratings=r, rounds=100, warn=False)
    row = res.table.set_index("figure").loc["dbg_score"]
    assert row["value"] == pytest.approx(1.0)
    assert row["n"] == 20
