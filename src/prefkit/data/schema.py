"""The canonical tables and their validation.

Three tables carry every preference in prefkit (see ``docs/tables.md``):

``comparisons`` (pairwise)
    ``model_a, model_b, winner`` required (``winner`` may be missing in an
    *unjudged* table); ``prompt_id, prompt, response_a, response_b, p_a,
    judge, swapped, weight`` optional; any other column is free metadata.
``rankings`` (listwise)
    ``prompt_id, ranked`` required (``ranked`` is a list of model ids, best
    first); ``prompt, judge`` optional.
``ratings`` (pointwise)
    ``prompt_id, model, score`` required; ``prompt, response, judge,
    score_dist`` optional.

Outcomes are the labels ``"a"``, ``"b"`` and ``"tie"``, never numbers.
Validation happens once, at the boundary: each ``validate_*`` function checks
types, allowed values, missing fields, NaN and ranges, collects every problem
(up to a limit) with the file and line it came from, and returns the table in
canonical dtypes, or raises :class:`~prefkit.errors.PrefkitDataError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from prefkit.data.checks import (
    LINES_ATTR,
    OUTCOMES,
    SOURCE_ATTR,
    WINNER_DTYPE,
    Collector,
    Column,
    _as_list,
    _check_bool,
    _check_columns,
    _check_float,
    _check_outcome,
    _check_str,
    _finish,
    _ids_as_str,
    _is_missing,
    _source_of,
    duplicated_positions,
)
from prefkit.errors import MAX_PROBLEMS, DroppedRowsWarning, got_expected

__all__ = [
    "COMPARISONS",
    "DATA_KINDS",
    "LINES_ATTR",
    "OUTCOMES",
    "RANKINGS",
    "RATINGS",
    "SOURCE_ATTR",
    "TABLE_KINDS",
    "WINNER_DTYPE",
    "Collector",
    "Column",
    "DataKind",
    "TableKind",
    "duplicated_positions",
    "guess_kind",
    "judged_only",
    "validate",
    "validate_comparisons",
    "validate_rankings",
    "validate_ratings",
]

TableKind = Literal["comparisons", "rankings", "ratings"]
TABLE_KINDS: tuple[TableKind, ...] = ("comparisons", "rankings", "ratings")

#: Every kind of table a reader can produce: the three preference tables,
#: ``pairs`` (prompt/chosen/rejected, for reward models and DPO),
#: ``candidates`` (responses to be judged), ``prompts`` (prompt sets) and
#: ``table`` (a plain table such as a published leaderboard, not validated).
DataKind = Literal[
    "comparisons", "rankings", "ratings", "pairs", "candidates", "prompts", "table"
]
DATA_KINDS: tuple[DataKind, ...] = (
    "comparisons",
    "rankings",
    "ratings",
    "pairs",
    "candidates",
    "prompts",
    "table",
)

COMPARISONS: tuple[Column, ...] = (
    Column("prompt_id", "str", False, "id of the prompt both responses answer"),
    Column("prompt", "str", False, "prompt text"),
    Column("model_a", "str", True, "model shown (or labelled) as A"),
    Column("model_b", "str", True, "model shown (or labelled) as B"),
    Column("response_a", "str", False, "response of model_a"),
    Column("response_b", "str", False, "response of model_b"),
    Column("winner", "outcome", True, "'a', 'b' or 'tie'"),
    Column("p_a", "float", False, "probability that a wins, in [0, 1]; missing: none"),
    Column("judge", "str", False, "who gave the verdict (annotator or judge id)"),
    Column("swapped", "bool", False, "True when B was shown first; missing: unknown"),
    Column("weight", "float", False, "non-negative sample weight; missing: 1.0"),
)
RANKINGS: tuple[Column, ...] = (
    Column("prompt_id", "str", True, "id of the prompt"),
    Column("prompt", "str", False, "prompt text"),
    Column("ranked", "list", True, "model ids, best first, each at most once"),
    Column("judge", "str", False, "who ranked"),
)
RATINGS: tuple[Column, ...] = (
    Column("prompt_id", "str", True, "id of the prompt"),
    Column("prompt", "str", False, "prompt text"),
    Column("model", "str", True, "model that wrote the response"),
    Column("response", "str", False, "response text"),
    Column("score", "float", True, "grade (finite number)"),
    Column("score_dist", "list", False, "probability of each rating level"),
    Column("judge", "str", False, "who graded"),
)
SCHEMAS: dict[TableKind, tuple[Column, ...]] = {
    "comparisons": COMPARISONS,
    "rankings": RANKINGS,
    "ratings": RATINGS,
}


def validate_comparisons(
    df: pd.DataFrame,
    *,
    source: str | None = None,
    require_winner: bool = True,
    max_problems: int = MAX_PROBLEMS,
) -> pd.DataFrame:
    """Check a ``comparisons`` table and return it in canonical dtypes.

    Parameters
    ----------
    df : DataFrame
        One row per comparison (see the module docstring for columns).
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    require_winner : bool, default=True
        False accepts an unjudged table (pairs still to be judged): the
        ``winner`` column may then be absent or hold missing values. Either
        way, a row whose ``unparsable`` column is True (a judge answer that
        could not be read) may lack a winner.
    max_problems : int, default=20
        How many problems to list before summarising the rest.

    Returns
    -------
    DataFrame
        A copy with ``winner`` as a categorical of ``a, b, tie``, ``p_a`` and
        ``weight`` as floats and ``swapped`` as bool. Optional columns may
        hold missing values on some rows: a missing ``weight`` is 1.0, a
        missing ``p_a`` means no probability, and a missing ``swapped`` means
        the display order is unknown (``swapped`` is then a nullable
        ``boolean``).

    Raises
    ------
    PrefkitDataError
        Listing every problem as ``file:line: field: what (got X; expected Y)``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    >>> validate_comparisons(t)["winner"].tolist()
    ['a']
    """
    src, lines = _source_of(df, source)
    out = Collector(src, lines, max_problems)
    skip = set() if require_winner else {"winner"}
    _check_columns(df, COMPARISONS, out, skip)
    result = df.copy()
    result.attrs = dict(df.attrs)
    for name in (
        "prompt_id",
        "prompt",
        "model_a",
        "model_b",
        "response_a",
        "response_b",
        "judge",
    ):
        if name in df.columns:
            if name == "prompt_id":
                result[name] = _ids_as_str(df[name])
            _check_str(result[name], name, name in ("model_a", "model_b"), out)
    if "model_a" in df.columns and "model_b" in df.columns:
        same = np.flatnonzero(
            (
                df["model_a"].to_numpy(dtype=object)
                == df["model_b"].to_numpy(dtype=object)
            )
            & ~_is_missing(df["model_a"])
        )
        out.add_rows(
            same,
            "model_b",
            df["model_b"].to_numpy(dtype=object)[same],
            lambda v: got_expected(
                "same model on both sides", v, "a model other than model_a"
            ),
        )
    if "winner" in df.columns:
        excused = None
        if "unparsable" in df.columns:
            flags = df["unparsable"].to_numpy(dtype=object)
            excused = np.fromiter((v is True or v is np.True_ for v in flags), bool)
        result["winner"] = _check_outcome(df["winner"], require_winner, out, excused)
    elif not require_winner:
        result["winner"] = pd.Series(
            pd.Categorical([None] * len(df), dtype=WINNER_DTYPE), index=df.index
        )
    if "p_a" in df.columns:
        result["p_a"] = _check_float(df["p_a"], "p_a", False, out, 0.0, 1.0)
    if "weight" in df.columns:
        # a row without a weight counts once
        weight = _check_float(df["weight"], "weight", False, out, 0.0, None)
        result["weight"] = weight.fillna(1.0)
    if "swapped" in df.columns:
        result["swapped"] = _check_bool(df["swapped"], "swapped", out)
    return _finish(result, out)


def judged_only(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a comparisons table that carry a verdict.

    Rows whose ``winner`` is missing (pairs not judged yet, or judge answers
    flagged ``unparsable``) are dropped and counted in a
    :class:`~prefkit.errors.DroppedRowsWarning`; the file name and the line
    numbers recorded by the reader follow the kept rows.

    Parameters
    ----------
    df : DataFrame
        A comparisons table, validated or raw.

    Returns
    -------
    DataFrame
        ``df`` itself when every row has a verdict (or there is no ``winner``
        column, which validation reports), else a copy of the judged rows.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x", "x"], "model_b": ["y", "y"],
    ...                   "winner": ["a", None]})
    >>> len(judged_only(t))
    1
    """
    if "winner" not in df.columns:
        return df
    keep = ~_is_missing(df["winner"])
    n_dropped = int((~keep).sum())
    if n_dropped == 0:
        return df
    src = str(df.attrs.get(SOURCE_ATTR, "<table>"))
    unparsable = 0
    if "unparsable" in df.columns:
        flags = df["unparsable"].to_numpy(dtype=object)[~keep]
        unparsable = sum(v is True or v is np.True_ for v in flags)
    why = f"{unparsable} flagged unparsable" if unparsable else "not judged"
    if 0 < unparsable < n_dropped:
        why += f", {n_dropped - unparsable} not judged"
    warnings.warn(
        f"{src}: dropped {n_dropped} of {len(df)} rows without a winner ({why})",
        DroppedRowsWarning,
        stacklevel=2,
    )
    result = df[keep].copy()
    result.attrs = dict(df.attrs)
    lines = df.attrs.get(LINES_ATTR)
    if lines is not None and len(lines) == len(df):
        result.attrs[LINES_ATTR] = np.asarray(lines)[keep]
    return result


