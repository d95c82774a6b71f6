"""Ranking-accuracy diagnostics of preference-trained policies [RankAcc].

Chen et al. (2024) show that DPO and RLHF policies rarely learn to rank the
preferred response above the other by likelihood, far below the *idealized*
ranking accuracy that the exact optimum of the objective would reach. These
functions measure both from per-sequence log-probabilities:

- :func:`ranking_accuracy`: how often :math:`\\pi(y_w|x) > \\pi(y_l|x)`, with a
  Wilson confidence interval;
- :func:`idealized_ranking_accuracy`: the same for the optimal policy
  :math:`\\pi^* \\propto \\pi_{ref}\\exp(r/\\beta)` given the reference model
  and the preference probability of each pair;
- :func:`alignment_gap`: idealized minus actual;
- :func:`pair_difficulty`: how far the reference model is from ranking each
  pair correctly, and the DPO loss the pair must reach to be ranked right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from prefkit.errors import PrefkitError


class DiagnosticsError(PrefkitError, ValueError):
    """Inputs of a ranking diagnostic that cannot be used."""


@dataclass(frozen=True)
class Accuracy:
    """A proportion with its confidence interval.

    Attributes
    ----------
    value : float
        The proportion.
    lower, upper : float
        Wilson score interval at ``confidence``.
    n : int
        Pairs counted.
    confidence : float
        Level of the interval.
    """

    value: float
    lower: float
    upper: float
    n: int
    confidence: float


def _vector(values: ArrayLike, name: str, n: int | None = None) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DiagnosticsError(
            f"`{name}` must be 1-D, one value per pair (got shape {array.shape})"
        )
    if n is not None and array.shape[0] != n:
        raise DiagnosticsError(
            f"`{name}` has {array.shape[0]} values; expected {n}, one per pair"
        )
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise DiagnosticsError(
            f"`{name}` holds {array[bad]} at position {bad}; expected finite "
            "log-probabilities"
        )
    return array


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Accuracy:
    """Proportion ``successes / n`` with its Wilson score interval.

    .. math:: \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n
              + z^2/4n^2}}{1 + z^2/n}
    """
    if not 0 < confidence < 1:
        raise DiagnosticsError(
            f"`confidence` must be in (0, 1) (got {confidence!r}); e.g. 0.95"
        )
    if n < 1:
        raise DiagnosticsError("no pairs to measure (got n = 0)")
    p = successes / n
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Accuracy(p, max(0.0, centre - half), min(1.0, centre + half), n, confidence)


def ranking_accuracy(
    chosen_logps: ArrayLike,
    rejected_logps: ArrayLike,
    confidence: float = 0.95,
) -> Accuracy:
    """Share of pairs whose chosen response the model finds more likely [RankAcc].

    .. math:: R(\\pi) = \\frac{1}{N}\\sum_i
              \\mathbb{1}[\\pi(y_w^i|x^i) > \\pi(y_l^i|x^i)]

    Parameters
    ----------
    chosen_logps, rejected_logps : array-like of shape (n_pairs,)
        Summed log-probabilities under the model (divide by lengths first
        for the length-normalised variant).
    confidence : float, default=0.95
        Level of the Wilson interval.
    """
    chosen = _vector(chosen_logps, "chosen_logps")
    rejected = _vector(rejected_logps, "rejected_logps", len(chosen))
    return wilson_interval(int((chosen > rejected).sum()), len(chosen), confidence)


def idealized_margin(
    reference_chosen: ArrayLike,
    reference_rejected: ArrayLike,
    preference: ArrayLike,
    beta: float,
) -> NDArray[np.float64]:
    """Log-likelihood margin of the optimal policy on each pair [RankAcc].

    .. math:: \\log\\frac{\\pi^*(y_w|x)}{\\pi^*(y_l|x)} =
              \\log\\frac{\\pi_{ref}(y_w|x)}{\\pi_{ref}(y_l|x)}
              + \\frac{1}{\\beta}\\log\\frac{\\alpha}{1-\\alpha}

    with :math:`\\alpha` the probability that :math:`y_w` is preferred
    (Bradley-Terry: :math:`r_w - r_l = \\operatorname{logit}\\alpha`).
    """
    if not beta > 0:
        raise DiagnosticsError(f"`beta` must be > 0 (got {beta!r})")
    ref_c = _vector(reference_chosen, "reference_chosen")
    ref_r = _vector(reference_rejected, "reference_rejected", len(ref_c))
    alpha = np.asarray(preference, dtype=np.float64)
    if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape[0] != len(ref_c)):
        raise DiagnosticsError(
            f"`preference` has shape {alpha.shape}; expected one probability "
            f"or one per pair ({len(ref_c)})"
        )
    alpha = np.broadcast_to(alpha, ref_c.shape)
    if not ((alpha >= 0) & (alpha <= 1)).all():
        raise DiagnosticsError(
            "`preference` must be probabilities in [0, 1] (got values from "
            f"{alpha.min()} to {alpha.max()})"
        )
    with np.errstate(divide="ignore"):
        logit = np.log(alpha) - np.log1p(-alpha)
    return (ref_c - ref_r) + logit / beta


def idealized_ranking_accuracy(
    reference_chosen: ArrayLike,
    reference_rejected: ArrayLike,
    preference: ArrayLike,
    beta: float,
    confidence: float = 0.95,
) -> Accuracy:
    """Ranking accuracy of the exact DPO/RLHF optimum [RankAcc, Thm 3.1].

    A pair counts when :func:`idealized_margin` is positive. With a
    deterministic label (:math:`\\alpha = 1`) every pair counts; with
    :math:`\\alpha` from several raters, pairs with a weak majority and a
    reference model that ranks them wrongly do not.
    """
    margin = idealized_margin(reference_chosen, reference_rejected, preference, beta)
    return wilson_interval(int((margin > 0).sum()), len(margin), confidence)


def alignment_gap(idealized: Accuracy, actual: Accuracy) -> float:
    """Idealized minus actual ranking accuracy (percentage points / 100)."""
    return idealized.value - actual.value


def pair_difficulty(
    reference_chosen: ArrayLike, reference_rejected: ArrayLike, beta: float
) -> pd.DataFrame:
    """How hard each pair is for DPO to rank correctly [RankAcc, Thm 4.1].

    A policy ranks a pair correctly iff its DPO margin satisfies
    :math:`h > -c`, with :math:`c = \\log\\pi_{ref}(y_w|x) -
    \\log\\pi_{ref}(y_l|x)` the reference log-ratio; equivalently iff its DPO
    loss falls below

    .. math:: \\ell^* = \\log\\left(1 + e^{\\beta c}\\right).

    Pairs the reference ranks wrongly by a wide margin (:math:`c \\ll 0`)
    need a loss near zero: they are the hard ones.

    Returns
    -------
    DataFrame
        ``reference_margin`` (:math:`c`), ``reference_correct``, and
        ``loss_threshold`` (:math:`\\ell^*`), one row per pair.
    """
    if not beta > 0:
        raise DiagnosticsError(f"`beta` must be > 0 (got {beta!r})")
    ref_c = _vector(reference_chosen, "reference_chosen")
    ref_r = _vector(reference_rejected, "reference_rejected", len(ref_c))
    c = ref_c - ref_r
    return pd.DataFrame(
        {
            "reference_margin": c,
            "reference_correct": c > 0,
            "loss_threshold": np.logaddexp(0.0, beta * c),
        }
    )


def ranking_report(
    policy_chosen: ArrayLike,
    policy_rejected: ArrayLike,
    reference_chosen: ArrayLike,
    reference_rejected: ArrayLike,
    preference: ArrayLike = 1.0,
    beta: float = 0.1,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Reference, policy and idealized ranking accuracy with CIs, and the gap.

    Returns
    -------
    DataFrame
        Rows ``reference``, ``policy``, ``idealized``; columns ``figure,
        value, lower, upper, n``; ``attrs["alignment_gap"]`` holds
        idealized minus policy.
    """
    ref = ranking_accuracy(reference_chosen, reference_rejected, confidence)
    pol = ranking_accuracy(policy_chosen, policy_rejected, confidence)
    ideal = idealized_ranking_accuracy(
        reference_chosen, reference_rejected, preference, beta, confidence
    )
    frame = pd.DataFrame(
        [
            {
                "figure": name,
                "value": a.value,
                "lower": a.lower,
                "upper": a.upper,
                "n": a.n,
            }
            for name, a in (("reference", ref), ("policy", pol), ("idealized", ideal))
        ]
    )
    frame.attrs["alignment_gap"] = alignment_gap(ideal, pol)
    return frame
