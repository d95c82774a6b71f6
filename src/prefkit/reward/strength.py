"""Preference strength and the noise-robust training options of [RLHF2]_.

The *strength* of a labelled pair is the reward difference winner minus loser
predicted by an ensemble of ``M`` models that did not see the pair (each
model is cross-fitted on two halves of the data with its own seed). Its mean
says how clearly the pair agrees with the rest of the data (strongly negative:
the label is probably wrong), its spread how unsure the ensemble is.

:func:`robust_targets` turns strength into training changes:

- ``flip_share``: flip the labels of the pairs with the lowest (negative)
  mean strength,
- ``drop_share``: drop the most ambiguous pairs (mean strength nearest 0),
- ``adaptive_margin``: a BT margin proportional to the positive strength.

Label smoothing and the contrastive term are settings of
:class:`~prefkit.reward.train.RewardConfig`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.reward.train import FitResult, RewardConfig, fit_head

logger = logging.getLogger("prefkit.reward")


@dataclass(frozen=True)
class RobustConfig:
    """Noise-robust options driven by preference strength [RLHF2]_.

    Attributes
    ----------
    n_models : int
        Ensemble size ``M`` (each model is fitted twice, once per half).
    flip_share : float
        Largest share of pairs whose label is flipped: those with the lowest
        mean strength, if it is negative.
    drop_share : float
        Share of pairs dropped as ambiguous: smallest absolute mean strength.
    adaptive_margin : float
        :math:`\\gamma` of the margin :math:`m_i = \\gamma \\max(\\mu_i, 0)`.
    """

    n_models: int = 4
    flip_share: float = 0.0
    drop_share: float = 0.0
    adaptive_margin: float = 0.0

    def __post_init__(self) -> None:
        for name, lo, hi in (("flip_share", 0, 0.5), ("drop_share", 0, 0.9)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise PrefkitError(
                    f"RobustConfig.{name} is {value!r}; expected a float in "
                    f"[{lo}, {hi}]"
                )
        if self.n_models < 1:
            raise PrefkitError(
                f"RobustConfig.n_models is {self.n_models!r}; expected an integer >= 1"
            )
        if self.adaptive_margin < 0:
            raise PrefkitError(
                f"RobustConfig.adaptive_margin is {self.adaptive_margin!r}; "
                "expected a float >= 0"
            )

    @property
    def active(self) -> bool:
        """Whether any option needs preference strength."""
        return bool(self.flip_share or self.drop_share or self.adaptive_margin)


def _quiet_fit(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig,
) -> FitResult:
    """``fit_head`` with its convergence warning demoted to a log line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit = fit_head(x_a, x_b, y, config)
    for w in caught:
        logger.info("ensemble member: %s", w.message)
    return fit


