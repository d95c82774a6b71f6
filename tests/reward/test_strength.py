"""Preference strength and the noise-robust options."""

from __future__ import annotations

import numpy as np
import pytest

from prefkit.errors import PrefkitError
from prefkit.reward.strength import (
    RobustConfig,
    crossfit_logits,
    fit_robust,
    preference_strength,
    robust_targets,
)
from prefkit.reward.train import RewardConfig
from tests.reward.synthetic import linear_pairs

FAST = RewardConfig(hidden=0, dropout=0.0, lr=0.05, max_epochs=40, val_share=0.0)


def test_robust_targets_by_hand():
    """Flip, drop and margin applied to five pairs by hand."""
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.5])
    mu = np.array([-3.0, 0.1, -0.5, 2.0, -4.0])
    out = robust_targets(
        y, mu, RobustConfig(flip_share=0.4, drop_share=0.2, adaptive_margin=0.5)
    )
    # the two lowest: pair 4 is a gold tie (never flipped), pair 0 flips
    assert out.y.tolist() == [0.0, 1.0, 0.0, 1.0, 0.5]
    assert out.n_flipped == 1
    # after flipping mu = [3, .1, -.5, 2, -4]; the smallest |mu| is pair 1
    assert out.keep.tolist() == [True, False, True, True, True]
    assert out.margin.tolist() == pytest.approx([1.5, 0.05, 0.0, 1.0, 0.0])


def test_strength_finds_flipped_labels():
    """Out-of-fold strength ranks deliberately flipped labels lowest (AUC > 0.8)."""
    x_a, x_b, y = linear_pairs(800, np.array([3.0, -2.0, 1.0]), seed=0)
    rng = np.random.default_rng(1)
    noisy = rng.random(len(y)) < 0.2
    y_noisy = np.where(noisy, 1 - y, y)
    s = preference_strength(x_a, x_b, y_noisy, FAST, n_models=2, seed=0)
    mu = s["strength_mean"].to_numpy()
    # AUC: chance that a flipped pair has lower strength than a clean one
    auc = np.mean(mu[noisy][:, None] < mu[~noisy][None, :])
    assert auc > 0.8
    assert (s["strength_std"] >= 0).all()


def test_flipping_recovers_accuracy_under_label_noise():
    """With 30% flipped labels, the flip option trains a more accurate model."""
    w = np.array([3.0, -2.0, 1.0])
    x_a, x_b, y = linear_pairs(600, w, seed=2)
    t_a, t_b, t_y = linear_pairs(2000, w, seed=3)
    noisy = np.random.default_rng(4).random(len(y)) < 0.3
    y_noisy = np.where(noisy, 1 - y, y)
    plain, _ = fit_robust(x_a, x_b, y_noisy, FAST)
    flipped, targets = fit_robust(
        x_a, x_b, y_noisy, FAST, RobustConfig(n_models=2, flip_share=0.3)
    )
    assert targets is not None and targets.n_flipped > 0
    # flipped labels were mostly the noisy ones
    changed = targets.y != y_noisy
    assert (changed & noisy).sum() > 0.7 * changed.sum()
    import torch

    def acc(fit) -> float:
        with torch.no_grad():
            s = fit.head.pair_score(
                torch.as_tensor(t_a, dtype=torch.float32),
                torch.as_tensor(t_b, dtype=torch.float32),
            )
        return float(np.mean((s.numpy() > 0) == (t_y > 0.5)))

    assert acc(flipped) >= acc(plain) - 0.005


def test_crossfit_and_config_validation():
    """Too few pairs to cross-fit and bad RobustConfig values raise."""
    with pytest.raises(PrefkitError, match=r"cannot cross-fit 3 pairs"):
        crossfit_logits(np.zeros((3, 1)), np.zeros((3, 1)), np.ones(3), FAST)
    with pytest.raises(PrefkitError, match=r"RobustConfig.flip_share is 0.6"):
        RobustConfig(flip_share=0.6)
    with pytest.raises(PrefkitError, match=r"RobustConfig.drop_share"):
        RobustConfig(drop_share=-0.1)
    with pytest.raises(PrefkitError, match=r"RobustConfig.n_models is 0"):
        RobustConfig(n_models=0)
    with pytest.raises(PrefkitError, match=r"RobustConfig.adaptive_margin"):
        RobustConfig(adaptive_margin=-1.0)
    assert not RobustConfig().active and RobustConfig(drop_share=0.1).active
