"""Every validation branch of the audit's public boundary."""

from __future__ import annotations

import pandas as pd
import pytest

from prefkit.audit import AuditError, audit
from prefkit.errors import PrefkitDataError


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt_id": ["1", "2", "3"],
            "model_a": ["x", "x", "y"],
            "model_b": ["y", "z", "z"],
            "winner": ["a", "b", "tie"],
        }
    )


@pytest.mark.parametrize("rounds", [-1, 2.5, True])
def test_rounds_must_be_non_negative_int(rounds: object) -> None:
    """rounds names itself, shows the value and suggests one."""
    with pytest.raises(AuditError, match=r"rounds must be a non-negative integer"):
        audit(_table(), rounds=rounds)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5])
def test_alpha_must_be_inside_unit_interval(alpha: float) -> None:
    """alpha outside (0, 1) is rejected with the value received."""
    with pytest.raises(AuditError, match=rf"alpha must lie strictly.*got {alpha}"):
        audit(_table(), alpha=alpha)


def test_table_without_verdicts() -> None:
    """A table whose winners are all missing says to judge it first."""
    t = _table().assign(winner=[None, None, None])
    with pytest.raises(AuditError, match="hold no verdict"):
        audit(t, rounds=0)


def test_bad_rows_are_reported_by_schema() -> None:
    """An unknown outcome label is named with its row."""
    t = _table().assign(winner=["a", "draw", "b"])
    with pytest.raises(PrefkitDataError, match="draw"):
        audit(t, rounds=0)


def test_gold_column_with_bad_label() -> None:
    """A gold label outside a/b/tie is named with its line."""
    t = _table().assign(gold=["a", "x", "b"])
    with pytest.raises(
        PrefkitDataError, match=r"<comparisons>:2: gold: gold label 'x'"
    ):
        audit(t, rounds=0)


def test_gold_table_that_matches_nothing() -> None:
    """A gold table on other items says how the join is made."""
    gold = _table().assign(prompt_id=["7", "8", "9"])
    with pytest.raises(PrefkitDataError, match="no gold item matches"):
        audit(_table(), gold=gold, rounds=0)


def test_gold_joins_across_orientation() -> None:
    """Gold rows listing a pair the other way round are flipped before joining."""
    gold = pd.DataFrame(
        {"prompt_id": ["1"], "model_a": ["y"], "model_b": ["x"], "winner": ["b"]}
    )
    res = audit(_table().head(1), gold=gold, rounds=0)
    rows = res.table.set_index("figure")
    assert rows.loc["accuracy", "value"] == 1.0


def test_skipped_figures_say_why() -> None:
    """Without swapped, lengths or gold every such figure is skipped with a reason."""
    res = audit(_table(), rounds=0)
    skipped = res.table[res.table["value"].isna()]
    assert (skipped["note"].str.startswith("skipped: ")).all()
    notes = set(skipped["note"])
    assert "skipped: needs gold labels" in notes
    assert any("swapped" in n for n in notes)
    assert not res.table["flag"].any()
