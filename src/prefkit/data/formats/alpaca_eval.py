"""AlpacaEval: judge annotations, model outputs and the official leaderboard.

Annotations compare ``generator_1`` (the baseline, shown as ``output_1``)
with ``generator_2`` [Dubois24]_. ``preference`` lies in [1, 2]: 1 means
output_1 is better, 2 output_2, and a weighted judge gives
``1 + P(output_2 better)``. So with a = generator_1,

.. math:: p_a = 2 - \\text{preference},

and the verdict is ``a`` below 1.5, ``b`` above, ``tie`` at exactly 1.5.
``is_switched_outputs`` (output_2 shown first) becomes ``swapped``. The same
reader takes the full-text files and the preferences-only ones; a ``model``
field (the results folder) names model_b when present (it differs from
``generator_2`` for NullModel).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    booleans,
    collector,
    frame,
    has,
    lines_of,
    meta,
    numbers,
    require_fields,
    text_id,
    texts,
)

#: The preference that means "no preference" (a tie).
TIE_PREFERENCE = 1.5


def preference_to_p_a(preference: np.ndarray) -> np.ndarray:
    """P(generator_1 wins) from AlpacaEval's preference in [1, 2]."""
    return np.clip(2.0 - preference, 0.0, 1.0)


def preference_to_winner(preference: np.ndarray) -> np.ndarray:
    """``a`` below 1.5, ``b`` above, ``tie`` at 1.5 (None where missing)."""
    winner = np.full(len(preference), None, dtype=object)
    winner[preference < TIE_PREFERENCE] = "a"
    winner[preference > TIE_PREFERENCE] = "b"
    winner[preference == TIE_PREFERENCE] = "tie"
    return winner


def _prompt_ids(raw: pd.DataFrame, out: Any) -> list[str | None]:
    if "instruction_id" in raw.columns:
        return texts(raw, "instruction_id", out=out)
    prompts = texts(raw, "instruction", out=out)
    return [None if p is None else text_id(p) for p in prompts]


def convert_annotations(raw: pd.DataFrame) -> pd.DataFrame:
    """AlpacaEval annotations to comparisons (one row per judgment)."""
    require_fields(raw, "alpaca_eval", "generator_1", "generator_2", "preference")
    out = collector(raw)
    preference = numbers(raw, "preference", low=1.0, high=2.0, out=out)
    model_b_field = "model" if "model" in raw.columns else "generator_2"
    columns: dict[str, Any] = {
        "model_a": texts(raw, "generator_1", out=out),
        "model_b": texts(raw, model_b_field, out=out),
    }
    if "instruction_id" in raw.columns or "instruction" in raw.columns:
        columns["prompt_id"] = _prompt_ids(raw, out)
    renames = {
        "instruction": "prompt",
        "output_1": "response_a",
        "output_2": "response_b",
    }
    for old, new in renames.items():
        if old in raw.columns:
            columns[new] = texts(raw, old, missing_ok=True, out=out)
    columns["winner"] = preference_to_winner(preference)
    columns["p_a"] = preference_to_p_a(preference)
    if "annotator" in raw.columns:
        columns["judge"] = texts(raw, "annotator", missing_ok=True, out=out)
    if "is_switched_outputs" in raw.columns:
        columns["swapped"] = booleans(raw, "is_switched_outputs", out=out)
    out.raise_if_any()
    used = (
        "generator_1",
        model_b_field,
        "preference",
        "annotator",
        "is_switched_outputs",
        "instruction_id",
        *renames,
    )
    columns.update(meta(raw, used))
    columns["preference"] = preference
    return frame(columns, raw, lines_of(raw))


def convert_outputs(raw: pd.DataFrame) -> pd.DataFrame:
    """AlpacaEval ``model_outputs.json`` records to candidates."""
    require_fields(raw, "alpaca_eval_outputs", "instruction", "output", "generator")
    out = collector(raw)
    prompts = texts(raw, "instruction", out=out)
    columns: dict[str, Any] = {
        "prompt_id": [None if p is None else text_id(p) for p in prompts],
        "prompt": prompts,
        "model": texts(raw, "generator", out=out),
        "response": texts(raw, "output", out=out),
    }
    out.raise_if_any()
    columns.update(meta(raw, ("instruction", "output", "generator")))
    return frame(columns, raw, lines_of(raw))


def convert_instructions(raw: pd.DataFrame) -> pd.DataFrame:
    """The baseline outputs of ``instructions.jsonl`` as candidates."""
    fields = ("instruction_id", "instruction", "baseline_generator", "baseline_output")
    require_fields(raw, "alpaca_eval_instructions", *fields)
    out = collector(raw)
    columns: dict[str, Any] = {
        "prompt_id": texts(raw, "instruction_id", out=out),
        "prompt": texts(raw, "instruction", out=out),
        "model": texts(raw, "baseline_generator", out=out),
        "response": texts(raw, "baseline_output", out=out),
    }
    out.raise_if_any()
    columns.update(meta(raw, fields))
    return frame(columns, raw, lines_of(raw))


def convert_leaderboard(raw: pd.DataFrame) -> pd.DataFrame:
    """The official leaderboard rows, ``generator`` renamed ``model``."""
    require_fields(raw, "alpaca_eval_leaderboard", "generator", "win_rate")
    out = collector(raw)
    columns: dict[str, Any] = {"model": texts(raw, "generator", out=out)}
    for name in ("win_rate", "standard_error", "length_controlled_winrate"):
        if name in raw.columns:
            columns[name] = numbers(raw, name, missing_ok=True, out=out)
    out.raise_if_any()
    columns.update(meta(raw, ("generator", *columns)))
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="alpaca_eval",
        kind="comparisons",
        description="AlpacaEval annotations (preference in [1, 2] -> p_a, swapped)",
        detect=lambda f: has(f, "generator_1", "generator_2", "preference"),
        convert=convert_annotations,
    )
)
register(
    Format(
        name="alpaca_eval_outputs",
        kind="candidates",
        description="AlpacaEval model outputs (instruction, output, generator)",
        detect=lambda f: has(f, "instruction", "output", "generator"),
        convert=convert_outputs,
    )
)
register(
    Format(
        name="alpaca_eval_instructions",
        kind="candidates",
        description="AlpacaEval instructions with the baseline's outputs",
        detect=lambda f: has(
            f, "instruction_id", "baseline_generator", "baseline_output"
        ),
        convert=convert_instructions,
    )
)
register(
    Format(
        name="alpaca_eval_leaderboard",
        kind="table",
        description="AlpacaEval official leaderboard rows (generator, win_rate, ...)",
        detect=lambda f: has(f, "generator", "win_rate", "length_controlled_winrate"),
        convert=convert_leaderboard,
    )
)
