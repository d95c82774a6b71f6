"""Pairs (prompt / chosen / rejected) from comparisons, and TRL files out.

TRL's ``DPOTrainer`` and ``RewardTrainer`` read preference datasets in two
styles [DPO]_: *standard* (``prompt``, ``chosen``, ``rejected`` as text) and
*conversational* (the same as lists of ``{"role", "content"}`` messages).
:func:`to_trl` builds either from a pairs table; :func:`write_trl` writes it
as JSONL or Parquet, which ``datasets.load_dataset`` and the trainers accept
unchanged.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from prefkit.data.inputs import MESSAGE_COLUMNS, validate_pairs
from prefkit.data.io import write_table
from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR, validate_comparisons
from prefkit.errors import DroppedRowsWarning, PrefkitDataError

logger = logging.getLogger("prefkit.data")

#: ``df.attrs`` key listing the source lines left out, and why.
DROPPED_ATTR = "prefkit_dropped"

TrlStyle = Literal["auto", "standard", "conversational"]
TRL_STYLES: tuple[TrlStyle, ...] = ("auto", "standard", "conversational")


def comparisons_to_pairs(df: pd.DataFrame) -> pd.DataFrame:
    """Decided comparisons with responses as prompt / chosen / rejected.

    Ties and rows without a verdict carry no preference and are left out:
    a :class:`~prefkit.errors.DroppedRowsWarning` says how many and why, and
    ``attrs["prefkit_dropped"]`` lists their lines and the reason.

    Parameters
    ----------
    df : DataFrame
        A comparisons table with ``prompt``, ``response_a`` and
        ``response_b``.

    Returns
    -------
    DataFrame
        A pairs table with ``prompt_id`` (if present), ``model_chosen`` and
        ``model_rejected`` beside the text.
    """
    table = validate_comparisons(df, require_winner=False)
    source = str(table.attrs.get(SOURCE_ATTR, "<table>"))
    missing = [c for c in ("prompt", "response_a", "response_b") if c not in table]
    if missing:
        raise PrefkitDataError.single(
            source,
            None,
            missing[0],
            "comparisons without texts cannot become pairs: missing column(s) "
            f"{', '.join(missing)}; use a file with prompts and both responses",
        )
    winner = table["winner"].astype(object)
    decided = winner.isin(["a", "b"]).to_numpy()
    a_won = (winner == "a").to_numpy()[decided]
    kept = table[decided]
    reason = _dropped_reason(winner)
    if reason:
        warnings.warn(
            f"{source}: left out {int((~decided).sum())} of {len(table)} rows "
            f"({reason}): no preference to learn from",
            DroppedRowsWarning,
            stacklevel=2,
        )
    pairs = pd.DataFrame(
        {
            "prompt": kept["prompt"].to_numpy(dtype=object),
            "chosen": kept["response_a"].where(a_won, kept["response_b"]).to_numpy(),
            "rejected": kept["response_b"].where(a_won, kept["response_a"]).to_numpy(),
            "model_chosen": kept["model_a"].where(a_won, kept["model_b"]).to_numpy(),
            "model_rejected": kept["model_b"].where(a_won, kept["model_a"]).to_numpy(),
        }
    )
    if "prompt_id" in kept:
        pairs.insert(0, "prompt_id", kept["prompt_id"].to_numpy(dtype=object))
    pairs.attrs[SOURCE_ATTR] = source
    lines = table.attrs.get(LINES_ATTR)
    if lines is not None and len(lines) == len(table):
        pairs.attrs[LINES_ATTR] = pd.Series(lines).to_numpy()[decided]
    if reason:
        all_lines = _lines_of(table)
        pairs.attrs[DROPPED_ATTR] = {
            "lines": all_lines[~decided].tolist(),
            "reason": reason,
        }
    return validate_pairs(pairs)


def _dropped_reason(winner: pd.Series) -> str:
    """``"N ties, M without a verdict"`` for the rows pairs leave out ("" if none)."""
    n_ties = int((winner == "tie").sum())
    n_unjudged = int(winner.isna().sum())
    parts = []
    if n_ties:
        parts.append(f"{n_ties} tie" + ("s" if n_ties > 1 else ""))
    if n_unjudged:
        parts.append(f"{n_unjudged} without a verdict")
    return ", ".join(parts)


def _lines_of(table: pd.DataFrame) -> np.ndarray:
    """The source line of each row (1-based positions if the reader kept none)."""
    lines = table.attrs.get(LINES_ATTR)
    if lines is None or len(lines) != len(table):
        return np.arange(1, len(table) + 1)
    return np.asarray(lines)


def _has_messages(df: pd.DataFrame) -> bool:
    return all(c in df.columns for c in MESSAGE_COLUMNS) and bool(
        df[list(MESSAGE_COLUMNS)].notna().all(axis=None)
    )


def to_trl(df: pd.DataFrame, style: TrlStyle = "auto") -> pd.DataFrame:
    """A pairs table as TRL's preference columns ``prompt, chosen, rejected``.

    Parameters
    ----------
    df : DataFrame
        A pairs table (see :func:`prefkit.data.inputs.validate_pairs`).
    style : {"auto", "standard", "conversational"}, default="auto"
        ``conversational`` uses the message columns, ``standard`` the text;
        ``auto`` picks conversational when every row has messages.

    Returns
    -------
    DataFrame
        Exactly the three columns TRL reads.
    """
    if style not in TRL_STYLES:
        raise ValueError(f"style must be one of {', '.join(TRL_STYLES)}; got {style!r}")
    table = validate_pairs(df)
    talk = _has_messages(table) if style == "auto" else style == "conversational"
    if talk and not _has_messages(table):
        raise PrefkitDataError.single(
            str(table.attrs.get(SOURCE_ATTR, "<table>")),
            None,
            "prompt_messages",
            "conversational TRL output needs prompt_messages, chosen_messages and "
            "rejected_messages on every row; use style='standard'",
        )
    if talk:
        return pd.DataFrame(
            {
                "prompt": table["prompt_messages"].to_numpy(dtype=object),
                "chosen": table["chosen_messages"].to_numpy(dtype=object),
                "rejected": table["rejected_messages"].to_numpy(dtype=object),
            }
        )
    return table[["prompt", "chosen", "rejected"]].reset_index(drop=True)


def write_trl(
    df: pd.DataFrame, path: str | os.PathLike[str], style: TrlStyle = "auto"
) -> Path:
    """Write a pairs table as a TRL preference dataset (JSONL or Parquet)."""
    return write_table(to_trl(df, style), path)
