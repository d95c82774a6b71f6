"""The human-review queue: the items the judges could not settle."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from prefkit.data.io import write_table
from prefkit.judge.types import JudgeError

QUEUE_COLUMNS = (
    "prompt_id",
    "prompt",
    "model_a",
    "model_b",
    "response_a",
    "response_b",
    "uncertainty",
)
_OPTIONAL = ("p_a", "judge", "verdicts")


def route_to_humans(judged: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` most uncertain judged pairs, in the human-review-queue format.

    Items are ordered by ``uncertainty`` (the balanced-position diversity
    entropy of their verdicts [Wang23]), highest first; equal uncertainties
    are ordered by how close ``p_a`` is to 1/2, then by input order.

    Parameters
    ----------
    judged : DataFrame
        Output of :func:`prefkit.judge.judge_pairs`.
    n : int
        How many items to route (fewer if the table is shorter).

    Returns
    -------
    DataFrame
        ``prompt_id, prompt, model_a, model_b, response_a, response_b,
        uncertainty`` plus ``p_a, judge, verdicts`` where present (see
        ``docs/tables.md``).

    Examples
    --------
    >>> t = pd.DataFrame({"prompt_id": ["1", "2"], "prompt": ["q", "r"],
    ...     "model_a": ["x", "x"], "model_b": ["y", "y"],
    ...     "response_a": ["s", "t"], "response_b": ["u", "v"],
    ...     "uncertainty": [0.0, 1.0]})
    >>> route_to_humans(t, 1)["prompt_id"].tolist()
    ['2']
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise JudgeError(f"n must be a non-negative integer (got {n!r})")
    missing = [c for c in QUEUE_COLUMNS if c not in judged.columns]
    if missing:
        raise JudgeError(
            f"judged table lacks the column(s) {', '.join(missing)} needed by the "
            "human-review queue; pass the output of judge_pairs"
        )
    unc = pd.to_numeric(judged["uncertainty"], errors="coerce")
    if unc.isna().any() or (unc < 0).any():
        bad = judged["uncertainty"][unc.isna() | (unc < 0)].iloc[0]
        raise JudgeError(
            f"column uncertainty holds {bad!r}; expected numbers >= 0 for every row"
        )
    closeness = (
        (pd.to_numeric(judged["p_a"], errors="coerce") - 0.5).abs().fillna(0.0)
        if "p_a" in judged.columns
        else pd.Series(0.0, index=judged.index)
    )
    order = np.lexsort((np.arange(len(judged)), closeness.to_numpy(), -unc.to_numpy()))
    columns = list(QUEUE_COLUMNS) + [c for c in _OPTIONAL if c in judged.columns]
    queue = judged.iloc[order[:n]][columns].reset_index(drop=True)
    queue["uncertainty"] = queue["uncertainty"].astype(float)
    if "verdicts" in queue.columns:
        queue["verdicts"] = queue["verdicts"].map(lambda v: [str(x) for x in v])
    return queue


def write_queue(queue: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a human-review queue as JSONL (the format the arena reads)."""
    if not str(path).endswith((".jsonl", ".jsonl.gz")):
        raise JudgeError(
            f"queue file {path} must end in .jsonl (the arena reads JSONL)"
        )
    write_table(queue, path)
