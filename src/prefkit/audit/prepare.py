"""Columns every audit reads, derived once from a comparisons table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.errors import PrefkitDataError

FloatArray = NDArray[Any]

#: Judge name used when the table has no ``judge`` column.
DEFAULT_JUDGE = "judge"

#: Column pairs holding response lengths of a and b, tried in this order
#: (``len_output_1/2`` is what the AlpacaEval reader keeps).
LENGTH_COLUMNS = (("len_a", "len_b"), ("len_output_1", "len_output_2"))

_FLIP = {"a": "b", "b": "a", "tie": "tie"}


def preference_of(df: pd.DataFrame) -> FloatArray:
    """P(a wins): ``p_a`` where given, else 1 / 0 / 0.5 from ``winner``."""
    hard = df["winner"].astype(object).map({"a": 1.0, "b": 0.0, "tie": 0.5})
    p = hard.to_numpy(dtype=float, na_value=np.nan)
    if "p_a" in df.columns:
        soft = df["p_a"].to_numpy(dtype=float, na_value=np.nan)
        p = np.where(np.isfinite(soft), soft, p)
    return p


def lengths_of(df: pd.DataFrame) -> tuple[FloatArray, FloatArray] | None:
    """Lengths in characters from ``len_a``/``len_b`` or the texts; None if neither."""
    for la, lb in LENGTH_COLUMNS:
        if {la, lb} <= set(df.columns):
            return (
                pd.to_numeric(df[la], errors="coerce").to_numpy(dtype=float),
                pd.to_numeric(df[lb], errors="coerce").to_numpy(dtype=float),
            )
    if {"response_a", "response_b"} <= set(df.columns):
        return (
            df["response_a"].map(_text_len).to_numpy(dtype=float),
            df["response_b"].map(_text_len).to_numpy(dtype=float),
        )
    return None


def _text_len(value: object) -> float:
    """Length of a response text, NaN when missing."""
    return float(len(value)) if isinstance(value, str) else float("nan")


def prompt_ids(df: pd.DataFrame) -> NDArray[np.object_]:
    """Cluster ids for the bootstrap: ``prompt_id``, else ``prompt``, else the row."""
    for col in ("prompt_id", "prompt"):
        if col in df.columns and df[col].notna().all():
            return df[col].astype(str).to_numpy(dtype=object)
    return np.arange(len(df)).astype(str).astype(object)


def prepare(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Add the internal columns ``_judge, _cluster, _winner, _key, _flip``.

    Rows without a verdict (unparsable judge output) are left out. ``_key``
    identifies the item (prompt and unordered model pair); ``_flip``
    is True when the row lists the pair in the other order than ``_key``.
    """
    df = comparisons[comparisons["winner"].notna()].reset_index(drop=True)
    # Reader bookkeeping (file lines) does not survive filtering and concat.
    df.attrs = {}
    df["_judge"] = (
        df["judge"].fillna(DEFAULT_JUDGE).astype(str)
        if "judge" in df.columns
        else DEFAULT_JUDGE
    )
    df["_cluster"] = prompt_ids(df)
    df["_winner"] = df["winner"].astype(object)
    a = df["model_a"].astype(str).to_numpy(dtype=object)
    b = df["model_b"].astype(str).to_numpy(dtype=object)
    flip = a > b
    first = np.where(flip, b, a)
    second = np.where(flip, a, b)
    df["_flip"] = flip
    df["_key"] = df["_cluster"] + "\x1f" + first + "\x1f" + second
    return df


def oriented(
    winner: NDArray[np.object_], flip: NDArray[np.bool_]
) -> NDArray[np.object_]:
    """Verdicts in the item's canonical labelling (a = alphabetically first model)."""
    out = np.array(winner, dtype=object)
    out[flip] = [_FLIP.get(v, v) for v in out[flip]]
    return out


def gold_labels(gold: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Majority gold label per item and the annotator x item matrix.

    Returns
    -------
    labels : Series
        Indexed by ``_key``: the canonical-labelling verdict a strict
        majority of the item's annotators gave (NaN without one: such items
        get no gold label).
    votes : DataFrame
        Items x annotators, canonical verdicts (None where not rated).
    """
    g = prepare(gold)
    g["_canon"] = oriented(g["_winner"].to_numpy(dtype=object), g["_flip"].to_numpy())
    # One annotator per column: ``annotator`` (crowd worker) if given, else judge.
    if "annotator" in g.columns:
        g["_rater"] = g["_judge"] + "/" + g["annotator"].astype(str)
    else:
        g["_rater"] = g["_judge"]
    votes = g.pivot_table(
        index="_key", columns="_rater", values="_canon", aggfunc="first"
    )
    counts = pd.crosstab(g["_key"], g["_canon"])
    for label in ("a", "b", "tie"):
        if label not in counts.columns:
            counts[label] = 0
    counts = counts[["a", "b", "tie"]]
    top = counts.max(axis=1)
    # A strict majority of the item's annotators, else no gold label.
    labels = counts.idxmax(axis=1).where(2 * top > counts.sum(axis=1))
    return labels, votes


def attach_gold(df: pd.DataFrame, gold: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``_gold`` (the row's a/b labelling) from a gold table or ``gold`` column."""
    if gold is not None:
        labels, _ = gold_labels(gold)
        canon = df["_key"].map(labels).to_numpy(dtype=object)
        have = pd.notna(canon)
        canon = np.where(have, canon, np.array(None, dtype=object))
        df["_gold"] = oriented(canon, df["_flip"].to_numpy() & have)
        if not have.any():
            raise PrefkitDataError.single(
                "<gold>",
                None,
                "model_a",
                "no gold item matches a judged item (joined on prompt_id and the "
                "model pair); check that both tables use the same prompt ids",
            )
    elif "gold" in df.columns:
        bad = ~df["gold"].isin(["a", "b", "tie"]) & df["gold"].notna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise PrefkitDataError.single(
                "<comparisons>",
                line,
                "gold",
                f"gold label {df['gold'][bad].iloc[0]!r}; expected one of a, b, tie",
            )
        df["_gold"] = df["gold"].astype(object).where(df["gold"].notna(), None)
    return df


def both_orders(df: pd.DataFrame) -> pd.DataFrame:
    """Pairs judged in both display orders by the same judge.

    Returns one row per (judge, item): ``_judge, _cluster, _key,
    first_ab`` (canonical verdict when canonical a was shown first) and
    ``first_ba`` (canonical verdict when canonical b was shown first).
    """
    if "swapped" not in df.columns:
        return pd.DataFrame(
            columns=["_judge", "_cluster", "_key", "first_ab", "first_ba"]
        )
    canon = oriented(df["_winner"].to_numpy(dtype=object), df["_flip"].to_numpy())
    # Display order in canonical terms: canonical a shown first?
    a_first = ~(df["swapped"].to_numpy(dtype=bool) ^ df["_flip"].to_numpy(dtype=bool))
    tmp = pd.DataFrame(
        {
            "_judge": df["_judge"],
            "_cluster": df["_cluster"],
            "_key": df["_key"],
            "canon": canon,
            "a_first": a_first,
        }
    )
    ab = tmp[tmp["a_first"]].drop_duplicates(["_judge", "_key"], keep="last")
    ba = tmp[~tmp["a_first"]].drop_duplicates(["_judge", "_key"], keep="last")
    both = ab.merge(ba[["_judge", "_key", "canon"]], on=["_judge", "_key"])
    both = both.rename(columns={"canon_x": "first_ab", "canon_y": "first_ba"})
    return both[["_judge", "_cluster", "_key", "first_ab", "first_ba"]].reset_index(
        drop=True
    )
