"""Tests of training-pair readers: TRL tables, comparisons and HH transcripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefkit.data.schema import LINES_ATTR
from prefkit.errors import DroppedRowsWarning, PrefkitDataError
from prefkit.optimize.pairs import preference_pairs, read_hh
from tests.conftest import need


def test_comparisons_become_pairs() -> None:
    """Winner b swaps the responses and p_a becomes P(chosen); ties drop."""
    table = pd.DataFrame(
        {
            "prompt": ["x", "y", "z"],
            "response_a": ["A1", "A2", "A3"],
            "response_b": ["B1", "B2", "B3"],
            "winner": ["a", "b", "tie"],
            "p_a": [0.8, 0.3, 0.5],
        }
    )
    out = preference_pairs(table)
    assert out["chosen"].tolist() == ["A1", "B2"]
    assert out["rejected"].tolist() == ["B1", "A2"]
    assert out["label"].tolist() == pytest.approx([0.8, 0.7])


def test_unknown_columns_refused() -> None:
    """A table in neither format names its columns."""
    with pytest.raises(PrefkitDataError, match="neither prompt/chosen/rejected"):
        preference_pairs(pd.DataFrame({"q": ["x"]}))


def test_non_text_response_refused() -> None:
    """A missing response is reported with its line."""
    table = pd.DataFrame(
        {"prompt": ["x", "y"], "chosen": ["a", None], "rejected": ["b", "c"]}
    )
    with pytest.raises(PrefkitDataError, match="<table>:2: chosen: expected text"):
        preference_pairs(table)


def test_all_ties_refused() -> None:
    """A comparisons table of ties leaves no pairs."""
    table = pd.DataFrame(
        {"prompt": ["x"], "response_a": ["a"], "response_b": ["b"], "winner": ["tie"]}
    )
    with pytest.raises(
        PrefkitDataError, match=r"no usable pairs in 1 rows \(ties: 1\)"
    ):
        preference_pairs(table)


def test_read_hh_real_file(shared_data: Path) -> None:
    """The helpful-base test split gives pairs with a shared multi-turn prompt."""
    path = need(shared_data / "hh_rlhf" / "helpful-base_test.jsonl.gz")
    pairs = read_hh(path, limit=50)
    assert len(pairs) == 50
    assert pairs["pair_id"].iloc[0] == "helpful-base_test-00000"
    assert all(p[-1]["role"] == "user" for p in pairs["prompt"])
    assert (pairs["chosen"] != pairs["rejected"]).all()
    everything = read_hh(path)
    # 9 of 2354 records diverge before the last turn; 2 have equal last turns
    assert len(everything) == 2343


def test_identical_and_empty_pairs_dropped_with_their_lines() -> None:
    """Pairs with chosen == rejected or an empty side are left out, lines named."""
    table = pd.DataFrame(
        {
            "prompt": ["p1", "p2", "p3", "p4", "p5"],
            "chosen": ["a", "same", "", "d", "e"],
            "rejected": ["b", "same", "c", "  ", "f"],
        }
    )
    with pytest.warns(DroppedRowsWarning) as caught:
        out = preference_pairs(table, source="t.jsonl")
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "t.jsonl: left out 3 of 5 pairs whose chosen and rejected are identical "
        "or empty (lines 2, 3, 4): no preference to learn from"
    )
    assert out.to_dict("list") == {
        "prompt": ["p1", "p5"],
        "chosen": ["a", "e"],
        "rejected": ["b", "f"],
    }
    assert out.attrs[LINES_ATTR].tolist() == [1, 5]


def test_dropped_pairs_name_file_lines_after_ties() -> None:
    """Lines are the file's (recorded by the reader), ties counted in."""
    table = pd.DataFrame(
        {
            "prompt": ["x", "y", "z"],
            "response_a": ["a", "b", "c"],
            "response_b": ["a2", "b", "c2"],
            "winner": ["tie", "a", "b"],
        }
    )
    # a CSV: the header is line 1
    table.attrs[LINES_ATTR] = np.array([2, 3, 4])
    with pytest.warns(DroppedRowsWarning, match=r"1 of 2 pairs .* \(line 3\)"):
        out = preference_pairs(table, source="c.csv")
    assert out[["chosen", "rejected"]].values.tolist() == [["c2", "c"]]


def test_only_identical_pairs_refused() -> None:
    """No pair left after dropping identical ones is the no-usable-pairs error."""
    table = pd.DataFrame({"prompt": ["x"], "chosen": ["a"], "rejected": ["a"]})
    with pytest.raises(PrefkitDataError) as caught:
        preference_pairs(table, source="t.jsonl")
    assert str(caught.value) == (
        "t.jsonl: -: no usable pairs in 1 rows (identical or empty: 1)"
    )
