"""Preference pairs for training: ``prompt, chosen, rejected`` (+ ``label``).

:func:`preference_pairs` accepts the TRL format (``prompt/chosen/rejected``)
or a judged ``comparisons`` table (ties are dropped, ``p_a`` becomes the soft
``label``). :func:`read_hh` reads Anthropic HH transcripts (prompt = the
shared dialogue prefix as chat messages, chosen / rejected = the last
assistant turns).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from prefkit.errors import PrefkitDataError

PAIR_COLUMNS = ("prompt", "chosen", "rejected")
_TURN = re.compile(r"\n\n(Human|Assistant): ")


def preference_pairs(df: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Training pairs from a TRL-format or a comparisons table.

    Parameters
    ----------
    df : DataFrame
        Either ``prompt, chosen, rejected`` (optional ``label``: probability
        that chosen is preferred), or a comparisons table with ``prompt,
        response_a, response_b, winner`` (optional ``p_a``).
    source : str, default="<table>"
        Name used in error messages.

    Returns
    -------
    DataFrame
        ``prompt, chosen, rejected`` and, when known, ``label``.
    """
    if set(PAIR_COLUMNS) <= set(df.columns):
        out = df.loc[:, [c for c in (*PAIR_COLUMNS, "label") if c in df.columns]]
    elif {"prompt", "response_a", "response_b", "winner"} <= set(df.columns):
        out = _from_comparisons(df)
    else:
        raise PrefkitDataError.single(
            source,
            None,
            "-",
            f"columns {sorted(map(str, df.columns))} are neither prompt/chosen/"
            "rejected nor prompt/response_a/response_b/winner; rename them or "
            "convert the file with `prefkit.data.formats.load`",
        )
    for column in PAIR_COLUMNS[1:]:
        bad = ~out[column].map(lambda v: isinstance(v, str))
        if bad.any():
            line = int(bad.to_numpy().argmax()) + 1
            raise PrefkitDataError.single(
                source,
                line,
                column,
                f"expected text (got {out[column].iloc[line - 1]!r}); drop or "
                "fill the row",
            )
    if len(out) == 0:
        raise PrefkitDataError.single(
            source, None, "-", "no usable pairs (got 0 rows after dropping ties)"
        )
    return out.reset_index(drop=True)


def _from_comparisons(df: pd.DataFrame) -> pd.DataFrame:
    winner = df["winner"].astype(str)
    keep = winner.isin(["a", "b"])
    a_wins = (winner == "a")[keep]
    rows = df.loc[keep]
    out = pd.DataFrame(
        {
            "prompt": rows["prompt"].to_numpy(),
            "chosen": rows["response_a"].where(a_wins, rows["response_b"]).to_numpy(),
            "rejected": rows["response_b"].where(a_wins, rows["response_a"]).to_numpy(),
        }
    )
    if "p_a" in df.columns:
        p_a = rows["p_a"].astype(float)
        out["label"] = p_a.where(a_wins, 1.0 - p_a).to_numpy()
    return out


def split_hh(text: str) -> list[dict[str, str]]:
    """An HH transcript (``\\n\\nHuman: ... \\n\\nAssistant: ...``) as messages."""
    parts = _TURN.split(text)
    messages = []
    for speaker, content in zip(parts[1::2], parts[2::2], strict=True):
        role = "user" if speaker == "Human" else "assistant"
        messages.append({"role": role, "content": content.strip()})
    return messages


def hh_record(chosen: str, rejected: str) -> dict[str, Any] | None:
    """One HH record as a pair, or None if the two dialogues do not fit."""
    c, r = split_hh(chosen), split_hh(rejected)
    if len(c) < 2 or c[:-1] != r[:-1] or c[-1]["role"] != "assistant":
        return None
    if r[-1]["role"] != "assistant" or c[-1]["content"] == r[-1]["content"]:
        return None
    return {"prompt": c[:-1], "chosen": c[-1]["content"], "rejected": r[-1]["content"]}


def read_hh(path: str | os.PathLike[str], limit: int | None = None) -> pd.DataFrame:
    """Read an Anthropic HH-RLHF JSONL(.gz) file as training pairs.

    Records whose two dialogues do not share their prefix, or whose last
    assistant turns are equal, are skipped (they carry no preference).

    Returns
    -------
    DataFrame
        ``pair_id`` (when present), ``prompt`` (chat messages, without a
        system message), ``chosen``, ``rejected``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PrefkitDataError.single(
                    path.name, number, "-", f"not JSON ({exc.msg})"
                ) from None
            pair = hh_record(str(raw.get("chosen", "")), str(raw.get("rejected", "")))
            if pair is None:
                continue
            if "pair_id" in raw:
                pair = {"pair_id": raw["pair_id"], **pair}
            rows.append(pair)
            if limit is not None and len(rows) >= limit:
                break
    return pd.DataFrame(rows)
