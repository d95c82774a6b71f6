"""Ranked lists of k >= 2 responses per prompt, for listwise DPO [DPO].

:func:`ranked_lists` reads either a *ranked* table (one row per prompt and
response with a ``rank``, ``score`` or ``rating``) or a *candidates* table
(``prompt, model, response``) together with a table of scores, and returns
one row per prompt with its responses best first. :func:`ranked_logps` puts
the log-probabilities of such a list in the form
:func:`~prefkit.optimize.losses.listwise_loss` expects, and
:func:`adjacent_order` counts the adjacent ranked pairs that the implied
rewards order correctly (the trainer's per-step metric).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from torch import Tensor

from prefkit.data.checks import LINES_ATTR
from prefkit.errors import DroppedRowsWarning, PrefkitDataError, got_expected
from prefkit.optimize.losses import LossOutput, PreferenceLogps, compute_loss
from prefkit.optimize.sequences import (
    EncodedList,
    Messages,
    completion_logps,
    encode_completions,
)

#: Columns that order the responses, in the order they are looked for:
#: ``rank`` (1 = best, lower is better), then ``score``, then ``rating``
#: (higher is better).
ORDER_COLUMNS = ("rank", "score", "rating")


def is_ranked_table(df: pd.DataFrame) -> bool:
    """True for a table :func:`as_ranked_lists` reads (ranked rows or lists).

    A pairs table (``chosen`` or ``response_a`` columns) is not one.
    """
    columns = set(map(str, df.columns))
    if columns & {"chosen", "response_a"}:
        return False
    if {"prompt", "responses"} <= columns:
        return True
    return {"prompt", "response"} <= columns and bool(columns & set(ORDER_COLUMNS))


def ranked_lists(
    df: pd.DataFrame,
    source: str = "<table>",
    *,
    scores: pd.DataFrame | None = None,
    scores_source: str = "<scores>",
) -> pd.DataFrame:
    """The responses of each prompt, best first, from a ranked or scored table.

    Parameters
    ----------
    df : DataFrame
        One row per (prompt, response): ``prompt``, ``response`` and one of
        ``rank`` (1 = best), ``score`` or ``rating`` (higher is better); when
        several are present the first of that list is used. Optional
        ``prompt_id`` (rows are grouped by ``prompt_id`` and ``prompt``;
        otherwise by ``prompt``) and ``model``. With ``scores`` given, ``df``
        is a candidates table ``prompt, model, response`` instead.
    source : str, default="<table>"
        Name of ``df`` in error messages.
    scores : DataFrame or None, default=None
        The scores of a candidates table: ``model``, ``prompt_id`` (or
        ``prompt`` when either table lacks ``prompt_id``) and one of ``rank``,
        ``score``, ``rating``; joined to ``df`` on those keys. Every
        candidate needs exactly one score.
    scores_source : str, default="<scores>"
        Name of ``scores`` in error messages.

    Returns
    -------
    DataFrame
        One row per prompt, in the order prompts first appear: ``prompt_id``
        (when given), ``prompt``, ``responses`` (list of k >= 2 texts, best
        first), ``scores`` (the ordering values in that order) and ``models``
        (when ``df`` has ``model``).

    Raises
    ------
    PrefkitDataError
        One line naming the source, the row (1-based; the file line when the
        reader recorded it) and the field: a missing column, a response that
        is not text, an ordering value that is not a finite number, a
        candidate without a score, or no prompt left with two responses.

    Notes
    -----
    Ties (equal rank or score within a prompt) are broken by row order: of
    two tied responses, the one on the earlier row ranks higher. Prompts with
    fewer than two responses cannot form a list: they are dropped with a
    :class:`~prefkit.errors.DroppedRowsWarning` saying how many (and
    ``attrs["prefkit_dropped_prompts"]`` holds their number).

    Examples
    --------
    >>> t = pd.DataFrame({"prompt": ["q", "q", "q"], "response": ["a", "b", "c"],
    ...     "score": [2.0, 9.0, 5.0]})
    >>> ranked_lists(t)["responses"].tolist()
    [['b', 'c', 'a']]
    """
    if scores is not None:
        df = _join_scores(df, source, scores, scores_source)
    order = _order_column(df, source)
    _require(df, source, ("prompt", "response"))
    lines = _lines(df)
    _check_texts(df["response"], "response", source, lines)
    key = _numbers(df[order], order, source, lines)

    # rank: lower is better; score / rating: higher is better
    sort_key = key if order == "rank" else -key
    groups = _group_ids(df)
    # stable sort by (group, key): ties keep the row order
    rows = np.lexsort((np.arange(len(df)), sort_key, groups))
    out_rows: list[dict[str, Any]] = []
    dropped = 0
    for group in _split(rows, groups[rows]):
        if len(group) < 2:
            dropped += 1
            continue
        first = int(group.min())
        row: dict[str, Any] = {}
        if "prompt_id" in df.columns:
            row["prompt_id"] = str(df["prompt_id"].iloc[first])
        row["prompt"] = df["prompt"].iloc[first]
        row["responses"] = [str(df["response"].iloc[i]) for i in group]
        row["scores"] = [float(key[i]) for i in group]
        if "model" in df.columns:
            row["models"] = [str(df["model"].iloc[i]) for i in group]
        out_rows.append(row)

    if not out_rows:
        raise PrefkitDataError.single(
            source,
            None,
            "prompt",
            "no prompt has 2 or more responses (a ranked list needs k >= 2); "
            "give several responses per prompt",
        )
    if dropped:
        warnings.warn(
            f"{source}: dropped {dropped} prompts with fewer than 2 responses "
            f"(kept {len(out_rows)})",
            DroppedRowsWarning,
            stacklevel=2,
        )
    # groups are numbered by first appearance, so the lists keep that order
    out = pd.DataFrame(out_rows)
    out.attrs["prefkit_dropped_prompts"] = dropped
    return out


def as_ranked_lists(df: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """``df`` if it already holds lists (``prompt, responses``), else read it.

    A ``responses`` column must hold lists of at least two texts, best first.
    """
    if "responses" not in df.columns:
        return ranked_lists(df, source)
    lines = _lines(df)
    for i, value in enumerate(df["responses"].tolist()):
        items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else None
        if (
            items is None
            or len(items) < 2
            or not all(isinstance(v, str) for v in items)
        ):
            raise PrefkitDataError.single(
                source,
                int(lines[i]),
                "responses",
                got_expected("not a ranked list", value, "a list of >= 2 texts"),
            )
    return df.reset_index(drop=True)


def ranked_logps(policy: Tensor, reference: Tensor) -> PreferenceLogps:
    """One ranked list's log-probabilities as ``listwise_loss`` takes them.

    Parameters
    ----------
    policy, reference : Tensor of shape (k,)
        Log-probabilities of the k responses, best first.

    Returns
    -------
    PreferenceLogps
        A batch of one list: ``policy_ranked`` / ``reference_ranked`` of
        shape (1, k); the best and the worst responses as chosen / rejected.
    """
    return PreferenceLogps(
        policy_chosen=policy[:1],
        policy_rejected=policy[-1:],
        reference_chosen=reference[:1],
        reference_rejected=reference[-1:],
        policy_ranked=policy[None],
        reference_ranked=reference[None],
    )


def adjacent_order(policy: Tensor, reference: Tensor) -> tuple[int, int]:
    """Adjacent ranked pairs ordered correctly by implied reward, and their number.

    The implied reward of response j is :math:`\\beta\\log\\pi_\\theta(y_j|x)
    / \\pi_{ref}(y_j|x)`; pair (j, j+1) is ordered correctly when response j
    has the strictly larger reward (so a policy equal to its reference
    orders none). ``beta > 0`` does not change the count.
    """
    ratios = (policy - reference).detach()
    correct = int((ratios[:-1] > ratios[1:]).sum())
    return correct, int(ratios.shape[0]) - 1


def encode_lists(
    tokenizer: Any,
    lists: pd.DataFrame,
    *,
    system_prompt: str,
    max_length: int = 256,
    max_prompt_length: int = 128,
) -> list[EncodedList]:
    """Token ids of every ranked list (``prompt, responses``), best first."""
    prompts: list[str | Messages] = lists["prompt"].tolist()
    return [
        encode_completions(
            tokenizer,
            prompt,
            [str(r) for r in responses],
            system_prompt=system_prompt,
            max_length=max_length,
            max_prompt_length=max_prompt_length,
        )
        for prompt, responses in zip(prompts, lists["responses"].tolist(), strict=True)
    ]


def list_loss(
    model: Any,
    item: EncodedList,
    reference: Tensor,
    loss_params: Mapping[str, float],
    chunk: int = 512,
) -> tuple[LossOutput, dict[str, float]]:
    """The listwise loss of one ranked list (differentiable) [DPO].

    One forward runs the k responses on the shared prompt. Returns the loss
    and the adjacent ranked pairs the implied rewards order correctly
    (``adjacent_correct``) out of ``adjacent_pairs``.
    """
    policy = completion_logps(model, item.prompt_ids, item.completions, chunk)
    out = compute_loss("listwise", ranked_logps(policy, reference), **loss_params)
    correct, total = adjacent_order(policy, reference)
    return out, {"adjacent_correct": correct, "adjacent_pairs": total}


# -- reading helpers -------------------------------------------------------


def _lines(df: pd.DataFrame) -> np.ndarray:
    """1-based line of each row: the file's when the reader recorded it."""
    lines = df.attrs.get(LINES_ATTR)
    if lines is not None and len(lines) == len(df):
        return np.asarray(lines)
    return np.arange(1, len(df) + 1)


