"""Hand-computed values and gradient checks of the reward losses."""

from __future__ import annotations

import math

import pytest
import torch

from prefkit.reward.losses import (
    bt_loss,
    bt_loss_grad,
    simcse_loss,
    smooth_targets,
    weighted_mean,
)


def _nll(p: float) -> float:
    return -math.log(p)


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_bt_loss_two_pairs_by_hand():
    """Plain BT loss on two pairs equals the mean of -log sigmoid by hand."""
    delta = torch.tensor([1.0, -0.5], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0], dtype=torch.float64)
    expected = (_nll(_sig(1.0)) + _nll(_sig(-0.5))) / 2
    assert float(bt_loss(delta, y)) == pytest.approx(expected, rel=1e-12)


def test_bt_loss_margin_by_hand():
    """A margin shifts the difference: -log sigmoid(delta - m) per pair."""
    delta = torch.tensor([1.0, 2.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    m = torch.tensor([0.5, 1.0], dtype=torch.float64)
    # pair 2 has b preferred: -log sigmoid(-delta - m) = -log sigmoid(-3)
    expected = (_nll(_sig(0.5)) + _nll(_sig(-3.0))) / 2
    assert float(bt_loss(delta, y, m)) == pytest.approx(expected, rel=1e-12)


def test_label_smoothing_by_hand():
    """Smoothed targets weight the two directions by 1 - eps and eps."""
    eps = 0.1
    delta = torch.tensor([1.0, -2.0], dtype=torch.float64)
    y = smooth_targets(torch.tensor([1.0, 1.0], dtype=torch.float64), eps)
    assert y.tolist() == pytest.approx([0.9, 0.9])
    expected = (
        0.9 * _nll(_sig(1.0))
        + 0.1 * _nll(_sig(-1.0))
        + 0.9 * _nll(_sig(-2.0))
        + 0.1 * _nll(_sig(2.0))
    ) / 2
    assert float(bt_loss(delta, y)) == pytest.approx(expected, rel=1e-12)


def test_tie_target_by_hand():
    """A tie target (0.5) gives the symmetric loss, minimal at delta = 0."""
    y = torch.tensor([0.5], dtype=torch.float64)
    at_zero = float(bt_loss(torch.tensor([0.0], dtype=torch.float64), y))
    assert at_zero == pytest.approx(math.log(2.0))
    assert float(bt_loss(torch.tensor([0.3], dtype=torch.float64), y)) > at_zero


def test_swapping_sides_leaves_loss_unchanged():
    """Swapping a and b (delta -> -delta, y -> 1 - y) gives the same loss."""
    g = torch.Generator().manual_seed(0)
    delta = torch.randn(20, generator=g, dtype=torch.float64)
    y = torch.rand(20, generator=g, dtype=torch.float64)
    m = torch.rand(20, generator=g, dtype=torch.float64)
    assert float(bt_loss(delta, y, m)) == pytest.approx(
        float(bt_loss(-delta, 1 - y, m))
    )


def test_weighted_mean_by_hand():
    """Weights enter as a weighted mean."""
    values = torch.tensor([1.0, 3.0])
    assert float(weighted_mean(values, torch.tensor([3.0, 1.0]))) == pytest.approx(1.5)
    assert float(weighted_mean(values)) == pytest.approx(2.0)


def test_bt_gradient_matches_analytic_and_finite_differences():
    """Autograd of the BT loss matches the closed form and gradcheck."""
    g = torch.Generator().manual_seed(1)
    delta = torch.randn(8, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.rand(8, generator=g, dtype=torch.float64)
    m = torch.rand(8, generator=g, dtype=torch.float64)
    (grad,) = torch.autograd.grad(bt_loss(delta, y, m) * 8, delta)
    assert torch.allclose(grad, bt_loss_grad(delta.detach(), y, m))
    assert torch.autograd.gradcheck(lambda d: bt_loss(d, y, m), (delta,))


def test_simcse_gradient_and_value():
    """The contrastive term passes gradcheck and is low for matched views."""
    g = torch.Generator().manual_seed(2)
    u = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(6, 4, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: simcse_loss(a, v, 0.5), (u,))
    same = float(simcse_loss(u.detach(), u.detach(), 0.05))
    other = float(simcse_loss(u.detach(), v, 0.05))
    assert same < 0.05 < other
