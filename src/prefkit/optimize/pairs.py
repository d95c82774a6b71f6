"""Preference pairs for training: ``prompt, chosen, rejected`` (+ ``label``).

:func:`preference_pairs` accepts the TRL format (``prompt/chosen/rejected``)
or a judged ``comparisons`` table (ties are dropped, ``p_a`` becomes the soft
``label``). :func:`read_hh` reads Anthropic HH transcripts (prompt = the
shared dialogue prefix as chat messages, chosen / rejected = the last
assistant turns) through the `hh` format reader.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import LINES_ATTR
from prefkit.errors import DroppedRowsWarning, PrefkitDataError

PAIR_COLUMNS = ("prompt", "chosen", "rejected")

#: Lines named in a warning before the rest are only counted.
MAX_LISTED = 10


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
        ``prompt, chosen, rejected`` and, when given, ``label`` and
        ``rationale`` (why chosen is better; rationale-enriched DPO).
        ``attrs[LINES_ATTR]`` holds each pair's source line.

    Raises
    ------
    PrefkitDataError
        Unknown columns, a response that is not text, or no pair left.

    Notes
    -----
    Pairs whose chosen and rejected are equal, or either is empty (or only
    whitespace), carry no preference: they are left out with a
    :class:`~prefkit.errors.DroppedRowsWarning` naming their lines.
    """
    lines = _lines(df)
    if set(PAIR_COLUMNS) <= set(df.columns):
        extra = [c for c in ("label", "rationale") if c in df.columns]
        out = df.loc[:, [*PAIR_COLUMNS, *extra]].reset_index(drop=True)
        dropped = []
    elif {"prompt", "response_a", "response_b", "winner"} <= set(df.columns):
        decided = df["winner"].astype(str).isin(["a", "b"]).to_numpy()
        out = _from_comparisons(df.loc[decided])
        lines = lines[decided]
        dropped = [f"ties: {len(df) - len(out)}"]
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
            at = int(bad.to_numpy().argmax())
            raise PrefkitDataError.single(
                source,
                int(lines[at]),
                column,
                f"expected text (got {out[column].iloc[at]!r}); drop or fill the row",
            )
    n_pairs = len(out)
    out, lines = _drop_degenerate(out, lines, source)
    if n_pairs > len(out):
        dropped.append(f"identical or empty: {n_pairs - len(out)}")
    if len(out) == 0:
        why = f" ({', '.join(dropped)})" if dropped else ""
        raise PrefkitDataError.single(
            source, None, "-", f"no usable pairs in {len(df)} rows{why}"
        )
    out.attrs[LINES_ATTR] = lines
    return out


def _lines(df: pd.DataFrame) -> NDArray[np.int64]:
    """1-based line of each row: the file's when the reader recorded it."""
    lines = df.attrs.get(LINES_ATTR)
    if lines is not None and len(lines) == len(df):
        return np.asarray(lines, dtype=np.int64)
    return np.arange(1, len(df) + 1, dtype=np.int64)


def _drop_degenerate(
    pairs: pd.DataFrame, lines: NDArray[np.int64], source: str
) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """Pairs without a preference left out: chosen equal to rejected, or empty."""
    chosen = pairs["chosen"].str.strip()
    rejected = pairs["rejected"].str.strip()
    bad = ((chosen == rejected) | (chosen == "") | (rejected == "")).to_numpy()
    if bad.all():
        # the caller's "no usable pairs" error says it
        return pairs.iloc[:0], lines[:0]
    if not bad.any():
        return pairs, lines
    dropped = [str(n) for n in lines[bad]]
    shown = ", ".join(dropped[:MAX_LISTED])
    if len(dropped) > MAX_LISTED:
        shown += f" and {len(dropped) - MAX_LISTED} more"
    where = "line" if len(dropped) == 1 else "lines"
    warnings.warn(
        f"{source}: left out {len(dropped)} of {len(pairs)} pairs whose chosen "
        f"and rejected are identical or empty ({where} {shown}): no preference "
        "to learn from",
        DroppedRowsWarning,
        stacklevel=3,
    )
    return pairs.loc[~bad].reset_index(drop=True), lines[~bad]


def _from_comparisons(rows: pd.DataFrame) -> pd.DataFrame:
    """Decided comparisons (winner a or b) as chosen / rejected."""
    a_wins = rows["winner"].astype(str) == "a"
    out = pd.DataFrame(
        {
            "prompt": rows["prompt"].to_numpy(),
            "chosen": rows["response_a"].where(a_wins, rows["response_b"]).to_numpy(),
            "rejected": rows["response_b"].where(a_wins, rows["response_a"]).to_numpy(),
        }
    )
    if "p_a" in rows.columns:
        p_a = rows["p_a"].astype(float)
        out["label"] = p_a.where(a_wins, 1.0 - p_a).to_numpy()
    return out


def read_hh(path: str | os.PathLike[str], limit: int | None = None) -> pd.DataFrame:
    """Read an Anthropic HH-RLHF JSONL(.gz) file as training pairs.

    Uses the ``hh`` reader of :mod:`prefkit.data.formats`; records whose
    dialogues diverge before the last assistant turn, or whose last assistant
    turns are equal, are skipped (they are not a single-turn preference).

    Returns
    -------
    DataFrame
        ``pair_id`` (when present), ``prompt`` (chat messages, without a
        system message), ``chosen``, ``rejected`` (the last assistant turns).
    """
    from prefkit.data.formats import load

    table = load(path, format="hh")
    keep = [
        len(c) == 1 and len(r) == 1 and c[0]["content"] != r[0]["content"]
        for c, r in zip(
            table["chosen_messages"], table["rejected_messages"], strict=True
        )
    ]
    lines = _lines(table)[np.asarray(keep, dtype=bool)]
    table = table.loc[keep]
    out = pd.DataFrame(
        {
            "prompt": [list(m) for m in table["prompt_messages"]],
            "chosen": [m[0]["content"] for m in table["chosen_messages"]],
            "rejected": [m[0]["content"] for m in table["rejected_messages"]],
        }
    )
    if "pair_id" in table.columns:
        out.insert(0, "pair_id", table["pair_id"].to_numpy())
    if limit is not None:
        out, lines = out.head(limit), lines[:limit]
    out.attrs[LINES_ATTR] = lines
    return out
