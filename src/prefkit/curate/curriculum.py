"""Curry-DPO: ordered preference pairs from k rated responses per prompt [CurryDPO].

From a ``ratings`` table with k rated responses per prompt, every pair of
responses with different scores becomes a preference pair (the higher score
is chosen), and the pairs are ordered easy to hard: a large rating gap is an
easy pair, a small one a hard pair. Curry-DPO trains on them in that order
(in stages: the easiest pair of every prompt first).
"""

from __future__ import annotations

from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd

from prefkit.data.schema import validate_ratings
from prefkit.errors import PrefkitDataError, PrefkitError

PairScheme = Literal["all", "best_vs_rest"]
Ordering = Literal["global", "staged"]


class CurationError(PrefkitError, ValueError):
    """A curation setting that cannot be used."""


def curriculum_pairs(
    ratings: pd.DataFrame,
    *,
    pairs: PairScheme = "all",
    order: Ordering = "global",
    seed: int = 0,
) -> pd.DataFrame:
    """Preference pairs from rated responses, ordered easy to hard by rating gap.

    Parameters
    ----------
    ratings : DataFrame
        A ``ratings`` table with ``prompt_id, model, score`` and the text
        columns ``prompt`` and ``response``.
    pairs : {"all", "best_vs_rest"}, default="all"
        ``"all"``: every pair of responses of a prompt with different scores
        (k(k-1)/2 at most); ``"best_vs_rest"``: the top-rated response
        against each of the others.
    order : {"global", "staged"}, default="global"
        ``"global"``: all pairs sorted by decreasing gap. ``"staged"``: stage
        1 holds the widest-gap pair of every prompt, stage 2 the second, ...
        (pairs within a stage by decreasing gap), as Curry-DPO's iterations.
    seed : int, default=0
        Breaks ties between equal gaps (a seeded shuffle before a stable sort).

    Returns
    -------
    DataFrame
        ``prompt_id, prompt, chosen, rejected, model_chosen, model_rejected,
        score_chosen, score_rejected, gap, stage``, easiest first. It feeds
        :class:`prefkit.optimize.trainer.PreferenceTrainer` directly.

    Examples
    --------
    >>> r = pd.DataFrame({"prompt_id": ["p"] * 3, "prompt": ["q"] * 3,
    ...     "model": ["a", "b", "c"], "response": ["A", "B", "C"],
    ...     "score": [5.0, 4.0, 1.0]})
    >>> curriculum_pairs(r)[["chosen", "rejected", "gap"]].values.tolist()
    [['A', 'C', 4.0], ['B', 'C', 3.0], ['A', 'B', 1.0]]
    """
    if pairs not in ("all", "best_vs_rest"):
        raise CurationError(f"`pairs` is {pairs!r}; expected 'all' or 'best_vs_rest'")
    if order not in ("global", "staged"):
        raise CurationError(f"`order` is {order!r}; expected 'global' or 'staged'")
    table = validate_ratings(ratings)
    missing = [c for c in ("prompt", "response") if c not in table.columns]
    if missing:
        raise PrefkitDataError.single(
            "<table>",
            None,
            missing[0],
            f"column missing (got columns {sorted(table.columns)}); Curry-DPO "
            "needs the prompt and response texts",
        )

    rows = []
    for prompt_id, group in table.groupby("prompt_id", sort=False):
        rows.extend(_prompt_pairs(str(prompt_id), group, pairs))
    out = pd.DataFrame(rows, columns=_COLUMNS)
    if out.empty:
        return out.assign(stage=pd.Series(dtype=int))

    # seeded shuffle, then stable sorts: ties in gap keep a random order
    rng = np.random.default_rng(seed)
    out = out.iloc[rng.permutation(len(out))]
    out = out.sort_values("gap", ascending=False, kind="stable")
    out["stage"] = out.groupby("prompt_id", sort=False).cumcount() + 1
    if order == "staged":
        out = out.sort_values("stage", kind="stable")
    return out.reset_index(drop=True)


_COLUMNS = [
    "prompt_id",
    "prompt",
    "chosen",
    "rejected",
    "model_chosen",
    "model_rejected",
    "score_chosen",
    "score_rejected",
    "gap",
]


def _prompt_pairs(
    prompt_id: str, group: pd.DataFrame, scheme: PairScheme
) -> list[list[object]]:
    """The pairs of one prompt, chosen = higher score; equal scores skipped."""
    ranked = group.sort_values("score", ascending=False, kind="stable")
    items = [
        (str(m), str(r), float(sc), str(p))
        for m, r, sc, p in zip(
            ranked["model"],
            ranked["response"],
            ranked["score"],
            ranked["prompt"],
            strict=True,
        )
    ]
    if scheme == "best_vs_rest":
        candidates = [(items[0], other) for other in items[1:]]
    else:
        candidates = list(combinations(items, 2))
    out: list[list[object]] = []
    for (model_hi, text_hi, hi, prompt), (model_lo, text_lo, lo, _) in candidates:
        if hi == lo:
            continue
        out.append(
            [prompt_id, prompt, text_hi, text_lo, model_hi, model_lo, hi, lo, hi - lo]
        )
    return out
