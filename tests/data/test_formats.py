"""Each converter on small hand-made records: labels, numbers, detection."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from prefkit.data import convert, detect_format, load
from prefkit.data.formats.alpaca_eval import preference_to_p_a, preference_to_winner
from prefkit.data.formats.faireval import scores_to_winner
from prefkit.data.formats.llmfao import judge_from_name
from prefkit.data.formats.pandalm import majority
from prefkit.errors import PrefkitDataError


def _write(tmp_path, rows, name="t.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_arena_labels_and_bothbad(tmp_path):
    """model_a/model_b/tie/tie (bothbad) map to a/b/tie with tie_kind."""
    labels = ["model_a", "model_b", "tie", "tie (bothbad)"]
    rows = [{"model_a": "x", "model_b": "y", "winner": w} for w in labels]
    df = load(_write(tmp_path, rows))
    assert df.attrs["prefkit_format"] == "arena"
    assert df["winner"].astype(str).tolist() == ["a", "b", "tie", "tie"]
    assert df["tie_kind"].isna().tolist() == [True, True, True, False]
    assert df["tie_kind"][3] == "bothbad"


def test_arena_unknown_label_names_file_line_field(tmp_path):
    """An unknown arena label is an error at file:line: winner, not a tie."""
    rows = [
        {"model_a": "x", "model_b": "y", "winner": "model_a"},
        {"model_a": "x", "model_b": "y", "winner": "draw"},
    ]
    path = _write(tmp_path, rows, "battles.jsonl")
    with pytest.raises(
        PrefkitDataError, match=r"battles.jsonl:2: winner: unknown label \(got 'draw'"
    ):
        load(path, "arena")


def test_detect_logs_the_chosen_format(tmp_path, caplog):
    """Auto detection says which format it chose."""
    rows = [
        {
            "id": 1,
            "prompt": 2,
            "model_x": 3,
            "model_y": 4,
            "winner": "right",
            "left": "A",
            "right": "B",
        }
    ]
    with caplog.at_level(logging.INFO, logger="prefkit.data"):
        df = load(_write(tmp_path, rows, "gpt4-comparisons.jsonl"))
    assert "read as format 'llmfao'" in caplog.text
    assert df["winner"].astype(str).tolist() == ["b"] and df["judge"][0] == "gpt4"


def test_detection_by_fields():
    """Field sets pick their formats; canonical tables come last."""
    assert detect_format(["chosen", "rejected", "pair_id"]).name == "hh"
    assert detect_format(["prompt", "chosen", "rejected"]).name == "trl"
    fields = ["model_a", "model_b", "winner"]
    ours = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    theirs = ours.assign(winner=["model_a"])
    assert detect_format(fields, ours).name == "comparisons"
    assert detect_format(fields, theirs).name == "arena"
    assert detect_format(["question_id", "turns"]).name == "mt_bench"
    assert detect_format(["x"]) is None


def test_unknown_fields_and_format_names(tmp_path):
    """Unrecognised fields and unknown format names are clean errors."""
    path = _write(tmp_path, [{"foo": 1}])
    with pytest.raises(
        PrefkitDataError, match="cannot tell the format from the fields"
    ):
        load(path)
    with pytest.raises(PrefkitDataError, match=r"unknown format 'nope'.*llmfao"):
        load(path, "nope")
    with pytest.raises(PrefkitDataError, match="missing field for format 'llmfao'"):
        load(path, "llmfao")


def test_llmfao_judge_from_file_name():
    """A verdict file's judge comes from its name."""
    assert judge_from_name("/x/gpt4-comparisons.jsonl") == "gpt4"
    assert judge_from_name("claude.jsonl.gz") == "claude"


