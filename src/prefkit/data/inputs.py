"""Validation of the non-preference tables: pairs, candidates, prompt sets.

``pairs`` (prompt / chosen / rejected)
    What reward models and DPO-family losses train on: ``prompt``, ``chosen``
    and ``rejected`` as text are required; ``prompt_messages``,
    ``chosen_messages`` and ``rejected_messages`` (lists of ``{"role",
    "content"}``) hold the same conversation as messages where it has turns.
``candidates``
    Responses waiting for a judge: ``prompt_id, model, response`` required,
    ``prompt`` optional, ``(prompt_id, model)`` unique.
``prompts``
    A prompt set: ``prompt_id`` (unique) and ``prompt``; ``reference`` (a
    reference answer) optional.
``table``
    A plain table (a published leaderboard, say) checked only for rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.schema import (
    Collector,
    Column,
    _check_columns,
    _check_str,
    _ids_as_str,
    _source_of,
    duplicated_positions,
)
from prefkit.errors import MAX_PROBLEMS, got_expected

PAIRS: tuple[Column, ...] = (
    Column("prompt_id", "str", False, "id of the prompt"),
    Column("prompt", "str", True, "prompt text (the shared dialogue prefix)"),
    Column("chosen", "str", True, "the preferred continuation"),
    Column("rejected", "str", True, "the dispreferred continuation"),
    Column("prompt_messages", "list", False, "the prompt as chat messages"),
    Column("chosen_messages", "list", False, "the chosen turn(s) as messages"),
    Column("rejected_messages", "list", False, "the rejected turn(s) as messages"),
)
CANDIDATES: tuple[Column, ...] = (
    Column("prompt_id", "str", True, "id of the prompt"),
    Column("prompt", "str", False, "prompt text"),
    Column("model", "str", True, "model that wrote the response"),
    Column("response", "str", True, "response text"),
)
PROMPTS: tuple[Column, ...] = (
    Column("prompt_id", "str", True, "id of the prompt (unique)"),
    Column("prompt", "str", True, "prompt text (the first turn)"),
    Column("reference", "str", False, "reference answer"),
)
MESSAGE_COLUMNS = ("prompt_messages", "chosen_messages", "rejected_messages")


def _validate_text_table(
    df: pd.DataFrame,
    schema: tuple[Column, ...],
    key: list[str],
    source: str | None,
    max_problems: int,
) -> pd.DataFrame:
    """Columns present, text where text belongs, ``key`` unique; ids as text."""
    out = _start(df, source, max_problems)
    _check_columns(df, schema, out, set())
    result = _copy(df)
    if "prompt_id" in df.columns:
        result["prompt_id"] = _ids_as_str(df["prompt_id"])
    for column in schema:
        if column.name in result.columns:
            _check_str(result[column.name], column.name, column.required, out)
    if set(key) <= set(result.columns):
        _unique(result, key, out)
    out.raise_if_any()
    return result


def _start(df: pd.DataFrame, source: str | None, limit: int) -> Collector:
    src, lines = _source_of(df, source)
    return Collector(src, lines, limit)


def _copy(df: pd.DataFrame) -> pd.DataFrame:
    result = df.copy()
    result.attrs = dict(df.attrs)
    return result


def _unique(result: pd.DataFrame, key: list[str], out: Collector) -> None:
    """Report every row whose ``key`` repeats an earlier row's."""
    dup = duplicated_positions(result, key)
    keys = result[key].to_numpy(dtype=object)
    out.add_rows(
        dup,
        "+".join(key),
        [tuple(keys[i]) if len(key) > 1 else keys[i][0] for i in dup],
        lambda v: got_expected("duplicated id", v, f"each {'+'.join(key)} once"),
    )


def is_message_list(value: Any) -> bool:
    """True for a non-empty list of ``{"role": str, "content": str}`` dicts."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list) or not value:
        return False
    return all(
        isinstance(m, dict)
        and isinstance(m.get("role"), str)
        and isinstance(m.get("content"), str)
        for m in value
    )


def validate_pairs(
    df: pd.DataFrame, *, source: str | None = None, max_problems: int = MAX_PROBLEMS
) -> pd.DataFrame:
    """Check a ``pairs`` table (prompt, chosen, rejected).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt, chosen, rejected`` (text); optional ``prompt_id``
        and the ``*_messages`` columns (lists of role/content dicts).
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    max_problems : int, default=20
        How many problems to list before summarising the rest.

    Returns
    -------
    DataFrame
        A copy with message columns as Python lists.

    Raises
    ------
    PrefkitDataError
        Listing every problem with its file and line.
    """
    out = _start(df, source, max_problems)
    _check_columns(df, PAIRS, out, set())
    result = _copy(df)
    if "prompt_id" in df.columns:
        result["prompt_id"] = _ids_as_str(df["prompt_id"])
        _check_str(result["prompt_id"], "prompt_id", False, out)
    for name in ("prompt", "chosen", "rejected"):
        if name in df.columns:
            _check_str(df[name], name, True, out)
    for name in MESSAGE_COLUMNS:
        if name not in df.columns:
            continue
        cleaned: list[Any] = []
        for pos, value in enumerate(df[name].to_numpy(dtype=object)):
            if is_message_list(value):
                cleaned.append([dict(m) for m in list(value)])
                continue
            cleaned.append(None)
            expected = "a non-empty list of {role, content} messages"
            out.add(pos, name, got_expected("not a message list", value, expected))
        result[name] = pd.Series(cleaned, index=df.index, dtype=object)
    out.raise_if_any()
    return result


def validate_candidates(
    df: pd.DataFrame,
    *,
    source: str | None = None,
    max_problems: int = MAX_PROBLEMS,
    require_prompt: bool = False,
) -> pd.DataFrame:
    """Check a ``candidates`` table (one response per prompt and model).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt_id, model, response``; ``prompt`` optional.
        ``(prompt_id, model)`` must be unique.
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    max_problems : int, default=20
        How many problems to list before summarising the rest.
    require_prompt : bool, default=False
        True when the prompt text must be there on every row (a judge reads
        it).

    Returns
    -------
    DataFrame
        A copy with ``prompt_id`` as text (``1`` and ``"1"`` are one id).

    Raises
    ------
    PrefkitDataError
        Listing every problem with its file and line.
    """
    schema = CANDIDATES
    if require_prompt:
        schema = tuple(
            Column(c.name, c.kind, True, c.doc) if c.name == "prompt" else c
            for c in CANDIDATES
        )
    return _validate_text_table(
        df, schema, ["prompt_id", "model"], source, max_problems
    )


def validate_prompts(
    df: pd.DataFrame, *, source: str | None = None, max_problems: int = MAX_PROBLEMS
) -> pd.DataFrame:
    """Check a ``prompts`` table (a prompt set).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt_id`` (unique) and ``prompt``; ``reference`` optional;
        other columns (``category``, ``turns``) are kept.
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    max_problems : int, default=20
        How many problems to list before summarising the rest.

    Returns
    -------
    DataFrame
        A copy with ``prompt_id`` as text.

    Raises
    ------
    PrefkitDataError
        Listing every problem with its file and line.
    """
    return _validate_text_table(df, PROMPTS, ["prompt_id"], source, max_problems)


def validate_plain(
    df: pd.DataFrame, *, source: str | None = None, max_problems: int = MAX_PROBLEMS
) -> pd.DataFrame:
    """Accept any table with at least one row (published leaderboards)."""
    out = _start(df, source, max_problems)
    if len(df) == 0:
        out.add(None, "-", "empty table (no rows)")
    out.raise_if_any()
    return _copy(df)
