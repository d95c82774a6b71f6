"""The GPM skew-symmetric form and the heads' invariances."""

from __future__ import annotations

import torch

from prefkit.reward.heads import PreferenceHead, ScalarHead, skew_form


def test_skew_form_by_hand():
    """One plane: s(a, b) = lambda (a1 b2 - a2 b1)."""
    a = torch.tensor([[1.0, 0.0]])
    b = torch.tensor([[0.0, 1.0]])
    assert float(skew_form(a, b, torch.tensor([2.0]))) == 2.0
    assert float(skew_form(b, a, torch.tensor([2.0]))) == -2.0


def test_gpm_head_is_skew_symmetric():
    """s(a, b) = -s(b, a) and s(a, a) = 0 for any input."""
    torch.manual_seed(0)
    head = PreferenceHead(10, hidden=8, n_planes=3).eval()
    xa, xb = torch.randn(5, 10), torch.randn(5, 10)
    assert torch.allclose(head.pair_score(xa, xb), -head.pair_score(xb, xa))
    assert torch.allclose(head.pair_score(xa, xa), torch.zeros(5), atol=1e-6)


def test_scalar_head_difference_of_rewards():
    """The BT head's pair score is the difference of the two rewards."""
    torch.manual_seed(0)
    head = ScalarHead(6, hidden=4).eval()
    xa, xb = torch.randn(3, 6), torch.randn(3, 6)
    expected = head.reward(xa) - head.reward(xb)
    assert torch.allclose(head.pair_score(xa, xb), expected)