def test_alpaca_preference_maps():
    """preference 1 -> p_a 1 (a wins), 2 -> 0, exactly 1.5 -> tie."""
    pref = np.array([1.0, 1.25, 1.5, 1.75, 2.0])
    np.testing.assert_allclose(preference_to_p_a(pref), [1.0, 0.75, 0.5, 0.25, 0.0])
    assert preference_to_winner(pref).tolist() == ["a", "a", "tie", "b", "b"]


def test_alpaca_preference_out_of_range(tmp_path):
    """A preference outside [1, 2] names its line."""
    rows = [
        {"generator_1": "g1", "generator_2": "g2", "preference": p} for p in (1.0, 2.5)
    ]
    with pytest.raises(
        PrefkitDataError, match=r":2: preference: out of range \(got 2.5"
    ):
        load(_write(tmp_path, rows))


def test_llmbar_null_verdicts_kept_as_unparsable():
    """A null verdict stays as a row with winner missing and unparsable set."""
    raw = pd.DataFrame(
        {
            "subset": ["s"],
            "index": [0],
            "evaluator": ["E"],
            "strategy": ["S"],
            "winner_swap_false": ["1"],
            "winner_swap_true": [None],
            "label": [2],
        }
    )
    df = convert(raw, "llmbar_verdicts")
    assert df["winner"].astype(object).tolist()[0] == "a"
    assert pd.isna(df["winner"].astype(object).tolist()[1])
    assert df["unparsable"].tolist() == [False, True]
    assert df["swapped"].tolist() == [False, True] and df["gold"].tolist() == ["b", "b"]
    assert df["judge"].tolist() == ["E/S", "E/S"]


def test_llmbar_unknown_verdict_is_an_error():
    """A verdict other than 1, 2 or null is an error, never a default."""
    raw = pd.DataFrame(
        {
            "subset": ["s"],
            "index": [0],
            "evaluator": ["E"],
            "strategy": ["S"],
            "winner_swap_false": ["3"],
            "winner_swap_true": ["1"],
            "label": [1],
        }
    )
    with pytest.raises(
        PrefkitDataError, match=r"<table>:1: winner_swap_false: unknown label"
    ):
        convert(raw, "llmbar_verdicts")


def test_pandalm_majority():
    """Two of three agreeing make the gold label; three different make none."""
    assert majority(["a", "a", "tie"]) == "a"
    assert majority(["a", "b", "tie"]) is None
    assert majority(["b", "b", "b"]) == "b"


def test_pandalm_rows_and_garbage():
    """One row per verdict; GPT-3.5's garbage is unparsable; gold on every row."""
    raw = pd.DataFrame(
        {
            "idx": [7],
            "instruction": ["i"],
            "input": ["c"],
            "model_1": ["m1"],
            "response1": [True],
            "model_2": ["m2"],
            "response2": ["r"],
            "annotator1": [1],
            "annotator2": [1],
            "annotator3": [0],
            "gpt35_result": ["garbage"],
            "pandalm7b_result": [2],
        }
    )
    df = convert(raw, "pandalm")
    assert df["judge"].tolist() == [
        "annotator1",
        "annotator2",
        "annotator3",
        "gpt-3.5-turbo",
        "pandalm-7b",
    ]
    assert df["winner"].astype(object).tolist()[:3] == ["a", "a", "tie"]
    assert df["unparsable"].tolist() == [False, False, False, True, False]
    assert set(df["gold"]) == {"a"} and df["prompt"][0] == "i\n\nc"
    assert df["response_a"][0] == "true"


def test_faireval_scores_to_winner():
    """The higher GPT-4 score wins; equal scores tie."""
    assert scores_to_winner(
        np.array([9, 7, 8.0]), np.array([8.5, 8, 8.0])
    ).tolist() == ["a", "b", "tie"]


