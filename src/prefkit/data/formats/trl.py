"""TRL preference datasets with an explicit prompt, standard or conversational.

Standard rows hold text (``prompt``, ``chosen``, ``rejected``) and are a
pairs table as they are. Conversational rows hold message lists
(``prompt`` the user side, ``chosen``/``rejected`` the assistant turns); they
keep the messages in ``*_messages`` and get HH-style text beside them. Files
prefkit writes with :func:`prefkit.data.pairs.write_trl` read back here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.dialogue import render_messages
from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    lines_of,
    require_fields,
)
from prefkit.data.inputs import is_message_list
from prefkit.errors import got_expected

FIELDS = ("prompt", "chosen", "rejected")


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """TRL preference rows to a pairs table."""
    require_fields(raw, "trl", *FIELDS)
    out = collector(raw)
    values = {f: [_plain(v) for v in raw[f].to_numpy(dtype=object)] for f in FIELDS}
    conversational = [is_message_list(p) for p in values["prompt"]]
    texts: dict[str, list[Any]] = {f: [] for f in FIELDS}
    messages: dict[str, list[Any]] = {f: [] for f in FIELDS}
    for pos, talk in enumerate(conversational):
        row = {f: values[f][pos] for f in FIELDS}
        if talk:
            ok = all(is_message_list(row[f]) for f in ("chosen", "rejected"))
            expected = "a list of chat messages, as the prompt is"
        else:
            ok = all(isinstance(row[f], str) for f in FIELDS)
            expected = "text, as the prompt is"
        if not ok:
            field = next(
                f
                for f in FIELDS
                if not (is_message_list(row[f]) if talk else isinstance(row[f], str))
            )
            out.add(pos, field, got_expected("wrong type", row[field], expected))
        for f in FIELDS:
            if talk and ok:
                messages[f].append(row[f])
                rendered = render_messages(row[f], continuation=f != "prompt")
                texts[f].append(rendered + ("\n\nAssistant:" if f == "prompt" else ""))
            else:
                messages[f].append(None)
                texts[f].append(row[f] if ok else None)
    out.raise_if_any()
    columns: dict[str, Any] = {f: texts[f] for f in FIELDS}
    if any(conversational):
        for f in FIELDS:
            columns[f"{f}_messages"] = messages[f]
    for name in raw.columns:
        if name not in FIELDS and name not in columns:
            columns[str(name)] = raw[name].to_numpy(dtype=object)
    return frame(columns, raw, lines_of(raw))


register(
    Format(
        name="trl",
        kind="pairs",
        description="TRL preference data: prompt/chosen/rejected (text or messages)",
        detect=lambda fields: has(fields, *FIELDS),
        convert=convert,
    )
)
