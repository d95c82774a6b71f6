"""TrustJudge's two inconsistencies: score-comparison and pairwise transitivity.

Score-Comparison inconsistency: a response graded lower pointwise wins the
pairwise comparison. Pairwise Transitivity inconsistency: three verdicts on
responses to one prompt that no weak order explains, either a circular
triple (A > B > C > A) or an equivalence contradiction (A = B, B = C, A > C
and the like) [TrustJudge].
"""

from __future__ import annotations

from itertools import combinations, product
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

TripleKind = Literal["consistent", "cycle", "equivalence"]


def score_comparison_conflicts(
    score_a: ArrayLike, score_b: ArrayLike, winner: ArrayLike
) -> NDArray[np.bool_]:
    """True where the pointwise grades order a pair against its pairwise verdict.

    A conflict is ``score_a < score_b`` with winner ``a``, or ``score_a >
    score_b`` with winner ``b``; ties on either side are not conflicts.
    """
    sa, sb = np.asarray(score_a, dtype=float), np.asarray(score_b, dtype=float)
    w = np.asarray(winner, dtype=object)
    return ((sa < sb) & (w == "a")) | ((sa > sb) & (w == "b"))


def _sign(outcome: str) -> int:
    """+1 when the first of the pair won, -1 when the second, 0 for a tie."""
    return {"a": 1, "b": -1, "tie": 0}[outcome]


def classify_triple(o_xy: str, o_yz: str, o_xz: str) -> TripleKind:
    """Whether three verdicts among x, y, z fit some weak order, and if not how.

    Each ``o_uv`` is ``a`` (u won), ``b`` (v won) or ``tie``.
    """
    want = (_sign(o_xy), _sign(o_yz), _sign(o_xz))
    for rx, ry, rz in product(range(3), repeat=3):
        got = (np.sign(rx - ry), np.sign(ry - rz), np.sign(rx - rz))
        if got == want:
            return "consistent"
    return "cycle" if 0 not in want else "equivalence"


def transitivity_table(
    prompt_id: ArrayLike,
    model_a: ArrayLike,
    model_b: ArrayLike,
    winner: ArrayLike,
    strength: ArrayLike | None = None,
) -> pd.DataFrame:
    """Every triple of models compared pairwise under one prompt, classified.

    Parameters
    ----------
    prompt_id, model_a, model_b, winner : array of shape (n_rows,)
        One judge's verdicts (the last verdict per prompt and pair counts).
    strength : array of shape (n_rows,) or None, default=None
        How sure each verdict was (e.g. ``|p_a - 0.5|``); ranks the cycles.

    Returns
    -------
    DataFrame
        ``prompt_id, x, y, z, kind, strength`` for every complete triple;
        ``strength`` is the weakest of the three verdicts (NaN without it).
    """
    s = np.full(len(np.asarray(winner)), np.nan) if strength is None else strength
    frame = pd.DataFrame(
        {
            "p": np.asarray(prompt_id, dtype=object),
            "a": np.asarray(model_a, dtype=object),
            "b": np.asarray(model_b, dtype=object),
            "w": np.asarray(winner, dtype=object),
            "s": np.asarray(s, dtype=float),
        }
    )
    # Only prompts with at least three distinct models can hold a triple.
    n_models = (
        pd.concat([frame[["p", "a"]], frame[["p", "b"]].set_axis(["p", "a"], axis=1)])
        .groupby("p")["a"]
        .nunique()
    )
    frame = frame[frame["p"].isin(n_models.index[n_models >= 3])]
    rows = []
    for pid, g in frame.groupby("p", sort=False):
        verdict: dict[tuple[str, str], tuple[str, float]] = {}
        for a, b, w, st in zip(g["a"], g["b"], g["w"], g["s"], strict=True):
            verdict[(a, b)] = (w, st)
            verdict[(b, a)] = ({"a": "b", "b": "a"}.get(w, w), st)
        models = sorted({m for pair in verdict for m in pair})
        if len(models) < 3:
            continue
        for x, y, z in combinations(models, 3):
            if (x, y) in verdict and (y, z) in verdict and (x, z) in verdict:
                (oxy, sxy), (oyz, syz), (oxz, sxz) = (
                    verdict[(x, y)],
                    verdict[(y, z)],
                    verdict[(x, z)],
                )
                kind = classify_triple(oxy, oyz, oxz)
                rows.append((pid, x, y, z, kind, float(np.min([sxy, syz, sxz]))))
    return pd.DataFrame(rows, columns=["prompt_id", "x", "y", "z", "kind", "strength"])
