"""Validation of every canonical table: each rejected case names line and field."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from prefkit.data import (
    judged_only,
    validate,
    validate_candidates,
    validate_comparisons,
    validate_pairs,
    validate_prompts,
    validate_rankings,
    validate_ratings,
)
from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR, guess_kind
from prefkit.errors import DroppedRowsWarning, PrefkitDataError


def _cmp(**extra) -> pd.DataFrame:
    base = {"model_a": ["x", "y"], "model_b": ["y", "z"], "winner": ["a", "tie"]}
    return pd.DataFrame({**base, **extra})


def test_valid_comparisons_get_canonical_dtypes():
    """Winner becomes a categorical of a, b, tie; p_a a float; swapped a bool."""
    out = validate_comparisons(_cmp(p_a=[0.7, 0.5], swapped=[True, False]))
    assert list(out["winner"].cat.categories) == ["a", "b", "tie"]
    assert out["p_a"].dtype == float and out["swapped"].dtype == bool


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (
            {"winner": ["a", "draw"]},
            r"<table>:2: winner: unknown outcome label \(got 'draw'",
        ),
        ({"winner": ["a", None]}, r"<table>:2: winner: missing value"),
        ({"model_b": ["x", "z"]}, r"<table>:1: model_b: same model on both sides"),
        ({"model_a": ["x", 3]}, r"<table>:2: model_a: not a string"),
        ({"model_a": ["x", None]}, r"<table>:2: model_a: missing value"),
        ({"p_a": [0.2, 1.5]}, r"<table>:2: p_a: out of range \(got 1.5"),
        ({"p_a": [0.2, "high"]}, r"<table>:2: p_a: not a number"),
        ({"p_a": [0.2, np.inf]}, r"<table>:2: p_a: not finite"),
        ({"weight": [1.0, -1.0]}, r"<table>:2: weight: out of range"),
        ({"swapped": [True, "yes"]}, r"<table>:2: swapped: not a boolean"),
    ],
)
def test_comparison_problems_are_named(extra, pattern):
    """Each kind of bad value is reported as <source>:<line>: <field>: ..."""
    with pytest.raises(PrefkitDataError, match=pattern):
        validate_comparisons(_cmp(**extra))


def test_missing_required_column():
    """A missing model_b column is named with the columns present."""
    with pytest.raises(
        PrefkitDataError, match=r"model_b: missing column \(columns present: model_a"
    ):
        validate_comparisons(pd.DataFrame({"model_a": ["x"], "winner": ["a"]}))


def test_unjudged_table_accepted_only_when_asked():
    """Without winner the table is valid only with require_winner=False."""
    df = pd.DataFrame({"model_a": ["x"], "model_b": ["y"]})
    assert validate_comparisons(df, require_winner=False)["winner"].isna().all()
    with pytest.raises(PrefkitDataError, match="winner: missing column"):
        validate_comparisons(df)


def test_problems_use_recorded_lines_and_collect_several():
    """Recorded source lines are used and every problem is listed together."""
    df = _cmp(winner=["x", "y"])
    df.attrs[SOURCE_ATTR] = "f.jsonl"
    df.attrs[LINES_ATTR] = np.array([4, 9])
    with pytest.raises(PrefkitDataError) as info:
        validate_comparisons(df)
    assert [p.line for p in info.value.problems] == [4, 9]
    assert str(info.value).startswith("f.jsonl:4: winner:")


def test_problem_list_is_capped():
    """Beyond the limit the message summarises how many more there are."""
    df = pd.DataFrame(
        {"model_a": ["x"] * 30, "model_b": ["y"] * 30, "winner": ["?"] * 30}
    )
    with pytest.raises(PrefkitDataError, match=r"\.\.\. and 25 more problems"):
        validate_comparisons(df, max_problems=5)


@pytest.mark.parametrize(
    ("ranked", "pattern"),
    [
        ("x", "not a list of model ids"),
        (["x"], "too few models"),
        (["x", "y", "x"], "duplicated model id"),
        (["x", 2], "not a list of model ids"),
    ],
)
def test_ranking_problems(ranked, pattern):
    """Rankings need lists of at least two distinct model ids."""
    df = pd.DataFrame({"prompt_id": ["p"], "ranked": [ranked]})
    with pytest.raises(PrefkitDataError, match=f"<table>:1: ranked: {pattern}"):
        validate_rankings(df)


def test_ratings_problems():
    """Ratings reject NaN scores, bad score_dist and duplicated keys."""
    df = pd.DataFrame({"prompt_id": [1, 1], "model": ["x", "x"], "score": [1.0, 2.0]})
    with pytest.raises(
        PrefkitDataError, match=r"<table>:2: prompt_id\+model: duplicated id"
    ):
        validate_ratings(df)
    nan = pd.DataFrame({"prompt_id": ["1"], "model": ["x"], "score": [np.nan]})
    with pytest.raises(PrefkitDataError, match="score: missing value"):
        validate_ratings(nan)
    dist = pd.DataFrame(
        {"prompt_id": ["1"], "model": ["x"], "score": [1.0], "score_dist": [[0.5, 0.2]]}
    )
    with pytest.raises(
        PrefkitDataError, match="score_dist: not a probability distribution"
    ):
        validate_ratings(dist)
    assert validate_ratings(df.iloc[:1])["prompt_id"].tolist() == ["1"]


def test_pairs_problems():
    """Pairs need text and, where given, proper message lists."""
    with pytest.raises(PrefkitDataError, match="<table>:1: chosen: not a string"):
        validate_pairs(
            pd.DataFrame({"prompt": ["p"], "chosen": [1], "rejected": ["r"]})
        )
    bad = pd.DataFrame(
        {
            "prompt": ["p"],
            "chosen": ["c"],
            "rejected": ["r"],
            "prompt_messages": [[{"role": "user"}]],
        }
    )
    with pytest.raises(PrefkitDataError, match="prompt_messages: not a message list"):
        validate_pairs(bad)


def test_candidates_and_prompts_problems():
    """Candidates need unique (prompt_id, model); prompts unique prompt_id."""
    cand = pd.DataFrame(
        {"prompt_id": ["1", "1"], "model": ["x", "x"], "response": ["r", "s"]}
    )
    with pytest.raises(PrefkitDataError, match=r":2: prompt_id\+model: duplicated id"):
        validate_candidates(cand)
    with pytest.raises(PrefkitDataError, match="response: missing column"):
        validate_candidates(cand.drop(columns="response"))
    mixed = pd.DataFrame(
        {"prompt_id": [1, "1", "01"], "model": ["x"] * 3, "response": ["r"] * 3}
    )
    with pytest.raises(PrefkitDataError) as info:
        validate_candidates(mixed)
    assert str(info.value) == (
        "<table>:2: prompt_id+model: duplicated id (got ('1', 'x'); "
        "expected each prompt_id+model once)"
    )
    kept = validate_candidates(mixed.assign(model=["x", "y", "z"]))
    assert kept["prompt_id"].tolist() == ["1", "1", "01"]
    nulls = pd.DataFrame(
        {"prompt_id": ["1"], "prompt": [None], "model": ["x"], "response": [None]}
    )
    with pytest.raises(PrefkitDataError) as info:
        validate_candidates(nulls, require_prompt=True)
    assert [line.split(" (got")[0] for line in str(info.value).splitlines()] == [
        "<table>:1: prompt: missing value",
        "<table>:1: response: missing value",
    ]
    prompts = pd.DataFrame({"prompt_id": [1, 1], "prompt": ["a", "b"]})
    with pytest.raises(
        PrefkitDataError, match=r":2: prompt_id: duplicated id \(got '1'"
    ):
        validate_prompts(prompts)


def test_validate_dispatch_and_guess_kind():
    """validate dispatches by kind; an unknown kind lists the valid ones."""
    assert guess_kind(["model_a", "model_b"]) == "comparisons"
    assert guess_kind(["prompt", "chosen", "rejected"]) == "pairs"
    assert guess_kind(["prompt_id", "model", "response"]) == "candidates"
    # one of model or response marks candidates, so the other is named missing
    assert guess_kind(["prompt_id", "prompt", "model", "answer"]) == "candidates"
    assert guess_kind(["prompt_id", "prompt", "response"]) == "candidates"
    assert guess_kind(["prompt_id", "prompt"]) == "prompts"
    assert guess_kind(["foo"]) is None
    with pytest.raises(ValueError, match="expected one of comparisons, rankings"):
        validate(_cmp(), "votes")  # type: ignore[arg-type]
    with pytest.raises(PrefkitDataError, match="empty table"):
        validate(pd.DataFrame(), "table")


def test_unparsable_rows_may_lack_a_winner():
    """A missing winner is accepted only on rows flagged unparsable."""
    df = pd.DataFrame(
        {
            "model_a": ["x", "x"],
            "model_b": ["y", "y"],
            "winner": ["a", None],
            "unparsable": [False, True],
        }
    )
    assert validate_comparisons(df)["winner"].isna().tolist() == [False, True]
    with pytest.raises(PrefkitDataError, match="<table>:2: winner: missing value"):
        validate_comparisons(df.assign(unparsable=[False, False]))


def test_optional_columns_may_be_missing_on_some_rows():
    """weight, swapped and p_a present on one row only leave the others valid."""
    t = pd.DataFrame(
        {
            "model_a": ["x", "x"],
            "model_b": ["y", "y"],
            "winner": ["a", "b"],
            "weight": [np.nan, 2.0],
            "swapped": [np.nan, True],
            "p_a": [None, 0.3],
        }
    )
    out = validate_comparisons(t)
    assert out["weight"].tolist() == [1.0, 2.0]
    assert str(out["swapped"].dtype) == "boolean"
    assert out["swapped"].isna().tolist() == [True, False]
    assert np.isnan(out["p_a"].iloc[0]) and out["p_a"].iloc[1] == 0.3


def test_swapped_rejects_text():
    """A swapped value that is neither boolean nor missing is named."""
    t = pd.DataFrame(
        {"model_a": ["x"], "model_b": ["y"], "winner": ["a"], "swapped": ["yes"]}
    )
    with pytest.raises(PrefkitDataError, match=r"swapped: not a boolean \(got 'yes'"):
        validate_comparisons(t)


def test_infinite_p_a_shows_plain_value():
    """A numpy inf is shown as plain inf, not as a numpy repr."""
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    t["p_a"] = np.inf
    with pytest.raises(PrefkitDataError, match=r"p_a: not finite \(got inf; exp"):
        validate_comparisons(t)


def test_missing_model_names_what_is_expected():
    """A missing required text says what was expected."""
    t = pd.DataFrame({"model_a": ["x", None], "model_b": ["y", "y"], "winner": "a"})
    with pytest.raises(
        PrefkitDataError, match=r":2: model_a: missing value .*expected"
    ):
        validate_comparisons(t)


def test_judged_only_drops_rows_without_winner_and_warns():
    """Rows without a verdict are dropped, counted, and their lines follow."""
    t = pd.DataFrame(
        {
            "model_a": ["x", "x", "x"],
            "model_b": ["y", "y", "y"],
            "winner": ["a", None, "tie"],
            "unparsable": [False, True, False],
        }
    )
    t.attrs[SOURCE_ATTR] = "v.jsonl"
    t.attrs[LINES_ATTR] = np.array([3, 4, 5])
    with pytest.warns(DroppedRowsWarning, match=r"v.jsonl: dropped 1 of 3 rows"):
        kept = judged_only(t)
    assert kept["winner"].tolist() == ["a", "tie"]
    assert kept.attrs[LINES_ATTR].tolist() == [3, 5]


def test_judged_only_keeps_a_fully_judged_table():
    """A table where every row has a winner comes back unchanged, silently."""
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert judged_only(t) is t
