"""Arena-Hard answers and leaderboard; arena-bench questions and 1-10 grades.

- ``arena_hard_answers`` (candidates): ``uid, prompt, model, answer``.
- ``arena_bench_grades`` (ratings): GPT-4's single-answer grades
  (``question_id, model, answer, judge, score``). A grade the judge's text
  could not be parsed into is null in the source: such records are **left
  out** with a :class:`~prefkit.errors.DroppedRowsWarning` naming their lines
  (and ``attrs["prefkit_dropped"]`` listing them); no score is invented.
- ``arena_bench_questions`` (prompts): ``question_id, prompt`` and the GPT-4
  reference answer as ``reference``.
- ``arena_hard_leaderboard`` (table): the published leaderboard rows.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    lines_of,
    meta,
    numbers,
    require_fields,
    source_of,
    texts,
)
from prefkit.errors import DroppedRowsWarning

logger = logging.getLogger("prefkit.data")

#: ``df.attrs`` key listing the source lines a reader left out, and why.
DROPPED_ATTR = "prefkit_dropped"


def convert_answers(raw: pd.DataFrame) -> pd.DataFrame:
    """Arena-Hard model answers as candidates."""
    require_fields(raw, "arena_hard_answers", "uid", "prompt", "model", "answer")
    out = collector(raw)
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "uid", out=out),
        "prompt": texts(raw, "prompt", out=out),
        "model": texts(raw, "model", out=out),
        "response": texts(raw, "answer", out=out),
    }
    out.raise_if_any()
    columns.update(meta(raw, ("uid", "prompt", "model", "answer")))
    return frame(columns, raw, lines_of(raw))


def convert_grades(raw: pd.DataFrame) -> pd.DataFrame:
    """arena-bench 1-10 grades as ratings; null grades left out and reported."""
    fields = ("question_id", "model", "score")
    require_fields(raw, "arena_bench_grades", *fields)
    out = collector(raw)
    score = numbers(raw, "score", low=1, high=10, missing_ok=True, out=out)
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "question_id", out=out),
        "model": texts(raw, "model", out=out),
        "score": score,
    }
    if "answer" in raw.columns:
        columns["response"] = texts(raw, "answer", missing_ok=True, out=out)
    if "judge" in raw.columns:
        columns["judge"] = texts(raw, "judge", out=out)
    out.raise_if_any()
    columns.update(meta(raw, ("question_id", "model", "score", "answer", "judge")))
    table = frame(columns, raw, lines_of(raw))
    null = np.isnan(score)
    if null.any():
        lines = [int(v) for v in lines_of(raw)[null]]
        shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
        message = (
            f"{source_of(raw)}: left out {len(lines)} records whose score is null "
            f"(unparsable grade) on lines {shown}"
        )
        warnings.warn(message, DroppedRowsWarning, stacklevel=2)
        logger.info(message)
        kept = table[~null].reset_index(drop=True)
        kept.attrs = dict(table.attrs)
        kept.attrs["prefkit_lines"] = lines_of(raw)[~null]
        kept.attrs[DROPPED_ATTR] = {"lines": lines, "reason": "score is null"}
        return kept
    return table


def convert_questions(raw: pd.DataFrame) -> pd.DataFrame:
    """arena-bench questions as a prompt set with references."""
    require_fields(raw, "arena_bench_questions", "question_id", "prompt")
    out = collector(raw)
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "question_id", out=out),
        "prompt": texts(raw, "prompt", out=out),
    }
    if "reference_answer_gpt4" in raw.columns:
        columns["reference"] = texts(
            raw, "reference_answer_gpt4", missing_ok=True, out=out
        )
    out.raise_if_any()
    columns.update(meta(raw, ("question_id", "prompt", "reference_answer_gpt4")))
    return frame(columns, raw, lines_of(raw))


def convert_leaderboard(raw: pd.DataFrame) -> pd.DataFrame:
    """The published Arena-Hard leaderboard rows, numbers checked."""
    require_fields(raw, "arena_hard_leaderboard", "model", "score")
    out = collector(raw)
    columns: dict[str, Any] = {"model": texts(raw, "model", out=out)}
    for name in ("score", "rating_q025", "rating_q975"):
        if name in raw.columns:
            columns[name] = numbers(raw, name, missing_ok=name != "score", out=out)
    out.raise_if_any()
    columns.update(meta(raw, tuple(columns)))
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="arena_hard_answers",
        kind="candidates",
        description="Arena-Hard model answers (uid, prompt, model, answer)",
        detect=lambda f: has(f, "uid", "prompt", "model", "answer"),
        convert=convert_answers,
    )
)
register(
    Format(
        name="arena_bench_grades",
        kind="ratings",
        description="arena-bench GPT-4 1-10 single-answer grades (null ones left out)",
        detect=lambda f: has(f, "question_id", "model", "score", "judgment"),
        convert=convert_grades,
    )
)
register(
    Format(
        name="arena_bench_questions",
        kind="prompts",
        description="arena-bench questions with GPT-4 reference answers",
        detect=lambda f: has(f, "question_id", "prompt", "reference_answer_gpt4"),
        convert=convert_questions,
    )
)
register(
    Format(
        name="arena_hard_leaderboard",
        kind="table",
        description="Arena-Hard published leaderboard rows (model, score, CI)",
        detect=lambda f: has(f, "model", "score", "rating_q025", "rating_q975"),
        convert=convert_leaderboard,
    )
)
