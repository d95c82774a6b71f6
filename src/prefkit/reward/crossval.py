"""K-fold evaluation of a training recipe on one labelled table.

Embeddings are computed once for the whole table; each fold only trains a
head, so a 5-fold run costs five small fits plus one embedding pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from prefkit.errors import PrefkitError
from prefkit.reward.features import FeatureSpec, get_encoder
from prefkit.reward.model import pair_features, pair_inputs
from prefkit.reward.strength import RobustConfig, fit_robust
from prefkit.reward.train import RewardConfig

logger = logging.getLogger("prefkit.reward")


@dataclass(frozen=True)
class KFoldResult:
    """Out-of-fold predictions of a k-fold run.

    Attributes
    ----------
    logits : array of shape (n_pairs,)
        ``s(a, b)`` of each pair from the model that did not train on it.
    y : array of shape (n_pairs,)
        Gold targets.
    fold : array of int, shape (n_pairs,)
        Fold of each pair.
    fit_seconds : float
        Total time spent training heads (embedding excluded).
    n_iter : list of int
        Epochs run per fold.
    """

    logits: NDArray[np.float64]
    y: NDArray[np.float64]
    fold: NDArray[np.int64]
    fit_seconds: float
    n_iter: list[int]


def kfold_arrays(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig,
    robust: RobustConfig | None = None,
    k: int = 5,
    seed: int = 0,
    y_test: NDArray[np.floating] | None = None,
) -> KFoldResult:
    """K-fold out-of-fold logits on feature arrays (see :func:`kfold_logits`).

    ``y`` trains; ``y_test`` (default ``y``) is the gold label reported for
    scoring, e.g. the clean labels when ``y`` was corrupted on purpose.
    """
    n = len(y)
    if k < 2 or n < 2 * k:
        raise PrefkitError(
            f"k-fold needs k >= 2 and at least 2k pairs (got k={k}, {n} pairs)"
        )
    gold = np.asarray(y, dtype=np.float64)
    fold = np.random.default_rng(seed).permutation(n) % k
    logits = np.zeros(n)
    seconds, epochs = 0.0, []
    for j in range(k):
        test = fold == j
        start = time.perf_counter()
        fit, _ = fit_robust(
            x_a[~test],
            x_b[~test],
            y[~test],
            replace(config, seed=config.seed + j),
            robust,
        )
        seconds += time.perf_counter() - start
        epochs.append(fit.n_iter_)
        with torch.no_grad():
            logits[test] = fit.head.pair_score(_f32(x_a[test]), _f32(x_b[test])).numpy()
        logger.info("fold %d/%d done in %.1fs", j + 1, k, time.perf_counter() - start)
    scored = gold if y_test is None else np.asarray(y_test, dtype=np.float64)
    return KFoldResult(logits, scored, fold, seconds, epochs)


def kfold_logits(
    comparisons: pd.DataFrame,
    config: RewardConfig | None = None,
    features: FeatureSpec | None = None,
    robust: RobustConfig | None = None,
    *,
    k: int = 5,
    seed: int = 0,
    cache_dir: str | None = None,
) -> KFoldResult:
    """Train on k-1 folds and predict the held-out fold, k times.

    Parameters
    ----------
    comparisons : DataFrame
        Labelled pairs (``response_a``, ``response_b``, ``winner``).
    config, features, robust
        The recipe (defaults if None).
    k : int, default=5
        Number of folds.
    seed : int, default=0
        Seed of the fold assignment (each fold's fit uses ``config.seed + j``).
    cache_dir : str or None, default=None
        Embedding cache folder.

    Returns
    -------
    KFoldResult
    """
    spec = features or FeatureSpec()
    inputs = pair_inputs(comparisons, need_winner=True)
    x_a, x_b = pair_features(inputs, spec, get_encoder(spec.encoder, cache_dir))
    y = cast("NDArray[np.float64]", inputs.y)
    return kfold_arrays(x_a, x_b, y, config or RewardConfig(), robust, k, seed)


def _f32(x: NDArray[np.floating]) -> torch.Tensor:
    """Features as a float32 tensor (the heads' dtype)."""
    return torch.as_tensor(np.asarray(x, dtype=np.float32))
