"""LLMFAO pairwise votes [Ustalov23]_: the crowd file and GPT-3/GPT-4 verdicts.

Fields: ``id`` (pair), ``prompt`` (prompt id), ``model_x``, ``model_y`` (model
ids), ``left``, ``right`` (model names; left = ``model_x`` was shown as A),
``winner`` in ``left`` / ``right`` / ``tie`` and, in the crowd file only,
``worker`` (an anonymous integer).

The model outputs (``results.jsonl``: ``prompt``, ``name``, ``result``) read
as candidates and ``prompts.jsonl`` (``id``, ``text``, ``slug``) as a prompt
set, so judges can be run on the same pairs.

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


def convert_results(raw: pd.DataFrame) -> pd.DataFrame:
    """LLMFAO model outputs to candidates (models named by display name)."""
    require_fields(raw, "llmfao_results", "prompt", "name", "result")
    out = collector(raw)
    columns: dict[str, object] = {
        "prompt_id": texts(raw, "prompt", out=out),
        "model": texts(raw, "name", out=out),
        "response": texts(raw, "result", out=out),
    }
    out.raise_if_any()
    return frame(columns, raw, lines_of(raw))


def convert_prompts(raw: pd.DataFrame) -> pd.DataFrame:
    """LLMFAO prompts to a prompt set."""
    require_fields(raw, "llmfao_prompts", "id", "text")
    out = collector(raw)
    columns: dict[str, object] = {
        "prompt_id": texts(raw, "id", out=out),
        "prompt": texts(raw, "text", out=out),
    }
    for name in ("slug", "type"):
        if name in raw.columns:
            columns[name] = texts(raw, name, missing_ok=True, out=out)
    out.raise_if_any()
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="llmfao_results",
        kind="candidates",
        description="LLMFAO model outputs (prompt, name, result)",
        detect=lambda fields: has(fields, "prompt", "name", "result", "model"),
        convert=convert_results,
    )
)
register(
    Format(
        name="llmfao_prompts",
        kind="prompts",
        description="LLMFAO prompts (id, text, slug)",
        detect=lambda fields: has(fields, "id", "text", "slug"),
        convert=convert_prompts,
    )
)
register(
    Format(
        name="llmfao",
        kind="comparisons",
        description="LLMFAO crowd votes or GPT verdicts (left/right/tie)",
        detect=lambda fields: has(fields, *FIELDS, "model_x", "model_y"),
        convert=convert,
    )
)