def test_conjoint_pairs_and_choice():
    """Two profile rows become one comparison with attribute covariates."""
    raw = pd.DataFrame(
        {
            "respondent": [1, 1],
            "task": [1, 1],
            "profile": [1, 2],
            "age": [45, 60],
            "selected": [0, 1],
            "rating": [0.5, None],
        }
    )
    df = convert(raw, "conjoint")
    assert len(df) == 1 and df["winner"].astype(str)[0] == "b"
    assert (df["a_age"][0], df["b_age"][0]) == ("45", "60")
    assert df["model_a"][0] == "age=45" and df["judge"][0] == "1"
    both = raw.assign(selected=[1, 1])
    with pytest.raises(PrefkitDataError, match=r"<table>:1: selected: exactly one"):
        convert(both, "conjoint")


def test_mt_bench_prompt_and_reference():
    """The prompt is the first turn; the reference the first reference answer."""
    raw = pd.DataFrame(
        {
            "question_id": [81],
            "category": ["math"],
            "turns": [["q1", "q2"]],
            "reference_answer_gpt4": [["r1", "r2"]],
        }
    )
    df = convert(raw, "mt_bench")
    assert (df["prompt_id"][0], df["prompt"][0], df["reference"][0]) == (
        "81",
        "q1",
        "r1",
    )
    bad = raw.assign(turns=["just text"])
    with pytest.raises(PrefkitDataError, match="turns: not a list of turns"):
        convert(bad, "mt_bench")


def test_load_kind_refuses_other_tables(tmp_path):
    """load_candidates on a comparisons file says what the file holds."""
    from prefkit.data import load_candidates, load_kind

    path = _write(tmp_path, [{"model_a": "x", "model_b": "y", "winner": "a"}])
    with pytest.raises(
        PrefkitDataError, match=r"holds a comparisons table .* not candidates"
    ):
        load_candidates(path)
    with pytest.raises(ValueError, match="unknown table kind 'votes'"):
        load_kind(path, "votes")  # type: ignore[arg-type]


def test_candidates_from_alpaca_outputs_share_prompt_ids(tmp_path):
    """Two models' outputs for one instruction get the same prompt_id."""
    from prefkit.data import load_candidates

    rows = [
        {"instruction": "q", "output": "o1", "generator": "m1"},
        {"instruction": "q", "output": "o2", "generator": "m2"},
    ]
    df = load_candidates(_write(tmp_path, rows, "outputs.json"))
    assert df["prompt_id"].nunique() == 1 and df["model"].tolist() == ["m1", "m2"]


@pytest.mark.parametrize(
    ("fmt", "fields"), [("hh", "chosen, rejected"), ("trl", "prompt, chosen, rejected")]
)
def test_forced_format_names_its_missing_fields(tmp_path, fmt, fields):
    """A forced format on a file without its fields names them and the format."""
    path = tmp_path / "votes.jsonl"
    path.write_text('{"model_x": "a", "model_y": "b", "winner": "left"}\n')
    with pytest.raises(
        PrefkitDataError, match=rf"missing field for format '{fmt}': {fields}"
    ):
        load(path, fmt)


def test_converter_key_error_becomes_data_error():
    """A converter reaching for an absent field gives a clean error, not KeyError."""
    from prefkit.data.formats import FORMATS, Format, register

    register(
        Format(
            name="_needs_score",
            kind="ratings",
            description="test format",
            detect=lambda fields: False,
            convert=lambda raw: raw["score"],
        )
    )
    raw = pd.DataFrame({"model": ["x"]})
    try:
        with pytest.raises(
            PrefkitDataError,
            match=r"<table>: score: missing field for format '_needs_score'",
        ):
            convert(raw, "_needs_score")
    finally:
        del FORMATS["_needs_score"]


def test_near_comparisons_names_missing_column(tmp_path):
    """A CSV with model_a and winner but no model_b names model_b."""
    path = tmp_path / "nob.csv"
    path.write_text("model_a,winner\nx,a\n")
    with pytest.raises(PrefkitDataError) as info:
        load(path)
    assert str(info.value) == (
        f"{path}: model_b: missing column of a comparisons table "
        "(columns present: model_a, winner)"
    )
