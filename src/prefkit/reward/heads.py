"""Small torch heads over frozen features: a scalar reward and a GPM head.

Both take a feature matrix ``x`` of shape ``(n, n_features)`` (one row per
prompt-response input, see :mod:`prefkit.reward.features`), standardise it
with statistics stored in the module, and expose

- ``represent(x)``: the hidden representation (used by the contrastive term),
- ``pair_score(x_a, x_b)``: the pairwise logit ``s(a, b)`` with
  ``P(a > b) = sigmoid(s(a, b))`` and ``s(b, a) = -s(a, b)``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

HeadKind = Literal["bt", "gpm"]
HEAD_KINDS: tuple[HeadKind, ...] = ("bt", "gpm")


class _Standardise(nn.Module):
    """Feature standardisation with statistics fitted once on training rows."""

    mean: Tensor
    scale: Tensor

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def fit(self, x: Tensor) -> None:
        """Set mean and scale from the rows of ``x``."""
        self.mean.copy_(x.mean(dim=0))
        self.scale.copy_(x.std(dim=0).clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.scale


def _trunk(n_features: int, hidden: int, dropout: float) -> nn.Module:
    """Linear -> GELU -> dropout, or the identity when ``hidden`` is 0."""
    if hidden == 0:
        return nn.Identity()
    return nn.Sequential(nn.Linear(n_features, hidden), nn.GELU(), nn.Dropout(dropout))


class ScalarHead(nn.Module):
    r"""Bradley-Terry reward head: one scalar per input [BT52]_.

    .. math:: s(a, b) = r(x_a) - r(x_b), \qquad r(x) = w^\top g(x) + c

    with :math:`g` one hidden layer (or the identity when ``hidden=0``, a
    linear reward).

    Parameters
    ----------
    n_features : int
        Width of the input features.
    hidden : int, default=256
        Hidden units (0 for a linear reward on the standardised features).
    dropout : float, default=0.1
        Dropout after the hidden layer.
    """

    kind: HeadKind = "bt"

    def __init__(self, n_features: int, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        self.norm = _Standardise(n_features)
        self.trunk = _trunk(n_features, hidden, dropout)
        self.out = nn.Linear(hidden or n_features, 1)

    def represent(self, x: Tensor) -> Tensor:
        """Hidden representation, shape ``(n, hidden)``."""
        return self.trunk(self.norm(x))

    def reward(self, x: Tensor) -> Tensor:
        """Scalar reward per row, shape ``(n,)``."""
        return self.out(self.represent(x)).squeeze(-1)

    def pair_score(self, x_a: Tensor, x_b: Tensor) -> Tensor:
        """``r(x_a) - r(x_b)``, shape ``(n,)``."""
        return self.reward(x_a) - self.reward(x_b)


def skew_form(v_a: Tensor, v_b: Tensor, eigen: Tensor) -> Tensor:
    r"""Skew-symmetric bilinear form of two preference embeddings [GPM]_.

    With :math:`v \in \mathbb{R}^{2k}` split into ``k`` planes and
    :math:`R = \operatorname{diag}_l\big(\lambda_l
    \begin{pmatrix}0 & 1\\ -1 & 0\end{pmatrix}\big)`,

    .. math::

        s(a, b) = v_a^\top R\, v_b
        = \sum_{l=1}^{k} \lambda_l\,(v_{a,2l-1} v_{b,2l} - v_{a,2l} v_{b,2l-1})

    so :math:`s(a, b) = -s(b, a)` and :math:`s(a, a) = 0`.

    Parameters
    ----------
    v_a, v_b : tensor of shape (n, 2k)
        Preference embeddings.
    eigen : tensor of shape (k,)
        Non-negative weight :math:`\lambda_l` of each plane.
    """
    # (n, k, 2): the k planes of each embedding
    a = v_a.reshape(*v_a.shape[:-1], -1, 2)
    b = v_b.reshape(*v_b.shape[:-1], -1, 2)
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return (cross * eigen).sum(dim=-1)


class PreferenceHead(nn.Module):
    r"""General preference-embedding head [GPM]_.

    Each input maps to a unit vector :math:`v(x) \in \mathbb{R}^{2k}`; the
    preference logit is the skew-symmetric form :func:`skew_form`, so cyclic
    preferences (a > b > c > a) are representable, which no scalar reward can
    do. Scoring ``k`` responses costs ``k`` forward passes.

    Parameters
    ----------
    n_features : int
        Width of the input features.
    hidden : int, default=256
        Hidden units (0: the embedding is linear in the features).
    dropout : float, default=0.1
        Dropout after the hidden layer.
    n_planes : int, default=4
        Number ``k`` of 2-dimensional planes of the embedding.
    """

    kind: HeadKind = "gpm"

    def __init__(
        self,
        n_features: int,
        hidden: int = 256,
        dropout: float = 0.1,
        n_planes: int = 4,
    ) -> None:
        super().__init__()
        self.norm = _Standardise(n_features)
        self.trunk = _trunk(n_features, hidden, dropout)
        self.embed = nn.Linear(hidden or n_features, 2 * n_planes)
        # softplus(1.0) ~ 1.3 per plane at the start
        self.eigen_raw = nn.Parameter(torch.ones(n_planes))

    def represent(self, x: Tensor) -> Tensor:
        """Hidden representation, shape ``(n, hidden)``."""
        return self.trunk(self.norm(x))

    def embedding(self, x: Tensor) -> Tensor:
        """Unit preference embedding per row, shape ``(n, 2k)``."""
        return F.normalize(self.embed(self.represent(x)), dim=-1)

    def eigenvalues(self) -> Tensor:
        """Non-negative plane weights, shape ``(k,)``."""
        return F.softplus(self.eigen_raw) * 4.0

    def pair_score(self, x_a: Tensor, x_b: Tensor) -> Tensor:
        """``s(a, b)``, shape ``(n,)``."""
        return skew_form(self.embedding(x_a), self.embedding(x_b), self.eigenvalues())


#: Either head.
Head = ScalarHead | PreferenceHead


def make_head(
    kind: HeadKind,
    n_features: int,
    hidden: int,
    dropout: float,
    n_planes: int,
) -> Head:
    """Build the head named ``kind`` (validated by the caller's config)."""
    if kind == "gpm":
        return PreferenceHead(n_features, hidden, dropout, n_planes)
    return ScalarHead(n_features, hidden, dropout)