def validate_rankings(
    df: pd.DataFrame, *, source: str | None = None, max_problems: int = MAX_PROBLEMS
) -> pd.DataFrame:
    """Check a ``rankings`` table (one ranked list of models per row).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt_id`` and ``ranked`` (a list of at least two distinct
        model ids, best first); ``prompt`` and ``judge`` optional.
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    max_problems : int, default=20
        How many problems to list before summarising the rest.

    Returns
    -------
    DataFrame
        A copy with ``ranked`` as Python lists of str.

    Raises
    ------
    PrefkitDataError
        Listing every problem with its file and line.
    """
    src, lines = _source_of(df, source)
    out = Collector(src, lines, max_problems)
    _check_columns(df, RANKINGS, out, set())
    result = df.copy()
    result.attrs = dict(df.attrs)
    if "prompt_id" in df.columns:
        result["prompt_id"] = _ids_as_str(df["prompt_id"])
        _check_str(result["prompt_id"], "prompt_id", True, out)
    for name in ("prompt", "judge"):
        if name in df.columns:
            _check_str(df[name], name, False, out)
    if "ranked" in df.columns:
        cleaned: list[list[str] | None] = []
        for pos, value in enumerate(df["ranked"].to_numpy(dtype=object)):
            items = _as_list(value)
            if items is None or not all(isinstance(v, str) for v in items):
                out.add(
                    pos,
                    "ranked",
                    got_expected("not a list of model ids", value, "a list of strings"),
                )
                cleaned.append(None)
            elif len(items) < 2:
                out.add(
                    pos, "ranked", got_expected("too few models", items, "at least two")
                )
                cleaned.append(None)
            elif len(set(items)) != len(items):
                dup = sorted({v for v in items if items.count(v) > 1})
                out.add(
                    pos,
                    "ranked",
                    got_expected("duplicated model id", dup, "each model at most once"),
                )
                cleaned.append(None)
            else:
                cleaned.append(list(items))
        result["ranked"] = pd.Series(cleaned, index=df.index, dtype=object)
    return _finish(result, out)


