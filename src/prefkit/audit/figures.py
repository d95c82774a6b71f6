"""Each audit figure as a small pure function over arrays.

Every function takes a row-weight vector ``w`` last (all ones for the figure
itself, cluster counts inside the bootstrap, see
:mod:`prefkit.audit._bootstrap`), so the same code gives value and CI.
Boolean inputs are arrays of 0/1 floats or bools.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from prefkit.audit._bootstrap import weighted_mean

FloatArray = NDArray[Any]


# ---------------------------------------------------------------- position
def first_slot_rate(picked_first: ArrayLike, w: FloatArray) -> float:
    """Share of decisive verdicts that went to the response shown first [Zheng23].

    .. math:: r_{\\text{first}} = \\frac{\\sum_i w_i [\\text{winner}_i
        \\text{ was shown first}]}{\\sum_i w_i}
    """
    return weighted_mean(np.asarray(picked_first, dtype=float), w)


def flip_rate(winner_ab: ArrayLike, winner_ba: ArrayLike, w: FloatArray) -> float:
    """Share of pairs judged in both orders whose winner changes side [Wang23].

    Both verdicts are in the pair's own a/b labelling; a flip is ``a`` in one
    order and ``b`` in the other (a tie in either order is not a flip).
    """
    x, y = np.asarray(winner_ab), np.asarray(winner_ba)
    flipped = ((x == "a") & (y == "b")) | ((x == "b") & (y == "a"))
    return weighted_mean(flipped.astype(float), w)


def conflict_rate(winner_ab: ArrayLike, winner_ba: ArrayLike, w: FloatArray) -> float:
    """Share of both-order pairs whose two verdicts differ at all (FairEval's
    conflict rate; one minus position consistency) [Wang23]."""
    x, y = np.asarray(winner_ab), np.asarray(winner_ba)
    return weighted_mean((x != y).astype(float), w)


def mcnemar_exact(n_first: int, n_second: int) -> float:
    """Exact McNemar p-value of discordant both-order pairs [McN47].

    ``n_first`` pairs were won by whichever response was shown first in each
    order, ``n_second`` by whichever was shown second; without a position
    bias both are Binomial(n_first + n_second, 1/2).
    """
    total = n_first + n_second
    if total == 0:
        return float("nan")
    return float(stats.binomtest(n_first, total, 0.5).pvalue)


# --------------------------------------------------------------- verbosity
def longer_pick_rate(picked_longer: ArrayLike, w: FloatArray) -> float:
    """Share of decisive verdicts (lengths differing) that chose the longer response."""
    return weighted_mean(np.asarray(picked_longer, dtype=float), w)


def tanh_length_difference(len_a: ArrayLike, len_b: ArrayLike) -> FloatArray:
    """``tanh((len_a - len_b) / sd)``, AlpacaEval's bounded length feature [Dubois24].

    .. math:: x_i = \\tanh\\!\\left(\\frac{\\ell_{a,i} - \\ell_{b,i}}
        {\\operatorname{sd}(\\ell_a - \\ell_b)}\\right)
    """
    delta = np.asarray(len_a, dtype=float) - np.asarray(len_b, dtype=float)
    sd = float(delta.std(ddof=1)) if len(delta) > 1 else 0.0
    if not np.isfinite(sd) or sd == 0:
        return np.zeros_like(delta)
    return np.tanh(delta / sd)


# ---------------------------------------------------------- scale use
def sd_ratio(scores: ArrayLike, gold: ArrayLike, w: FloatArray) -> float:
    """Weighted SD of a judge's grades over the SD of the gold grades.

    Below one the judge crowds the middle of the scale (central tendency);
    above one it overuses the extremes.
    """
    s, g = np.asarray(scores, dtype=float), np.asarray(gold, dtype=float)
    sd_g = _weighted_sd(g, w)
    return _weighted_sd(s, w) / sd_g if sd_g > 0 else float("nan")


def _weighted_sd(x: FloatArray, w: FloatArray) -> float:
    """Weighted population standard deviation."""
    m = weighted_mean(x, w)
    return float(np.sqrt(weighted_mean((x - m) ** 2, w)))


def middle_share(scores: ArrayLike, low: float, high: float, w: FloatArray) -> float:
    """Share of grades strictly inside the middle third of ``[low, high]``."""
    s = np.asarray(scores, dtype=float)
    third = (high - low) / 3
    inside = (s > low + third - 1e-12) & (s < high - third + 1e-12)
    return weighted_mean(inside.astype(float), w)


# ------------------------------------------------------------ calibration
def expected_calibration_error(
    p: ArrayLike, y: ArrayLike, w: FloatArray, n_bins: int = 10
) -> float:
    """Binned gap between confidence and accuracy of the predicted side [Guo17].

    .. math:: \\mathrm{ECE} = \\sum_b \\frac{W_b}{W}\\,
        \\lvert \\mathrm{acc}_b - \\mathrm{conf}_b \\rvert,\\quad
        \\mathrm{conf}_i = \\max(p_i, 1 - p_i)

    ``p`` is the judge's probability that a wins, ``y`` is 1 when a truly won.
    Bins split ``[0.5, 1]`` evenly.
    """
    p_, y_ = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    conf = np.maximum(p_, 1 - p_)
    correct = ((p_ >= 0.5) == (y_ == 1)).astype(float)
    bins = np.clip(((conf - 0.5) * 2 * n_bins).astype(int), 0, n_bins - 1)
    total = float(w.sum())
    if total <= 0:
        return float("nan")
    acc = np.bincount(bins, weights=w * correct, minlength=n_bins)
    cnf = np.bincount(bins, weights=w * conf, minlength=n_bins)
    return float(np.abs(acc - cnf).sum() / total)


def overconfidence(p: ArrayLike, y: ArrayLike, w: FloatArray) -> float:
    """Mean confidence minus accuracy (positive: over-confident)."""
    p_, y_ = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    conf = np.maximum(p_, 1 - p_)
    correct = ((p_ >= 0.5) == (y_ == 1)).astype(float)
    return weighted_mean(conf - correct, w)


def brier_score(p: ArrayLike, y: ArrayLike, w: FloatArray) -> float:
    """Mean squared error of ``p`` against the 0/1 outcome ``y`` [Bri50]."""
    p_, y_ = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return weighted_mean((p_ - y_) ** 2, w)


# -------------------------------------------------------------- agreement
def accuracy(pred: ArrayLike, gold: ArrayLike, w: FloatArray) -> float:
    """Share of rows where the label equals the gold label (ties included)."""
    return weighted_mean((np.asarray(pred) == np.asarray(gold)).astype(float), w)


def cohen_kappa(x: ArrayLike, y: ArrayLike, w: FloatArray) -> float:
    """Cohen's kappa of two raters' nominal labels [Coh60].

    .. math:: \\kappa = \\frac{p_o - p_e}{1 - p_e},\\quad
        p_e = \\sum_k p_{x,k}\\, p_{y,k}
    """
    x_, y_ = np.asarray(x), np.asarray(y)
    total = float(w.sum())
    if total <= 0:
        return float("nan")
    p_o = float(np.dot(w, x_ == y_)) / total
    p_e = sum(
        (float(np.dot(w, x_ == k)) / total) * (float(np.dot(w, y_ == k)) / total)
        for k in np.union1d(x_, y_)
    )
    return (p_o - p_e) / (1 - p_e) if p_e < 1 else float("nan")


def fleiss_kappa(counts: ArrayLike, w: FloatArray) -> float:
    """Fleiss' kappa from an items x categories matrix of rater counts [Fle71].

    Every item must have the same number of raters ``m >= 2``.

    .. math:: \\kappa = \\frac{\\bar P - \\bar P_e}{1 - \\bar P_e},\\quad
        P_i = \\frac{\\sum_k n_{ik}(n_{ik} - 1)}{m(m - 1)}
    """
    c = np.asarray(counts, dtype=float)
    m = c.sum(axis=1)
    if len(c) == 0 or np.any(m != m[0]) or m[0] < 2:
        return float("nan")
    total = float(w.sum())
    p_i = (c * (c - 1)).sum(axis=1) / (m[0] * (m[0] - 1))
    p_bar = float(np.dot(w, p_i)) / total
    p_k = (w[:, None] * c).sum(axis=0) / (total * m[0])
    p_e = float((p_k**2).sum())
    return (p_bar - p_e) / (1 - p_e) if p_e < 1 else float("nan")


def krippendorff_alpha(labels: ArrayLike) -> float:
    """Krippendorff's alpha (nominal) of a raters x items matrix [Kri04].

    NaN marks a missing rating.

    Computed by the maintained ``krippendorff`` package.
    """
    import krippendorff

    data = np.asarray(labels, dtype=float)
    if data.shape[1] < 2 or np.isfinite(data).sum() < 2:
        return float("nan")
    values = np.unique(data[np.isfinite(data)])
    if len(values) < 2:
        return float("nan")
    return float(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    )


def rank_correlation(x: ArrayLike, y: ArrayLike, method: str = "spearman") -> float:
    """Spearman's rho or Kendall's tau-b between two score vectors.

    Written over plain arrays (tied values get average ranks) because the
    leaderboard bootstrap calls it thousands of times.
    """
    x_, y_ = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x_) < 3:
        return float("nan")
    if method == "spearman":
        rx, ry = stats.rankdata(x_), stats.rankdata(y_)
        rx, ry = rx - rx.mean(), ry - ry.mean()
        den = float(np.sqrt((rx**2).sum() * (ry**2).sum()))
        return float((rx * ry).sum() / den) if den > 0 else float("nan")
    sx = np.sign(x_[:, None] - x_[None, :])
    sy = np.sign(y_[:, None] - y_[None, :])
    den = float(np.sqrt((sx != 0).sum() * (sy != 0).sum()))
    return float((sx * sy).sum() / den) if den > 0 else float("nan")
