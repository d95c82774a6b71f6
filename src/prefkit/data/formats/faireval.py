"""FairEval [Wang23]_: human labels and GPT-4 review scores, and the answers.

``faireval_gpt35_vs_vicuna13b.jsonl`` compares ``model_1`` (gpt-3.5-turbo,
shown to GPT-4 as "Assistant 1") with ``model_2`` (vicuna-13b).

- format ``faireval`` (comparisons): one row for the human label
  (``judge = "human"``) and one for GPT-4's verdict implied by its two scores
  (higher score wins, equal scores tie; ``judge = "gpt-4"``), both with
  ``gold`` = the human label and ``swapped = False`` (model_1 shown first).
- format ``faireval_scores`` (ratings): GPT-4's two 1-10 scores per question.
- format ``faireval_answers`` (candidates): ``answers_4_models.jsonl``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    lines_of,
    map_labels,
    numbers,
    require_fields,
    texts,
)

HUMAN = {"model_1": "a", "model_2": "b", "tie": "tie"}
FIELDS = ("question_id", "question", "model_1", "answer_1", "model_2", "answer_2")
SCORES = ("gpt4_review_score_1", "gpt4_review_score_2")


def scores_to_winner(score_a: np.ndarray, score_b: np.ndarray) -> np.ndarray:
    """``a`` when a scored higher, ``b`` when lower, ``tie`` when equal."""
    return np.where(score_a > score_b, "a", np.where(score_a < score_b, "b", "tie"))


def _pairs(raw: pd.DataFrame, out: Any) -> dict[str, Any]:
    return {
        "prompt_id": texts(raw, "question_id", out=out),
        "prompt": texts(raw, "question", out=out),
        "model_a": texts(raw, "model_1", out=out),
        "model_b": texts(raw, "model_2", out=out),
        "response_a": texts(raw, "answer_1", out=out),
        "response_b": texts(raw, "answer_2", out=out),
    }


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """Human labels and GPT-4's score verdicts as comparisons."""
    require_fields(raw, "faireval", *FIELDS, "human_winner", *SCORES)
    out = collector(raw)
    base = _pairs(raw, out)
    human = np.asarray(map_labels(raw, "human_winner", HUMAN, out=out), dtype=object)
    score_a, score_b = (numbers(raw, s, low=1, high=10, out=out) for s in SCORES)
    out.raise_if_any()
    n = len(raw)
    columns = {k: np.tile(np.asarray(v, dtype=object), 2) for k, v in base.items()}
    columns["winner"] = np.concatenate([human, scores_to_winner(score_a, score_b)])
    columns["judge"] = np.repeat(["human", "gpt-4"], n)
    columns["gold"] = np.tile(human, 2)
    columns["swapped"] = np.zeros(2 * n, dtype=bool)
    columns["score_a"] = np.concatenate([np.full(n, np.nan), score_a])
    columns["score_b"] = np.concatenate([np.full(n, np.nan), score_b])
    if "category" in raw.columns:
        columns["category"] = np.tile(raw["category"].to_numpy(dtype=object), 2)
    return frame(columns, raw, np.tile(lines_of(raw), 2))


def convert_scores(raw: pd.DataFrame) -> pd.DataFrame:
    """GPT-4's review scores as ratings (two rows per question)."""
    require_fields(raw, "faireval_scores", *FIELDS, *SCORES)
    out = collector(raw)
    base = _pairs(raw, out)
    scores = [numbers(raw, s, low=1, high=10, out=out) for s in SCORES]
    out.raise_if_any()
    columns: dict[str, Any] = {
        "prompt_id": np.tile(np.asarray(base["prompt_id"], dtype=object), 2),
        "prompt": np.tile(np.asarray(base["prompt"], dtype=object), 2),
        "model": np.concatenate([base["model_a"], base["model_b"]]),
        "response": np.concatenate([base["response_a"], base["response_b"]]),
        "score": np.concatenate(scores),
        "judge": "gpt-4",
        "position": np.repeat([1, 2], len(raw)),
    }
    return frame(columns, raw, np.tile(lines_of(raw), 2))


def convert_answers(raw: pd.DataFrame) -> pd.DataFrame:
    """The four models' answers to the 80 questions as candidates."""
    require_fields(raw, "faireval_answers", "question_id", "model", "answer")
    out = collector(raw)
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "question_id", out=out),
        "prompt": texts(raw, "question", missing_ok=True, out=out)
        if "question" in raw.columns
        else None,
        "model": texts(raw, "model", out=out),
        "response": texts(raw, "answer", out=out),
    }
    out.raise_if_any()
    for name in ("category", "model_id", "answer_id"):
        if name in raw.columns:
            columns[name] = raw[name].to_numpy(dtype=object)
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="faireval",
        kind="comparisons",
        description="FairEval human labels + GPT-4 review verdicts (gold = human)",
        detect=lambda f: has(f, *FIELDS, "human_winner"),
        convert=convert,
    )
)
register(
    Format(
        name="faireval_scores",
        kind="ratings",
        description="FairEval GPT-4 review scores as ratings (name it explicitly)",
        detect=lambda f: False,
        convert=convert_scores,
    )
)
register(
    Format(
        name="faireval_answers",
        kind="candidates",
        description="FairEval / FastChat answers (question_id, model, answer)",
        detect=lambda f: has(f, "question_id", "model", "answer", "answer_id"),
        convert=convert_answers,
    )
)