def validate_ratings(
    df: pd.DataFrame, *, source: str | None = None, max_problems: int = MAX_PROBLEMS
) -> pd.DataFrame:
    """Check a ``ratings`` table (one grade of one response per row).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt_id, model, score``; ``prompt, response, judge`` and
        ``score_dist`` (a list of probabilities, one per rating level, summing
        to 1) optional. ``(prompt_id, model, judge)`` must be unique.
    source : str or None, default=None
        Name used in messages; defaults to the file the reader recorded.
    max_problems : int, default=20
        How many problems to list before summarising the rest.

    Returns
    -------
    DataFrame
        A copy with ``score`` as float.

    Raises
    ------
    PrefkitDataError
        Listing every problem with its file and line.
    """
    src, lines = _source_of(df, source)
    out = Collector(src, lines, max_problems)
    _check_columns(df, RATINGS, out, set())
    result = df.copy()
    result.attrs = dict(df.attrs)
    if "prompt_id" in df.columns:
        result["prompt_id"] = _ids_as_str(df["prompt_id"])
    for name in ("prompt_id", "model", "prompt", "response", "judge"):
        if name in result.columns:
            _check_str(result[name], name, name in ("prompt_id", "model"), out)
    if "score" in df.columns:
        result["score"] = _check_float(df["score"], "score", True, out)
    if "score_dist" in df.columns:
        for pos, value in enumerate(df["score_dist"].to_numpy(dtype=object)):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            items = _as_list(value)
            ok = items is not None and all(
                isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1
                for p in items
            )
            if not ok or items is None or abs(sum(items) - 1.0) > 1e-3:
                out.add(
                    pos,
                    "score_dist",
                    got_expected(
                        "not a probability distribution",
                        value,
                        "probabilities in [0, 1] summing to 1",
                    ),
                )
    key = [c for c in ("prompt_id", "model", "judge") if c in df.columns]
    if {"prompt_id", "model"} <= set(key):
        dup = duplicated_positions(result, key)
        keys = result[key].to_numpy(dtype=object)
        out.add_rows(
            dup,
            "+".join(key),
            [tuple(keys[i]) for i in dup],
            lambda v: got_expected(
                "duplicated id", v, "each (" + ", ".join(key) + ") once"
            ),
        )
    return _finish(result, out)


