"""MT-Bench and Vicuna-bench questions [Zheng23]_ as prompt sets.

``question_id, category, turns`` (user turns) and, where present,
``reference_answer_gpt4`` (one answer per turn) and ``reference`` (hints).
The prompt is the first turn; every turn stays in ``turns``. ``reference`` is
the GPT-4 reference answer to the first turn (the source's inline hints, when
there is no such answer); ``reference_turns`` keeps all reference answers.
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
    is_missing,
    lines_of,
    require_fields,
    texts,
)
from prefkit.errors import got_expected


def _text_list(value: Any) -> list[str] | None:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """MT-Bench / Vicuna-bench question files to prompt sets."""
    require_fields(raw, "mt_bench", "question_id", "turns")
    out = collector(raw)
    turns: list[list[str] | None] = []
    for pos, value in enumerate(raw["turns"].to_numpy(dtype=object)):
        items = _text_list(value)
        if items is None:
            expected = "a non-empty list of user turns"
            out.add(pos, "turns", got_expected("not a list of turns", value, expected))
        turns.append(items)
    answers: list[list[str] | None] = [None] * len(raw)
    if "reference_answer_gpt4" in raw.columns:
        values = raw["reference_answer_gpt4"].to_numpy(dtype=object)
        answers = [None if is_missing(v) else _text_list(v) for v in values]
    hints: list[Any] = [None] * len(raw)
    if "reference" in raw.columns:
        hints = [_text_list(v) for v in raw["reference"].to_numpy(dtype=object)]
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "question_id", out=out),
        "prompt": [t[0] if t else None for t in turns],
        "reference": [
            (a[0] if a else ("\n".join(h) if h else None))
            for a, h in zip(answers, hints, strict=True)
        ],
        "turns": turns,
        "reference_turns": answers,
    }
    if "category" in raw.columns:
        columns["category"] = texts(raw, "category", missing_ok=True, out=out)
    out.raise_if_any()
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="mt_bench",
        kind="prompts",
        description="MT-Bench / Vicuna-bench questions (question_id, turns)",
        detect=lambda f: has(f, "question_id", "turns"),
        convert=convert,
    )
)
