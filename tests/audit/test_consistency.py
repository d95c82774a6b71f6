"""TrustJudge's inconsistency counts on hand-built cases."""

from __future__ import annotations

from itertools import product

import pandas as pd
import pytest

from prefkit.audit import audit
from prefkit.audit.consistency import (
    classify_triple,
    score_comparison_conflicts,
    transitivity_table,
)


def test_triple_classes_count() -> None:
    """Of 27 outcome triples 13 fit a weak order, 2 are cycles, 12 contradict ties."""
    kinds = [classify_triple(*o) for o in product(["a", "b", "tie"], repeat=3)]
    assert kinds.count("consistent") == 13
    assert kinds.count("cycle") == 2
    assert kinds.count("equivalence") == 12


def test_named_triples() -> None:
    """A>B, B>C, C>A is a cycle; A=B, B=C, A>C an equivalence contradiction."""
    # o_xy, o_yz, o_xz: 'a' means the first of the pair won
    assert classify_triple("a", "a", "b") == "cycle"
    assert classify_triple("tie", "tie", "a") == "equivalence"
    assert classify_triple("a", "a", "a") == "consistent"
    assert classify_triple("tie", "tie", "tie") == "consistent"


def test_score_comparison_conflicts() -> None:
    """Only a strictly lower-graded winner is a conflict."""
    got = score_comparison_conflicts(
        [3, 3, 5, 4, 4], [5, 5, 3, 4, 2], ["a", "b", "b", "a", "tie"]
    )
    assert got.tolist() == [True, False, True, False, False]


def _cycle_table() -> pd.DataFrame:
    """Prompt p1: x>y, y>z, z>x (a cycle) plus w below all; p2: transitive."""
    rows = [
        ("p1", "x", "y", "a"),
        ("p1", "y", "z", "a"),
        ("p1", "z", "x", "a"),
        ("p1", "w", "x", "b"),
        ("p1", "w", "y", "b"),
        ("p1", "w", "z", "b"),
        ("p2", "x", "y", "a"),
        ("p2", "y", "z", "a"),
        ("p2", "x", "z", "a"),
    ]
    return pd.DataFrame(rows, columns=["prompt_id", "model_a", "model_b", "winner"])


def test_transitivity_table_counts() -> None:
    """p1 has 4 triples (1 cycle), p2 one consistent triple."""
    t = _cycle_table()
    out = transitivity_table(t["prompt_id"], t["model_a"], t["model_b"], t["winner"])
    assert len(out) == 5
    cyc = out[out["kind"] == "cycle"]
    assert len(cyc) == 1
    assert set(cyc[["x", "y", "z"]].iloc[0]) == {"x", "y", "z"}


def test_audit_reports_cycles_and_score_conflicts() -> None:
    """The audit's cycle rate is 1/5, the worst cycle is listed, and grades that
    contradict four verdicts give a score-comparison rate of 4/9."""
    t = _cycle_table()
    grades = pd.DataFrame(
        {
            "prompt_id": ["p1"] * 4 + ["p2"] * 3,
            "model": ["x", "y", "z", "w", "x", "y", "z"],
            "score": [3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0],
        }
    )
    res = audit(t, ratings=grades, rounds=0)
    rows = res.table.set_index("figure")
    assert rows.loc["cycle_rate", "value"] == pytest.approx(1 / 5)
    assert rows.loc["equivalence_rate", "value"] == 0
    # p1: z>x contradicts 1 < 3; p2: all three contradict the grades
    assert rows.loc["score_comparison", "value"] == pytest.approx(4 / 9)
    assert len(res.details["worst_cycles"]) == 1