def _require(df: pd.DataFrame, source: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in df.columns:
            raise PrefkitDataError.single(
                source,
                None,
                column,
                f"column missing (got columns {sorted(map(str, df.columns))}); "
                "a ranked table needs prompt, response and rank, score or rating",
            )


def _order_column(df: pd.DataFrame, source: str) -> str:
    for column in ORDER_COLUMNS:
        if column in df.columns:
            return column
    raise PrefkitDataError.single(
        source,
        None,
        "rank",
        f"no ordering column (got columns {sorted(map(str, df.columns))}); add "
        "`rank` (1 = best) or `score` / `rating` (higher is better), or pass "
        "the scores of a candidates table",
    )


def _check_texts(column: pd.Series, name: str, source: str, lines: np.ndarray) -> None:
    bad = ~column.map(lambda v: isinstance(v, str)).to_numpy(bool)
    if bad.any():
        i = int(bad.argmax())
        raise PrefkitDataError.single(
            source,
            int(lines[i]),
            name,
            got_expected("not text", column.iloc[i], "a response text"),
        )


def _numbers(column: pd.Series, name: str, source: str, lines: np.ndarray) -> Any:
    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(bad.argmax())
        raise PrefkitDataError.single(
            source,
            int(lines[i]),
            name,
            got_expected("not a finite number", column.iloc[i], "a number"),
        )
    return values


def _prompt_key(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, np.ndarray):
        prompt = prompt.tolist()
    return json.dumps(prompt, sort_keys=True, default=str)


def _group_ids(df: pd.DataFrame) -> np.ndarray:
    """An integer per (prompt_id, prompt), numbered by first appearance."""
    prompts = [_prompt_key(p) for p in df["prompt"].tolist()]
    if "prompt_id" in df.columns:
        ids = df["prompt_id"].astype(str).tolist()
        keys = [f"{i}\x00{p}" for i, p in zip(ids, prompts, strict=True)]
    else:
        keys = prompts
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    return np.asarray(codes)


def _split(rows: np.ndarray, groups: np.ndarray) -> list[np.ndarray]:
    """``rows`` (sorted by group) cut where the group changes."""
    cuts = np.flatnonzero(np.diff(groups)) + 1
    return np.split(rows, cuts)


def _join_scores(
    df: pd.DataFrame, source: str, scores: pd.DataFrame, scores_source: str
) -> pd.DataFrame:
    """A candidates table with each candidate's score joined on."""
    _require(df, source, ("prompt", "model", "response"))
    order = _order_column(scores, scores_source)
    both_ids = "prompt_id" in df.columns and "prompt_id" in scores.columns
    keys = ["prompt_id" if both_ids else "prompt", "model"]
    for column in keys:
        if column not in scores.columns:
            raise PrefkitDataError.single(
                scores_source,
                None,
                column,
                f"column missing (got columns {sorted(map(str, scores.columns))}); "
                f"the scores are joined to the candidates on {', '.join(keys)}",
            )
    left = df.drop(columns=[c for c in ORDER_COLUMNS if c in df.columns])
    right = scores.loc[:, [*keys, order]].copy()
    left_keys = left[keys].astype(str)
    right_keys = right[keys].astype(str)
    duplicated = right_keys.duplicated(keep="first").to_numpy()
    if duplicated.any():
        i = int(duplicated.argmax())
        raise PrefkitDataError.single(
            scores_source,
            int(_lines(scores)[i]),
            keys[0],
            f"a second score for {tuple(right_keys.iloc[i])}; keep one score "
            "per prompt and model",
        )
    lookup = {tuple(k): i for i, k in enumerate(right_keys.itertuples(index=False))}
    found = [lookup.get(tuple(k)) for k in left_keys.itertuples(index=False)]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        i = missing[0]
        raise PrefkitDataError.single(
            source,
            int(_lines(df)[i]),
            "model",
            f"no score for {tuple(left_keys.iloc[i])} in {scores_source} "
            f"({len(missing)} candidates unscored); score them or drop them",
        )
    out = left.copy()
    out[order] = right[order].to_numpy()[np.asarray(found, dtype=int)]
    out.attrs = dict(df.attrs)
    return out