def crossfit_logits(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig,
    n_folds: int = 2,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Out-of-fold ``s(a, b)`` of every pair from ``n_folds`` seeded folds."""
    n = len(y)
    if n_folds < 2 or n < 2 * n_folds:
        raise PrefkitError(
            f"cannot cross-fit {n} pairs in n_folds={n_folds}; expected n_folds >= 2 "
            f"and at least {2 * n_folds} pairs"
        )
    folds = np.random.default_rng(seed).permutation(n) % n_folds
    out = np.zeros(n)
    for k in range(n_folds):
        test = folds == k
        fit = _quiet_fit(
            x_a[~test], x_b[~test], y[~test], replace(config, seed=seed + k)
        )
        with torch.no_grad():
            out[test] = fit.head.pair_score(_f32(x_a[test]), _f32(x_b[test])).numpy()
    return out


def preference_strength(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig | None = None,
    n_models: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Mean and spread of the out-of-sample reward difference of each pair.

    .. math::

        d_{i}^{(m)} = \operatorname{sign}(y_i - \tfrac12)\, s^{(m)}(a_i, b_i),
        \qquad \mu_i = \frac1M \sum_m d_i^{(m)},\qquad
        \sigma_i = \operatorname{sd}_m\, d_i^{(m)}

    (for gold ties the sign is +1). Each member ``m`` is cross-fitted on two
    halves drawn with seed ``seed + m``, so no prediction comes from a model
    that saw the pair [RLHF2]_.

    Returns
    -------
    DataFrame
        ``strength_mean`` and ``strength_std``, one row per pair.
    """
    config = config or RewardConfig()
    y = np.asarray(y, dtype=np.float64)
    sign = np.where(y < 0.5, -1.0, 1.0)
    draws = np.stack(
        [
            sign * crossfit_logits(x_a, x_b, y, config, 2, seed + 1000 * m)
            for m in range(n_models)
        ]
    )
    return pd.DataFrame(
        {
            "strength_mean": draws.mean(axis=0),
            "strength_std": draws.std(axis=0, ddof=1) if n_models > 1 else 0.0,
        }
    )


@dataclass(frozen=True)
class RobustTargets:
    """Training targets after the noise-robust options.

    Attributes
    ----------
    y : array of shape (n_pairs,)
        Targets with flipped labels.
    keep : array of bool, shape (n_pairs,)
        False for dropped pairs.
    margin : array of shape (n_pairs,)
        Per-pair BT margins.
    n_flipped, n_dropped : int
        How many pairs each option touched.
    """

    y: NDArray[np.float64]
    keep: NDArray[np.bool_]
    margin: NDArray[np.float64]
    n_flipped: int
    n_dropped: int


def robust_targets(
    y: NDArray[np.floating], strength_mean: NDArray[np.floating], robust: RobustConfig
) -> RobustTargets:
    r"""Apply flipping, dropping and adaptive margins to labelled pairs.

    Flipping touches at most ``flip_share`` of the pairs, lowest mean strength
    first, and only those with :math:`\mu_i < 0`; dropping removes the
    ``drop_share`` of the remaining pairs with the smallest :math:`|\mu_i|`;
    the margin is :math:`\gamma \max(\mu_i, 0)` (computed after flipping,
    where a flipped pair's strength is :math:`-\mu_i`). Gold ties are never
    flipped and get no margin.
    """
    y = np.asarray(y, dtype=np.float64).copy()
    mu = np.asarray(strength_mean, dtype=np.float64).copy()
    n = len(y)
    decided = y != 0.5

    # flip: lowest strength first, negative only
    n_flip_max = int(np.floor(robust.flip_share * n))
    order = np.argsort(mu, kind="stable")
    flip = np.zeros(n, dtype=bool)
    candidates = [i for i in order[:n_flip_max] if mu[i] < 0 and decided[i]]
    flip[candidates] = True
    y[flip] = 1.0 - y[flip]
    mu[flip] = -mu[flip]

    # drop: smallest |strength| among the rest
    keep = np.ones(n, dtype=bool)
    n_drop = int(np.floor(robust.drop_share * n))
    if n_drop:
        keep[np.argsort(np.abs(mu), kind="stable")[:n_drop]] = False

    margin = np.where(decided, robust.adaptive_margin * np.maximum(mu, 0.0), 0.0)
    return RobustTargets(y, keep, margin, int(flip.sum()), int((~keep).sum()))


def fit_robust(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig | None = None,
    robust: RobustConfig | None = None,
    *,
    progress: bool = False,
) -> tuple[FitResult, RobustTargets | None]:
    """Fit a head after the strength-based options (plain fit when none is on).

    Returns
    -------
    (FitResult, RobustTargets or None)
    """
    config = config or RewardConfig()
    robust = robust or RobustConfig()
    y = np.asarray(y, dtype=np.float64)
    if not robust.active:
        return fit_head(x_a, x_b, y, config, progress=progress), None
    strength = preference_strength(x_a, x_b, y, config, robust.n_models, config.seed)
    targets = robust_targets(y, strength["strength_mean"].to_numpy(), robust)
    logger.info(
        "robust options: %d labels flipped, %d pairs dropped",
        targets.n_flipped,
        targets.n_dropped,
    )
    k = targets.keep
    fit = fit_head(
        x_a[k],
        x_b[k],
        targets.y[k],
        config,
        margin=targets.margin[k],
        progress=progress,
    )
    return fit, targets


def _f32(x: NDArray[np.floating]) -> torch.Tensor:
    """Features as a float32 tensor (the heads' dtype)."""
    return torch.as_tensor(np.asarray(x, dtype=np.float32))
