"""LLMFAO pairwise votes: the crowd file and the GPT-3/GPT-4 verdict files.

Fields: ``id`` (pair), ``prompt`` (prompt id), ``model_x``, ``model_y`` (model
ids), ``left``, ``right`` (model names; left = ``model_x`` was shown as A),
``winner`` in ``left`` / ``right`` / ``tie`` and, in the crowd file only,
``worker`` (an anonymous integer).

Crowd votes get ``judge = "crowd"`` and the worker in ``annotator``; a verdict
file without workers gets the judge from its file name (``gpt4-comparisons``
gives ``gpt4``). Models are named by their display names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    lines_of,
    map_labels,
    require_fields,
    source_of,
    texts,
)

WINNERS = {"left": "a", "right": "b", "tie": "tie"}
FIELDS = ("id", "prompt", "left", "right", "winner")


def judge_from_name(source: str) -> str:
    """``.../gpt4-comparisons.jsonl`` gives ``gpt4``; any other name its stem."""
    stem = Path(source).name.split(".")[0]
    return stem.removesuffix("-comparisons") or stem


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """LLMFAO votes to comparisons (one row per vote)."""
    require_fields(raw, "llmfao", *FIELDS)
    out = collector(raw)
    winner = map_labels(raw, "winner", WINNERS, out=out)
    model_a = texts(raw, "left", out=out)
    model_b = texts(raw, "right", out=out)
    prompt_id = texts(raw, "prompt", out=out)
    pair_id = texts(raw, "id", out=out)
    columns: dict[str, object] = {
        "prompt_id": prompt_id,
        "model_a": model_a,
        "model_b": model_b,
        "winner": winner,
    }
    if "worker" in raw.columns:
        columns["judge"] = "crowd"
        columns["annotator"] = texts(raw, "worker", out=out)
    else:
        columns["judge"] = judge_from_name(source_of(raw))
    columns["pair_id"] = pair_id
    for name in ("model_x", "model_y"):
        if name in raw.columns:
            columns[name] = texts(raw, name, missing_ok=True, out=out)
    out.raise_if_any()
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="llmfao",
        kind="comparisons",
        description="LLMFAO crowd votes or GPT verdicts (left/right/tie)",
        detect=lambda fields: has(fields, *FIELDS, "model_x", "model_y"),
        convert=convert,
    )
)
