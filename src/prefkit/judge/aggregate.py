"""Pure formulas that turn per-sample verdicts into one row's verdict.

Every verdict here is in the row's own a/b labelling, as a distribution over
the outcomes ``(a, b, tie)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from prefkit.judge.parsing import entropy_bits

Disagreement = Literal["tie", "average", "drop"]
DISAGREEMENTS: tuple[Disagreement, ...] = ("tie", "average", "drop")
OUTCOME_LABELS = ("a", "b", "tie")

#: Uncertainty of an item no sample could judge: the entropy of three equally
#: likely outcomes, the most a verdict can have.
MAX_UNCERTAINTY = float(np.log2(3.0))


@dataclass(frozen=True)
class Sample:
    """One judged sample of one item in one shown order.

    Attributes
    ----------
    dist : array of shape (3,) or None
        Probabilities of (a, b, tie), None on failure.
    verdict : {"a", "b", "tie"} or None
        The verdict the judge gave (its text), None on failure.
    failure : str or None
        Why the reply gave no verdict (e.g. a parse failure).
    attempts : tuple of str
        The reason of each failed request attempt (``"attempt 1: 429 ..."``).
    """

    dist: NDArray[np.float64] | None
    verdict: str | None
    failure: str | None = None
    attempts: tuple[str, ...] = ()


def soft_p_a(dist: NDArray[np.float64]) -> float:
    """Soft label of a distribution over (a, b, tie): a tie counts half.

    .. math:: p_a = P(a) + \\tfrac12 P(\\text{tie})
    """
    return float(dist[0] + 0.5 * dist[2])


def swap_dist(dist: NDArray[np.float64]) -> NDArray[np.float64]:
    """A (first, second, tie) distribution read with b shown first."""
    return np.array([dist[1], dist[0], dist[2]], dtype=float)


def order_verdict(samples: Sequence[Sample]) -> tuple[str | None, float | None]:
    """One shown order's verdict and p_a from its k samples.

    The sample distributions are averaged (FairEval's multiple-evidence
    calibration [Wang23]); the verdict is the most probable outcome of the
    average, a tie when two outcomes are equally probable.
    """
    dists = [s.dist for s in samples if s.dist is not None]
    if not dists:
        return None, None
    mean = dists[0] if len(dists) == 1 else np.mean(np.stack(dists), axis=0)
    top = float(mean.max())
    best = [k for k in range(3) if abs(float(mean[k]) - top) <= 1e-12]
    verdict = OUTCOME_LABELS[best[0]] if len(best) == 1 else "tie"
    return verdict, soft_p_a(mean)


def combine_orders(
    winner_ab: str | None,
    winner_ba: str | None,
    p_a_ab: float | None,
    p_a_ba: float | None,
    disagreement: Disagreement,
) -> tuple[str | None, float | None, bool]:
    """The row's verdict and p_a from its two shown orders.

    ``p_a`` averages both directional probabilities (balanced position
    calibration [Wang23]; TrustJudge's likelihood-aware aggregation uses both
    directions [TrustJudge]):

    .. math:: p_a = \\tfrac12 (p_a^{(ab)} + p_a^{(ba)})

    When the two verdicts differ, ``disagreement`` decides: ``"tie"`` (as
    MT-Bench [Zheng23]), ``"average"`` (the verdict follows the averaged
    p_a: a above 1/2, b below, tie at 1/2) or ``"drop"`` (no verdict).

    Returns
    -------
    winner, p_a, keep
        ``keep`` is False for a disagreement under ``"drop"``.
    """
    ps = [p for p in (p_a_ab, p_a_ba) if p is not None]
    p_a = sum(ps) / len(ps) if ps else None
    if winner_ab is None or winner_ba is None:
        return winner_ab or winner_ba, p_a, True
    if winner_ab == winner_ba:
        return winner_ab, p_a, True
    if disagreement == "tie":
        return "tie", p_a, True
    if disagreement == "drop":
        return None, p_a, False
    if p_a is None or abs(p_a - 0.5) <= 1e-12:
        return "tie", p_a, True
    return ("a" if p_a > 0.5 else "b"), p_a, True


def diversity_entropy(verdicts: Sequence[str]) -> float:
    """Balanced-position diversity entropy of an item's verdicts (bits).

    The entropy of the verdicts over both shown orders and all k samples
    (FairEval's BPDE [Wang23]); an item no sample judged gets
    :data:`MAX_UNCERTAINTY`.

    .. math:: H = -\\sum_{o \\in \\{a, b, tie\\}} q_o \\log_2 q_o
    """
    if not verdicts:
        return MAX_UNCERTAINTY
    counts = [sum(v == o for v in verdicts) for o in OUTCOME_LABELS]
    return entropy_bits(counts)


def binary_entropy(p_a: float | None) -> float:
    """Entropy (bits) of a soft label; the uncertainty of score-only judges."""
    if p_a is None or not np.isfinite(p_a):
        return MAX_UNCERTAINTY
    return entropy_bits([p_a, 1.0 - p_a])


def positional_consistency(
    winner_ab: Sequence[object], winner_ba: Sequence[object]
) -> float:
    """Share of items whose verdict is the same in both shown orders.

    Items missing a verdict in either order are left out; NaN if none remain.
    """
    pairs = [
        (x, y)
        for x, y in zip(winner_ab, winner_ba, strict=True)
        if isinstance(x, str) and isinstance(y, str)
    ]
    if not pairs:
        return float("nan")
    return float(np.mean([x == y for x, y in pairs]))