VALIDATORS: dict[TableKind, Callable[..., pd.DataFrame]] = {
    "comparisons": validate_comparisons,
    "rankings": validate_rankings,
    "ratings": validate_ratings,
}


def _validators() -> dict[str, Callable[..., pd.DataFrame]]:
    """Validators of every :data:`DataKind` (the input tables live in ``inputs``)."""
    from prefkit.data import inputs

    validators: dict[str, Callable[..., pd.DataFrame]] = {
        str(k): v for k, v in VALIDATORS.items()
    }
    return {
        **validators,
        "pairs": inputs.validate_pairs,
        "candidates": inputs.validate_candidates,
        "prompts": inputs.validate_prompts,
        "table": inputs.validate_plain,
    }


def validate(df: pd.DataFrame, kind: DataKind, **kwargs: Any) -> pd.DataFrame:
    """Validate ``df`` as the table ``kind`` (one of :data:`DATA_KINDS`)."""
    validators = _validators()
    try:
        validator = validators[kind]
    except KeyError:
        raise ValueError(
            f"unknown table kind {kind!r}; expected one of {', '.join(DATA_KINDS)}"
        ) from None
    return validator(df, **kwargs)


def guess_kind(columns: Sequence[str]) -> DataKind | None:
    """The table whose required columns ``columns`` hold, if any.

    Preference tables are tried first, then ``pairs``, ``candidates`` (a
    ``prompt_id`` with ``model`` or ``response``: one of them missing is then
    reported) and ``prompts``; ``table`` is never guessed.
    """
    present = set(columns)
    if {"model_a", "model_b"} <= present:
        return "comparisons"
    if {"prompt_id", "ranked"} <= present:
        return "rankings"
    if {"prompt_id", "model", "score"} <= present:
        return "ratings"
    if {"prompt", "chosen", "rejected"} <= present:
        return "pairs"
    # a prompt set has neither: a file with one was meant as candidates and
    # its validation names the other column it lacks
    if "prompt_id" in present and {"model", "response"} & present:
        return "candidates"
    if {"prompt_id", "prompt"} <= present:
        return "prompts"
    return None
