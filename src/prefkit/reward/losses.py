"""Reward-model losses as small pure functions over tensors.

Every loss takes the reward difference ``delta = r_a - r_b`` of each pair (or,
for a preference-embedding head, its pairwise score ``s(a, b)``), the soft
target ``y`` = probability that ``a`` is preferred (1, 0 or 0.5 for a tie)
and returns the mean loss over the batch, optionally weighted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor


def smooth_targets(y: Tensor, epsilon: float) -> Tensor:
    r"""Label smoothing of pairwise targets [RLHF2]_.

    .. math:: \tilde y = (1 - \varepsilon)\, y + \varepsilon\, (1 - y)

    Parameters
    ----------
    y : tensor of shape (n_pairs,)
        Probability that ``a`` is preferred.
    epsilon : float
        Smoothing in [0, 0.5); 0 leaves ``y`` unchanged.
    """
    return (1.0 - epsilon) * y + epsilon * (1.0 - y)


def bt_loss(
    delta: Tensor,
    y: Tensor,
    margin: Tensor | float = 0.0,
    weight: Tensor | None = None,
) -> Tensor:
    r"""Bradley-Terry negative log-likelihood with a margin [BT52]_ [RLHF2]_.

    With :math:`\Delta = r_a - r_b`, target :math:`y` and margin :math:`m`,

    .. math::

        \ell = -\,y \log \sigma(\Delta - m) - (1 - y) \log \sigma(-\Delta - m)

    For a hard label (:math:`y = 1`) this is :math:`-\log\sigma(r_w - r_l - m)`,
    the margin loss of Llama 2 and of the adaptive-margin option of [RLHF2]_;
    swapping ``a`` and ``b`` (``delta -> -delta``, ``y -> 1 - y``) leaves it
    unchanged.

    Parameters
    ----------
    delta : tensor of shape (n_pairs,)
        Reward difference ``r_a - r_b`` (or the GPM score ``s(a, b)``).
    y : tensor of shape (n_pairs,)
        Probability that ``a`` is preferred.
    margin : tensor of shape (n_pairs,) or float, default=0.0
        Margin each pair's difference must exceed.
    weight : tensor of shape (n_pairs,) or None, default=None
        Sample weights (the mean is weighted).

    Returns
    -------
    tensor
        The scalar mean loss.
    """
    per_pair = -y * F.logsigmoid(delta - margin) - (1.0 - y) * F.logsigmoid(
        -delta - margin
    )
    return weighted_mean(per_pair, weight)


def bt_loss_grad(delta: Tensor, y: Tensor, margin: Tensor | float = 0.0) -> Tensor:
    r"""Gradient of the per-pair :func:`bt_loss` with respect to ``delta``.

    .. math::

        \frac{\partial \ell}{\partial \Delta}
        = -\,y\,\sigma(m - \Delta) + (1 - y)\,\sigma(\Delta + m)

    Used by the tests as the analytic reference for autograd.
    """
    return -y * torch.sigmoid(margin - delta) + (1.0 - y) * torch.sigmoid(
        delta + margin
    )


def simcse_loss(u1: Tensor, u2: Tensor, tau: float = 0.1) -> Tensor:
    r"""In-batch contrastive (InfoNCE) term on pair representations [RLHF2]_.

    ``u1[i]`` and ``u2[i]`` are two dropout views of the representation
    difference :math:`h_w - h_l` of pair ``i`` (winner minus loser); each view
    must pick its own pair's other view out of the batch:

    .. math::

        \ell = -\frac1n \sum_i \log
        \frac{\exp(\cos(u_1^i, u_2^i)/\tau)}{\sum_j \exp(\cos(u_1^i, u_2^j)/\tau)}

    Parameters
    ----------
    u1, u2 : tensor of shape (n_pairs, dim)
        Two views of each pair's representation difference.
    tau : float, default=0.1
        Temperature.
    """
    z1 = F.normalize(u1, dim=-1)
    z2 = F.normalize(u2, dim=-1)
    # (n_pairs, n_pairs) cosine similarities; the diagonal holds the positives
    logits = z1 @ z2.T / tau
    target = torch.arange(len(u1), device=u1.device)
    return F.cross_entropy(logits, target)


def weighted_mean(values: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean of ``values``, weighted by ``weight`` when given."""
    if weight is None:
        return values.mean()
    return (values * weight).sum() / weight.sum().clamp_min(1e-12)
