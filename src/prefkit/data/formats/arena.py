"""Chatbot-Arena battle logs: ``model_a, model_b, winner``.

``winner`` is ``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)``
[Chiang24]_; the last becomes ``tie`` with ``tie_kind = "bothbad"``. The
arena's own ``question_id`` becomes ``prompt_id``; its ``judge`` (the voter)
is kept; every other field is kept as metadata.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    is_missing,
    is_none,
    lines_of,
    meta,
    require_fields,
)
from prefkit.data.schema import Collector
from prefkit.errors import got_expected

WINNERS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "tie"}
ARENA_ONLY = ("model_a", "model_b", "tie (bothbad)")


def _winners(raw: pd.DataFrame, out: Collector) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised label map (a million battles in well under a second)."""
    column = raw["winner"]
    values = column.astype(object).to_numpy()
    keys = np.empty(len(values), dtype=object)
    if column.dtype != object and pd.api.types.is_string_dtype(column):
        # Arrow-backed text: strip in one vectorised call
        keys[:] = column.str.strip().astype(object).to_numpy()
    else:
        keys[:] = [v.strip() if isinstance(v, str) else None for v in values]
    winner = np.full(len(keys), None, dtype=object)
    for label, outcome in WINNERS.items():
        winner[keys == label] = outcome
    expected = "one of " + ", ".join(repr(k) for k in WINNERS)
    for pos in np.flatnonzero(is_none(winner)):
        value = values[pos]
        if is_missing(value):
            out.add(int(pos), "winner", f"missing value (expected {expected})")
        else:
            out.add(int(pos), "winner", got_expected("unknown label", value, expected))
    tie_kind = np.full(len(keys), None, dtype=object)
    tie_kind[keys == "tie (bothbad)"] = "bothbad"
    return winner, tie_kind


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """Arena battles to comparisons (one row per battle)."""
    require_fields(raw, "arena", "model_a", "model_b", "winner")
    out = collector(raw)
    winner, tie_kind = _winners(raw, out)
    out.raise_if_any()
    columns: dict[str, object] = {
        "model_a": raw["model_a"].reset_index(drop=True),
        "model_b": raw["model_b"].reset_index(drop=True),
        "winner": winner,
        "tie_kind": tie_kind,
    }
    if "question_id" in raw.columns and "prompt_id" not in raw.columns:
        columns["prompt_id"] = raw["question_id"].reset_index(drop=True)
    used = ("model_a", "model_b", "winner", "question_id", "tie_kind")
    return frame({**columns, **meta(raw, used)}, raw, lines_of(raw))


def _is_arena(raw: pd.DataFrame) -> bool:
    """Arena labels (model_a/model_b/tie (bothbad)) among the winners."""
    head = raw["winner"].astype(object).to_numpy()[:10_000]
    return any(isinstance(v, str) and v.strip() in ARENA_ONLY for v in head)


register(
    Format(
        name="arena",
        kind="comparisons",
        description="Chatbot-Arena battles (winner model_a/model_b/tie/tie (bothbad))",
        detect=lambda fields: has(fields, "model_a", "model_b", "winner"),
        convert=convert,
        sniff=_is_arena,
    )
)
