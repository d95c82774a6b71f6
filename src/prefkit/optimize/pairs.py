"""Preference pairs for training: ``prompt, chosen, rejected`` (+ ``label``).

:func:`preference_pairs` accepts the TRL format (``prompt/chosen/rejected``)
or a judged ``comparisons`` table (ties are dropped, ``p_a`` becomes the soft
``label``). :func:`read_hh` reads Anthropic HH transcripts (prompt = the
shared dialogue prefix as chat messages, chosen / rejected = the last
assistant turns) through the `hh` format reader.
"""

from __future__ import annotations

import os

import pandas as pd

from prefkit.errors import PrefkitDataError

PAIR_COLUMNS = ("prompt", "chosen", "rejected")


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
    """
    if set(PAIR_COLUMNS) <= set(df.columns):
        extra = [c for c in ("label", "rationale") if c in df.columns]
        out = df.loc[:, [*PAIR_COLUMNS, *extra]]
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
    return out if limit is None else out.head(limit)
