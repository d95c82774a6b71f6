"""Anthropic HH transcripts [Bai22]_ (``chosen`` / ``rejected`` dialogues).

Each record holds two dialogues that share their beginning and differ in the
last assistant turn (in a few records, earlier). The pair becomes ``prompt``
(the shared text up to the last shared ``Assistant:`` marker), ``chosen`` and
``rejected`` (what follows it, so ``prompt + chosen`` is the original
transcript) and the same three as message lists. The same reader takes the
implicit-prompt form of TRL's conversational preference data (``chosen`` and
``rejected`` as message lists, no ``prompt``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.dialogue import (
    parse_transcript,
    render_messages,
    split_message_pair,
    split_text_pair,
)
from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    is_missing,
    lines_of,
    require_fields,
    text_id,
)
from prefkit.data.inputs import is_message_list
from prefkit.data.schema import Collector
from prefkit.errors import got_expected

EXPECTED = "an HH transcript ('\\n\\nHuman: ...') or a list of chat messages"


def _split(c: Any, r: Any) -> tuple[str, str, str, list[Any], list[Any], list[Any]]:
    """Prompt, chosen, rejected as text and as messages; ValueError if not a pair."""
    if isinstance(c, str) and isinstance(r, str):
        parts = split_text_pair(c, r)
        if parts is None:
            raise ValueError("no shared dialogue prefix ending in 'Assistant:'")
        prompt, chosen, rejected = parts
        messages = [
            parse_transcript(prompt[: -len("\n\nAssistant:")]),
            parse_transcript("\n\nAssistant:" + chosen),
            parse_transcript("\n\nAssistant:" + rejected),
        ]
        if any(m is None for m in messages):
            raise ValueError("not an HH transcript")
        return prompt, chosen, rejected, messages[0], messages[1], messages[2]  # type: ignore[return-value]
    if is_message_list(c) and is_message_list(r):
        split = split_message_pair(list(c), list(r))
        if split is None:
            raise ValueError("no shared messages before an assistant turn")
        pm, cm, rm = split
        prompt = render_messages(pm) + "\n\nAssistant:"
        chosen = render_messages(cm, continuation=True)
        rejected = render_messages(rm, continuation=True)
        return prompt, chosen, rejected, pm, cm, rm
    raise TypeError


def _rows(raw: pd.DataFrame, out: Collector) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        k: [] for k in ("prompt", "chosen", "rejected", "pm", "cm", "rm")
    }
    chosen = raw["chosen"].to_numpy(dtype=object)
    rejected = raw["rejected"].to_numpy(dtype=object)
    for pos, (c, r) in enumerate(zip(chosen, rejected, strict=True)):
        if isinstance(c, np.ndarray):
            c = c.tolist()
        if isinstance(r, np.ndarray):
            r = r.tolist()
        try:
            parts: tuple[Any, ...] = _split(c, r)
        except ValueError as exc:
            out.add(pos, "chosen", f"cannot split the pair: {exc}")
            parts = (None,) * 6
        except TypeError:
            field = "rejected" if isinstance(c, (str, list)) else "chosen"
            bad = r if field == "rejected" else c
            what = "missing value" if is_missing(bad) else "not a dialogue"
            out.add(pos, field, got_expected(what, bad, EXPECTED))
            parts = (None,) * 6
        for key, value in zip(columns, parts, strict=True):
            columns[key].append(value)
    return columns


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """HH (or implicit-prompt) records to a pairs table."""
    require_fields(raw, "hh", "chosen", "rejected")
    out = collector(raw)
    parts = _rows(raw, out)
    out.raise_if_any()
    prompts = parts["prompt"]
    columns: dict[str, Any] = {}
    if "prompt_id" in raw.columns:
        columns["prompt_id"] = raw["prompt_id"].to_numpy(dtype=object)
    else:
        columns["prompt_id"] = [text_id(p) for p in prompts]
    columns.update(
        prompt=prompts,
        chosen=parts["chosen"],
        rejected=parts["rejected"],
        prompt_messages=parts["pm"],
        chosen_messages=parts["cm"],
        rejected_messages=parts["rm"],
    )
    for name in raw.columns:
        if name not in ("chosen", "rejected", "prompt_id"):
            columns[str(name)] = raw[name].to_numpy(dtype=object)
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="hh",
        kind="pairs",
        description=(
            "Anthropic HH transcripts (chosen/rejected dialogues, implicit prompt)"
        ),
        detect=lambda fields: (
            has(fields, "chosen", "rejected") and "prompt" not in fields
        ),
        convert=convert,
    )
)
