"""How a tie enters the Bradley-Terry likelihood: one small model per convention.

Every tie model gives, for a rating difference ``d`` (natural log-odds units,
``d = theta_a - theta_b + x @ beta``) and a tie parameter ``eta``, the log
probabilities of the three outcomes ``a, b, tie`` and their first and second
derivatives with respect to ``d`` and ``eta``. A 3 x 3 matrix ``M`` maps the
observed outcome counts onto the likelihood's cells (``n_eff = n @ M``), which
is how "a tie is half a win" and "drop ties" are written without special
cases. All functions are pure, elementwise and broadcast over any leading
shape (the bootstrap passes ``(R, U)`` arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from prefkit.errors import PrefkitError

Array = NDArray[np.float64]
TieName = Literal["half", "drop", "rao-kupper", "davidson"]


@dataclass(frozen=True)
class OutcomeDerivatives:
    """Log probabilities of ``(a, b, tie)`` and their derivatives.

    Attributes
    ----------
    logp : array of shape (..., 3)
        Log probability of each outcome.
    d1 : array of shape (..., 3)
        Derivative of each log probability with respect to ``d``.
    e1 : array of shape (..., 3)
        Derivative with respect to ``eta`` (zeros when there is no ``eta``).
    dd, de, ee : array of shape (..., 3)
        Second derivatives (``d d``, ``d eta``, ``eta eta``).
    """

    logp: Array
    d1: Array
    e1: Array
    dd: Array
    de: Array
    ee: Array


def softplus(x: Array) -> Array:
    """``log(1 + exp(x))`` without overflow."""
    return np.logaddexp(0.0, x)


def sigmoid(x: Array) -> Array:
    """The logistic function ``1 / (1 + exp(-x))``."""
    out: Array = np.exp(-softplus(-x))
    return out


def logistic_outcomes(d: Array, eta: Array) -> OutcomeDerivatives:
    """Bradley-Terry without a tie outcome [BT52].

    .. math:: P(a) = \\sigma(d), \\quad P(b) = \\sigma(-d)

    The tie cell holds zeros; the count map decides what a tie becomes.
    """
    pa = sigmoid(d)
    pb = 1.0 - pa
    curv = -pa * pb
    zero = np.zeros_like(d)
    logp = np.stack([-softplus(-d), -softplus(d), zero], axis=-1)
    d1 = np.stack([pb, -pa, zero], axis=-1)
    dd = np.stack([curv, curv, zero], axis=-1)
    zeros3 = np.zeros_like(logp)
    return OutcomeDerivatives(logp, d1, zeros3, dd, zeros3, zeros3)


def rao_kupper_outcomes(d: Array, eta: Array) -> OutcomeDerivatives:
    """Rao-Kupper ties with threshold ``eta > 0`` (``theta = exp(eta)``) [RK67].

    .. math::
        P(a) = \\sigma(d - \\eta), \\quad P(b) = \\sigma(-d - \\eta), \\quad
        \\log P(\\mathrm{tie}) = \\log(e^{2\\eta} - 1)
            - \\operatorname{softplus}(\\eta - d)
            - \\operatorname{softplus}(\\eta + d)
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        u, v = eta - d, eta + d
        # each softplus once; sigmoid(x) = exp(x - softplus(x))
        spu, spv = softplus(u), softplus(v)
        su, sv = np.exp(u - spu), np.exp(v - spv)
        cu, cv = su * (1.0 - su), sv * (1.0 - sv)
        log_gap = np.log(np.expm1(2.0 * eta))
        # d/d eta of log(e^{2 eta} - 1) and its derivative -1 / sinh(eta)^2
        gap1 = -2.0 / np.expm1(-2.0 * eta)
        gap2 = -1.0 / np.sinh(eta) ** 2
    logp = np.stack([-spu, -spv, log_gap - spu - spv], -1)
    d1 = np.stack([su, -sv, su - sv], axis=-1)
    e1 = np.stack([-su, -sv, gap1 - su - sv], axis=-1)
    dd = np.stack([-cu, -cv, -cu - cv], axis=-1)
    de = np.stack([cu, -cv, cu - cv], axis=-1)
    ee = np.stack([-cu, -cv, gap2 - cu - cv], axis=-1)
    return OutcomeDerivatives(logp, d1, e1, dd, de, ee)


def davidson_outcomes(d: Array, eta: Array) -> OutcomeDerivatives:
    """Davidson ties with ``nu = exp(eta)`` [Dav70].

    .. math::
        P(a), P(b), P(\\mathrm{tie}) \\propto e^{d/2},\\ e^{-d/2},\\ e^{\\eta}
    """
    z = np.stack([d / 2.0, -d / 2.0, eta + 0.0 * d], axis=-1)
    lse = np.logaddexp(np.logaddexp(z[..., 0], z[..., 1]), z[..., 2])
    logp = z - lse[..., None]
    p = np.exp(logp)
    pa, pb, pt = p[..., 0], p[..., 1], p[..., 2]
    half = np.array([0.5, -0.5, 0.0])
    d1 = half - ((pa - pb) / 2.0)[..., None]
    e1 = np.array([0.0, 0.0, 1.0]) - pt[..., None]
    # the Hessian of a log-softmax does not depend on the observed outcome
    ones = np.ones(3)
    dd = (-((pa + pb) / 4.0 - (pa - pb) ** 2 / 4.0))[..., None] * ones
    de = (pt * (pa - pb) / 2.0)[..., None] * ones
    ee = (-(pt - pt**2))[..., None] * ones
    return OutcomeDerivatives(logp, d1, e1, dd, de, ee)


@dataclass(frozen=True)
class TieModel:
    """A tie convention: outcome derivatives, count map and tie parameter."""

    name: TieName
    outcomes: Callable[[Array, Array], OutcomeDerivatives]
    count_map: Array
    has_eta: bool
    eta_init: float
    #: what the tie parameter is reported as, and how it is obtained from eta
    eta_label: str
    description: str


_HALF = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
_DROP = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])

TIES: dict[str, TieModel] = {
    "half": TieModel(
        "half",
        logistic_outcomes,
        _HALF,
        False,
        0.0,
        "",
        "a tie counts as half a win for each side (LMArena)",
    ),
    "drop": TieModel(
        "drop", logistic_outcomes, _DROP, False, 0.0, "", "ties are left out"
    ),
    "rao-kupper": TieModel(
        "rao-kupper",
        rao_kupper_outcomes,
        np.eye(3),
        True,
        0.5,
        "theta",
        "Rao-Kupper threshold model; reports theta = exp(eta) >= 1",
    ),
    "davidson": TieModel(
        "davidson",
        davidson_outcomes,
        np.eye(3),
        True,
        0.0,
        "nu",
        "Davidson model; reports nu = exp(eta) > 0",
    ),
}


class UnknownNameError(PrefkitError, ValueError):
    """A name that is not in the registry it was looked up in."""


def get_tie_model(name: str) -> TieModel:
    """Look up a tie convention by name; an unknown name lists the valid ones."""
    if name not in TIES:
        raise UnknownNameError(
            f"ties={name!r} is not a tie convention; use one of " + ", ".join(TIES)
        )
    return TIES[name]
