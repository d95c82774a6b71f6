"""RewardBench-style evaluation: pairwise accuracy with CIs, beside baselines.

Accuracy is the share of pairs (with a decided gold label) that a model
orders right [RewardBench]_. A model tie (equal rewards) counts as wrong, as
in RewardBench, or as half a pair (``ties="half"``). Every table carries the
accuracy of the *pick the longer response* baseline on the same pairs, since
length is the most common confound of reward-model benchmarks, and the
calibration of :math:`\\sigma(r_a - r_b)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from prefkit.errors import PrefkitError

TieRule = Literal["wrong", "half"]
CiMethod = Literal["wilson", "bootstrap"]


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise PrefkitError(f"level is {level!r}; expected a float in (0, 1), e.g. 0.95")


def pair_credit(
    logits: NDArray[np.floating], y: NDArray[np.floating], ties: TieRule = "wrong"
) -> NDArray[np.float64]:
    r"""Credit of each decided pair: 1 right, 0 wrong, 0 or 1/2 for a model tie.

    .. math::

        c_i = \mathbb{1}[\operatorname{sign}(s_i)
              = \operatorname{sign}(y_i - 1/2)]

    Parameters
    ----------
    logits : array of shape (n_pairs,)
        Model score ``s(a, b)`` (``r_a - r_b``); 0 is a model tie.
    y : array of shape (n_pairs,)
        Gold probability that ``a`` wins, 1 or 0 (gold ties must be removed
        before; see :func:`accuracy_table`).
    ties : {"wrong", "half"}, default="wrong"
        Credit of a model tie: 0 (RewardBench) or 1/2.
    """
    if ties not in ("wrong", "half"):
        raise PrefkitError(f"ties is {ties!r}; expected 'wrong' or 'half'")
    s = np.sign(np.asarray(logits, dtype=np.float64))
    gold = np.sign(np.asarray(y, dtype=np.float64) - 0.5)
    credit = (s == gold).astype(np.float64)
    if ties == "half":
        credit[s == 0] = 0.5
    return credit


def wilson_interval(
    successes: float, n: int, level: float = 0.95
) -> tuple[float, float]:
    r"""Wilson score interval of a proportion [Wilson27]_.

    .. math::

        \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n}
        + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}}

    Returns ``(nan, nan)`` for ``n = 0``.
    """
    _check_level(level)
    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def bootstrap_interval(
    credit: NDArray[np.floating],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``credit``."""
    _check_level(level)
    n = len(credit)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.asarray(credit)[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def paired_difference(
    credit: NDArray[np.floating],
    baseline: NDArray[np.floating],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Accuracy difference to a baseline on the same pairs, with a paired CI.

    Returns ``(difference, lower, upper)`` from a percentile bootstrap that
    resamples pairs (so the two accuracies stay paired).
    """
    diff = np.asarray(credit, dtype=np.float64) - np.asarray(baseline, dtype=float)
    lo, hi = bootstrap_interval(diff, level, n_boot, seed)
    return float(diff.mean()) if len(diff) else float("nan"), lo, hi


def calibration(
    p_a: NDArray[np.floating], y: NDArray[np.floating], n_bins: int = 10
) -> dict[str, float]:
    r"""Calibration of predicted probabilities against gold labels.

    .. math::

        \mathrm{ECE} = \sum_b \frac{n_b}{n}\,|\bar y_b - \bar p_b|,\quad
        \mathrm{Brier} = \frac1n\sum_i (p_i - y_i)^2

    computed on the symmetric reading: each pair enters as ``p_a`` against
    ``y`` (the reverse orientation gives the same figures).

    Returns
    -------
    dict
        ``ece``, ``brier`` and ``log_loss`` (natural log).
    """
    p = np.clip(np.asarray(p_a, dtype=np.float64), 1e-12, 1 - 1e-12)
    y = np.asarray(y, dtype=np.float64)
    if len(p) == 0:
        return {"ece": float("nan"), "brier": float("nan"), "log_loss": float("nan")}
    # fold onto the side the model prefers so the bins cover [0.5, 1]
    conf = np.maximum(p, 1 - p)
    hit = np.where(p >= 0.5, y, 1 - y)
    bins = np.minimum(((conf - 0.5) * 2 * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(hit[inside].mean() - conf[inside].mean())
    brier = float(np.mean((p - y) ** 2))
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return {"ece": float(ece), "brier": brier, "log_loss": log_loss}


def longer_logits(
    response_a: Sequence[str], response_b: Sequence[str]
) -> NDArray[np.float64]:
    """The pick-longer baseline as a score: ``len(a) - len(b)`` in characters."""
    return np.array(
        [len(a) - len(b) for a, b in zip(response_a, response_b, strict=True)],
        dtype=np.float64,
    )


def _interval(
    credit: NDArray[np.float64], level: float, method: CiMethod, seed: int
) -> tuple[float, float]:
    if method == "wilson":
        return wilson_interval(float(credit.sum()), len(credit), level)
    if method == "bootstrap":
        return bootstrap_interval(credit, level, seed=seed)
    raise PrefkitError(f"ci is {method!r}; expected 'wilson' or 'bootstrap'")


def accuracy_table(
    logits: NDArray[np.floating],
    y: NDArray[np.floating],
    *,
    baseline: NDArray[np.floating] | None = None,
    subsets: Sequence[str] | None = None,
    ties: TieRule = "wrong",
    level: float = 0.95,
    ci: CiMethod = "wilson",
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy with CI per subset, pooled and macro-averaged, beside a baseline.

    Parameters
    ----------
    logits : array of shape (n_pairs,)
        Model score ``s(a, b)``; ``sigmoid(logits)`` is read as ``p_a``.
    y : array of shape (n_pairs,)
        Gold target: 1 (a), 0 (b) or 0.5 (tie). Gold ties are left out of
        every figure (``n_gold_ties`` counts them).
    baseline : array of shape (n_pairs,) or None, default=None
        A baseline's score on the same pairs (e.g. :func:`longer_logits`).
    subsets : sequence of str or None, default=None
        Subset of each pair (one ``all`` row if None).
    ties : {"wrong", "half"}, default="wrong"
        Credit of a model tie (see :func:`pair_credit`).
    level : float, default=0.95
        CI level.
    ci : {"wilson", "bootstrap"}, default="wilson"
        CI method.
    seed : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per subset, then ``all`` (pooled, i.e. weighted by pairs)
        and, with several subsets, ``mean`` (unweighted mean of subset
        accuracies, without a CI): ``subset, n, n_gold_ties, accuracy, lower,
        upper, baseline_accuracy, baseline_lower, baseline_upper, ece, brier``.
    """
    s = np.asarray(logits, dtype=np.float64)
    gold = np.asarray(y, dtype=np.float64)
    if s.shape != gold.shape:
        raise PrefkitError(
            f"logits and y differ in shape (got {s.shape} and {gold.shape}); "
            "expected one score and one gold label per pair"
        )
    labels = np.asarray(["all"] * len(gold) if subsets is None else list(subsets))
    groups = [*dict.fromkeys(labels.tolist())] if subsets is not None else []
    rows = [
        _row(name, labels == name, s, gold, baseline, ties, level, ci, seed)
        for name in [*groups, "all"]
    ]
    if len(groups) > 1:
        sub = pd.DataFrame(rows[:-1])
        rows.append(
            {
                "subset": "mean",
                "n": int(sub["n"].sum()),
                "n_gold_ties": int(sub["n_gold_ties"].sum()),
                "accuracy": sub["accuracy"].mean(),
                "baseline_accuracy": sub["baseline_accuracy"].mean(),
            }
        )
    return pd.DataFrame(rows)


def _row(
    name: str,
    mask: NDArray[np.bool_],
    logits: NDArray[np.float64],
    y: NDArray[np.float64],
    baseline: NDArray[np.floating] | None,
    ties: TieRule,
    level: float,
    ci: CiMethod,
    seed: int,
) -> dict[str, object]:
    """One row of :func:`accuracy_table`."""
    if name == "all":
        mask = np.ones_like(mask)
    decided = mask & (y != 0.5)
    credit = pair_credit(logits[decided], y[decided], ties)
    lo, hi = _interval(credit, level, ci, seed)
    p = 1.0 / (1.0 + np.exp(-logits[decided]))
    row: dict[str, object] = {
        "subset": name,
        "n": int(decided.sum()),
        "n_gold_ties": int((mask & (y == 0.5)).sum()),
        "accuracy": float(credit.mean()) if len(credit) else float("nan"),
        "lower": lo,
        "upper": hi,
    }
    if baseline is not None:
        base = pair_credit(np.asarray(baseline)[decided], y[decided], ties)
        b_lo, b_hi = _interval(base, level, ci, seed)
        row.update(
            baseline_accuracy=float(base.mean()) if len(base) else np.nan,
            baseline_lower=b_lo,
            baseline_upper=b_hi,
        )
    row.update({k: v for k, v in calibration(p, y[decided]).items() if k != "log_loss"})
    return row
