"""Mangled input lines make every reader raise PrefkitDataError naming the line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefkit.data import FORMATS, load
from prefkit.data.formats import _load_builtin_formats
from prefkit.errors import PrefkitDataError

HH = "\n\nHuman: Hi\n\nAssistant: Hello"


def _conjoint(k: int) -> dict[str, Any]:
    task, profile = divmod(k, 2)
    return {
        "respondent": 1,
        "task": task + 1,
        "profile": profile + 1,
        "religion": "None",
        "age": 40 + k,
        "selected": 1 - profile,
        "rating": 0.5,
    }


#: format -> (valid record k, fields holding labels that must be known)
SAMPLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "arena": (
        lambda k: {
            "model_a": "x",
            "model_b": "y",
            "winner": "model_a",
            "question_id": f"q{k}",
        },
        ("winner",),
    ),
    "llmfao": (
        lambda k: {
            "id": k,
            "prompt": 8,
            "model_x": 1,
            "model_y": 2,
            "worker": 5,
            "winner": "left",
            "left": "A",
            "right": "B",
        },
        ("winner",),
    ),
    "llmfao_results": (
        lambda k: {"id": k, "model": 3, "result": "r", "prompt": k, "name": "M"},
        (),
    ),
    "llmfao_prompts": (lambda k: {"id": k, "text": "t", "slug": "s"}, ()),
    "alpaca_eval": (
        lambda k: {
            "instruction_id": k,
            "instruction": "hi",
            "generator_1": "base",
            "output_1": "o1",
            "generator_2": "m",
            "output_2": "o2",
            "annotator": "j",
            "preference": 1.2,
            "is_switched_outputs": False,
        },
        ("preference", "is_switched_outputs"),
    ),
    "alpaca_eval_outputs": (
        lambda k: {"instruction": f"i{k}", "output": "o", "generator": "m"},
        (),
    ),
    "alpaca_eval_instructions": (
        lambda k: {
            "instruction_id": k,
            "instruction": "i",
            "baseline_generator": "b",
            "baseline_output": "o",
        },
        (),
    ),
    "alpaca_eval_leaderboard": (
        lambda k: {
            "generator": f"m{k}",
            "win_rate": 50.0,
            "length_controlled_winrate": 40.0,
        },
        ("win_rate",),
    ),
    "arena_hard_answers": (
        lambda k: {"uid": f"u{k}", "prompt": "p", "model": "m", "answer": "a"},
        (),
    ),
    "arena_bench_grades": (
        lambda k: {
            "question_id": f"q{k}",
            "model": "m",
            "answer": "a",
            "judge": "gpt-4",
            "score": 5,
            "judgment": "j",
        },
        ("score",),
    ),
    "arena_bench_questions": (
        lambda k: {"question_id": f"q{k}", "prompt": "p", "reference_answer_gpt4": "r"},
        (),
    ),
    "arena_hard_leaderboard": (
        lambda k: {
            "model": f"m{k}",
            "score": 50.0,
            "rating_q025": 45.0,
            "rating_q975": 55.0,
        },
        ("score",),
    ),
    "conjoint": (_conjoint, ("profile", "selected")),
    "faireval": (
        lambda k: {
            "question_id": k,
            "category": "c",
            "question": "q",
            "model_1": "a",
            "answer_1": "x",
            "model_2": "b",
            "answer_2": "y",
            "human_winner": "model_1",
            "gpt4_review_score_1": 8,
            "gpt4_review_score_2": 7,
        },
        ("human_winner", "gpt4_review_score_1"),
    ),
    "faireval_scores": (
        lambda k: {
            "question_id": k,
            "question": "q",
            "model_1": "a",
            "answer_1": "x",
            "model_2": "b",
            "answer_2": "y",
            "gpt4_review_score_1": 8,
            "gpt4_review_score_2": 7,
        },
        ("gpt4_review_score_1",),
    ),
    "faireval_answers": (
        lambda k: {"question_id": k, "model": "m", "answer": "a", "answer_id": "i"},
        (),
    ),
    "hh": (lambda k: {"chosen": HH + " there", "rejected": HH + "."}, ()),
    "llmbar": (
        lambda k: {
            "subset": "s",
            "index": k,
            "input": "i",
            "output_1": "a",
            "output_2": "b",
            "label": 1,
        },
        ("label",),
    ),
    "llmbar_verdicts": (
        lambda k: {
            "subset": "s",
            "index": k,
            "evaluator": "E",
            "strategy": "S",
            "winner_swap_false": "1",
            "winner_swap_true": "2",
            "n_rounds": 1,
            "label": 2,
        },
        ("label", "winner_swap_false"),
    ),
    "mt_bench": (
        lambda k: {"question_id": k, "category": "c", "turns": ["t1", "t2"]},
        ("turns",),
    ),
    "pandalm": (
        lambda k: {
            "idx": k,
            "instruction": "i",
            "input": "",
            "model_1": "a",
            "response1": "r1",
            "model_2": "b",
            "response2": "r2",
            "annotator1": 1,
            "annotator2": 0,
            "annotator3": 1,
            "gpt35_result": "1",
            "pandalm7b_result": 2,
        },
        ("annotator1", "gpt35_result"),
    ),
    "trl": (lambda k: {"prompt": "p", "chosen": "c", "rejected": "r"}, ()),
    "comparisons": (
        lambda k: {"model_a": "x", "model_b": "y", "winner": "a"},
        ("winner",),
    ),
    "rankings": (lambda k: {"prompt_id": f"p{k}", "ranked": ["x", "y"]}, ("ranked",)),
    "ratings": (
        lambda k: {"prompt_id": f"p{k}", "model": "m", "score": 1.0},
        ("score",),
    ),
    "pairs": (lambda k: {"prompt": "p", "chosen": "c", "rejected": "r"}, ()),
    "candidates": (lambda k: {"prompt_id": f"p{k}", "model": "m", "response": "r"}, ()),
    "prompts": (lambda k: {"prompt_id": f"p{k}", "prompt": "x"}, ()),
}

MUST_RAISE = ("truncated", "utf8", "not_object", "unknown_label")
KINDS = (*MUST_RAISE, "wrong_type", "huge")
WRONG = st.sampled_from([[1, 2], {"k": 1}, 3.5, True, None, "", -7])


def test_every_format_has_a_sample():
    """The property test covers every registered format."""
    _load_builtin_formats()
    assert set(FORMATS) == set(SAMPLES)


def _mangle(record: dict[str, Any], kind: str, field: str, value: Any) -> bytes:
    text = json.dumps(record)
    if kind == "truncated":
        return text[: max(1, len(text) // 2)].encode()
    if kind == "utf8":
        return text[:-1].encode() + b', "x": "\xff\xfe"}'
    if kind == "not_object":
        return json.dumps(value if value not in (None, "") else [1, 2]).encode()
    if kind == "huge":
        return json.dumps({**record, field: "x" * 1_000_000}).encode()
    return json.dumps({**record, field: value}).encode()


def _check(name: str, lines: list[bytes], bad: int, kind: str, must: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        try:
            load(path, name)
        except PrefkitDataError as exc:
            named = {p.line for p in exc.problems}
            assert bad + 1 in named, f"{name}/{kind}: line {bad + 1} not in {exc}"
            assert all(str(p).startswith(str(path)) for p in exc.problems)
            return
    assert not must, f"{name}: a {kind} line {bad + 1} was accepted"


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mangled_line_is_named(data):
    """One mangled line among valid ones is reported by its number, or is harmless."""
    name = data.draw(st.sampled_from(sorted(SAMPLES)), label="format")
    make, labels = SAMPLES[name]
    n = data.draw(st.integers(1, 3), label="pairs") * 2
    bad = data.draw(st.integers(0, n - 1), label="bad line")
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    if kind == "unknown_label" and not labels:
        kind = "truncated"
    record = make(bad)
    fields = labels if kind == "unknown_label" else tuple(record)
    field = data.draw(st.sampled_from(fields), label="field")
    if kind == "unknown_label":
        value: Any = data.draw(st.text(min_size=1, max_size=8).map(lambda t: f"?{t}"))
    else:
        value = data.draw(WRONG, label="value")
    lines = [json.dumps(make(k)).encode() for k in range(n)]
    lines[bad] = _mangle(record, kind, field, value)
    structural = kind == "wrong_type" and isinstance(value, (list, dict))
    must = kind in MUST_RAISE or (structural and field in labels)
    _check(name, lines, bad, kind, must)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_empty_file_is_a_data_error(tmp_path, name):
    """An empty file is a PrefkitDataError for every format."""
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(PrefkitDataError, match="empty file"):
        load(path, name)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_valid_samples_load(tmp_path, name):
    """The valid sample records of every format load (so mangles are the cause)."""
    make, _ = SAMPLES[name]
    path = tmp_path / "ok.jsonl"
    path.write_text("".join(json.dumps(make(k)) + "\n" for k in range(4)))
    assert len(load(path, name)) >= 2
