"""Training: recovery of known rewards, GPM on cyclic data, early stopping."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.reward.train import RewardConfig, RewardConfigError, fit_head
from tests.reward.synthetic import cyclic_pairs, linear_pairs


def _accuracy(fit, x_a, x_b, y) -> float:
    with torch.no_grad():
        s = fit.head.pair_score(
            torch.as_tensor(x_a, dtype=torch.float32),
            torch.as_tensor(x_b, dtype=torch.float32),
        ).numpy()
    return float(np.mean((s > 0) == (y > 0.5)))


def test_linear_reward_is_recovered():
    """A linear head recovers the true BT weights from 4000 seeded pairs."""
    w = np.array([1.5, -1.0, 0.5, 0.0, 2.0, -0.5])
    x_a, x_b, y = linear_pairs(4000, w, seed=3)
    config = RewardConfig(
        hidden=0,
        dropout=0.0,
        weight_decay=0.0,
        lr=0.02,
        batch_size=500,
        val_share=0.0,
        tol=1e-5,
        max_epochs=300,
        seed=0,
    )
    fit = fit_head(x_a, x_b, y, config)
    # r(x) = out.w . (x - mean) / scale: the weight on x is out.w / scale
    w_hat = (fit.head.out.weight[0] / fit.head.norm.scale).detach().numpy()
    assert np.corrcoef(w, w_hat)[0, 1] > 0.99
    assert np.abs(w_hat - w).max() < 0.15
    assert fit.converged_ and fit.n_iter_ == len(fit.history)


def test_gpm_beats_bt_on_cyclic_preferences():
    """On rock-paper-scissors data GPM is near perfect and BT is at chance."""
    # one generator (one mixing matrix): the first 2000 pairs train
    x_all_a, x_all_b, y_all = cyclic_pairs(3000, seed=0)
    x_a, x_b, y = x_all_a[:2000], x_all_b[:2000], y_all[:2000]
    t_a, t_b, t_y = x_all_a[2000:], x_all_b[2000:], y_all[2000:]
    base = dict(hidden=16, dropout=0.0, lr=0.02, batch_size=200, max_epochs=60, seed=0)
    gpm = fit_head(x_a, x_b, y, RewardConfig(head="gpm", n_planes=2, **base))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bt = fit_head(x_a, x_b, y, RewardConfig(head="bt", **base))
    acc_gpm = _accuracy(gpm, t_a, t_b, t_y)
    acc_bt = _accuracy(bt, t_a, t_b, t_y)
    assert acc_gpm > 0.9
    assert 0.4 < acc_bt < 0.6


def test_training_is_seeded():
    """The same seed gives the same weights; another seed does not."""
    x_a, x_b, y = linear_pairs(300, np.array([1.0, -1.0]), seed=0)
    config = RewardConfig(hidden=4, max_epochs=2, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = fit_head(x_a, x_b, y, config)
        two = fit_head(x_a, x_b, y, config)
        three = fit_head(x_a, x_b, y, RewardConfig(hidden=4, max_epochs=2, seed=8))
    w1, w2, w3 = (f.head.out.weight.detach() for f in (one, two, three))
    assert torch.equal(w1, w2)
    assert not torch.equal(w1, w3)


def test_history_logs_every_epoch_and_keeps_best():
    """The history has one row per epoch and the kept epoch has the best val loss."""
    x_a, x_b, y = linear_pairs(400, np.array([1.0, 0.5]), seed=1)
    config = RewardConfig(hidden=8, patience=3, max_epochs=100, lr=0.05)
    fit = fit_head(x_a, x_b, y, config)
    h = fit.history
    assert list(h.columns) == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "seconds",
    ]
    assert h["epoch"].tolist() == list(range(1, fit.n_iter_ + 1))
    assert fit.best_epoch_ == int(h.loc[h["val_loss"].idxmin(), "epoch"])
    assert fit.n_iter_ - fit.best_epoch_ == 3


def test_max_epochs_without_stopping_warns_or_raises():
    """Hitting max_epochs warns with ConvergenceWarning, or raises when strict."""
    x_a, x_b, y = linear_pairs(200, np.array([1.0]), seed=2)
    config = RewardConfig(hidden=0, max_epochs=1)
    with pytest.warns(ConvergenceWarning, match=r"max_epochs=1"):
        fit = fit_head(x_a, x_b, y, config)
    assert not fit.converged_
    with pytest.raises(PrefkitError, match=r"max_epochs=1"):
        fit_head(x_a, x_b, y, config, strict=True)


def test_contrastive_term_trains():
    """Training with the contrastive term still learns the reward."""
    x_a, x_b, y = linear_pairs(800, np.array([2.0, -1.0, 0.0]), seed=4)
    config = RewardConfig(hidden=16, contrastive=0.5, lr=0.01, batch_size=100)
    fit = fit_head(x_a, x_b, y, config)
    assert _accuracy(fit, x_a, x_b, y) > 0.75


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("head", "mlp", "RewardConfig.head is 'mlp'"),
        ("hidden", -1, "RewardConfig.hidden is -1"),
        ("dropout", 1.0, "RewardConfig.dropout"),
        ("n_planes", 0, "RewardConfig.n_planes"),
        ("max_epochs", 0, "RewardConfig.max_epochs"),
        ("batch_size", 1, "RewardConfig.batch_size"),
        ("lr", 0.0, "RewardConfig.lr"),
        ("weight_decay", -1.0, "RewardConfig.weight_decay"),
        ("val_share", 1.0, "RewardConfig.val_share"),
        ("patience", 0, "RewardConfig.patience"),
        ("tol", 0.0, "RewardConfig.tol"),
        ("label_smoothing", 0.5, "RewardConfig.label_smoothing"),
        ("margin", -0.1, "RewardConfig.margin"),
        ("contrastive", -1.0, "RewardConfig.contrastive"),
        ("tau", 0.0, "RewardConfig.tau"),
        ("ties", "skip", "RewardConfig.ties"),
    ],
)
def test_config_rejects_bad_values(field, value, match):
    """Every RewardConfig field names itself and the received value when wrong."""
    with pytest.raises(RewardConfigError, match=match):
        RewardConfig(**{field: value})


def test_fit_rejects_mismatched_shapes_and_tiny_splits():
    """Inputs of different lengths and a validation split of zero pairs raise."""
    x = np.zeros((4, 2))
    with pytest.raises(PrefkitError, match=r"disagree in shape"):
        fit_head(x, np.zeros((3, 2)), np.ones(4))
    with pytest.raises(PrefkitError, match=r"cannot hold out val_share"):
        fit_head(x, x, np.ones(4), RewardConfig(val_share=0.05))


def test_ties_dropped_or_half():
    """ties='drop' trains on decided pairs only; 'half' keeps ties as y=0.5."""
    x_a, x_b, y = linear_pairs(300, np.array([1.0]), seed=5)
    y[:100] = 0.5
    cfg = dict(hidden=0, val_share=0, max_epochs=300, lr=0.05, batch_size=300)
    drop = fit_head(x_a, x_b, y, RewardConfig(ties="drop", **cfg))
    half = fit_head(x_a, x_b, y, RewardConfig(ties="half", **cfg))
    w_drop = float(drop.head.out.weight[0, 0].detach() / drop.head.norm.scale[0])
    w_half = float(half.head.out.weight[0, 0].detach() / half.head.norm.scale[0])
    # ties pull the reward towards 0: a smaller weight with ties kept
    assert 0 < w_half < w_drop
