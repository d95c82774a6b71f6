"""Bradley-Terry log-likelihood, gradient and Hessian on aggregated counts.

The parameter vector is ``w = [theta (m), beta (k), eta (0 or 1)]``: ratings
in natural log-odds units, covariate (style) coefficients and the tie
parameter. Each unique row ``u`` has the linear predictor

.. math:: d_u = \\theta_{i_u} - \\theta_{j_u} + x_u^\\top \\beta

and contributes ``sum_k n_uk log p_k(d_u, eta)`` [BT52]. All functions are
pure and batched: ``w`` has shape ``(R, p)`` and ``counts`` ``(R, U, 3)`` so
that every bootstrap replicate is evaluated at once.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from prefkit.rank.aggregate import Aggregated
from prefkit.rank.ties import OutcomeDerivatives, TieModel

Array = NDArray[np.float64]


_THREADS: dict[str, Any] = {}


def one_blas_thread(enabled: bool = True) -> AbstractContextManager[Any]:
    """Context in which BLAS uses one thread (many small solves gain nothing
    from threads and lose much to contention on a busy machine)."""
    if not enabled:
        return nullcontext()
    if "controller" not in _THREADS:
        from threadpoolctl import ThreadpoolController

        # finding the BLAS libraries is slow: do it once per process
        _THREADS["controller"] = ThreadpoolController()
    limiter: AbstractContextManager[Any] = _THREADS["controller"].limit(
        limits=1, user_api="blas"
    )
    return limiter


@dataclass(frozen=True)
class Penalty:
    """Gaussian (L2) priors: ``l2`` on ratings, ``l2_style`` on coefficients."""

    l2: float = 0.0
    l2_style: float = 0.0


def n_params(data: Aggregated, tie: TieModel) -> int:
    """Length of the parameter vector for ``data`` under ``tie``."""
    return data.n_models + data.X.shape[1] + int(tie.has_eta)


def split(w: Array, data: Aggregated) -> tuple[Array, Array, Array]:
    """``theta (R, m)``, ``beta (R, k)`` and ``eta (R,)`` views of ``w (R, p)``."""
    m, k = data.n_models, data.X.shape[1]
    eta = w[:, m + k] if w.shape[1] > m + k else np.zeros(len(w))
    return w[:, :m], w[:, m : m + k], eta


def linear_predictor(w: Array, data: Aggregated) -> Array:
    """``d`` of shape ``(R, U)``: rating difference plus covariate effect."""
    theta, beta, _ = split(w, data)
    d = theta[:, data.i] - theta[:, data.j]
    if beta.shape[1]:
        d = d + beta @ data.X.T
    return d


def outcome_derivatives(
    w: Array, data: Aggregated, tie: TieModel
) -> OutcomeDerivatives:
    """Log probabilities and their derivatives at every row, shape ``(R, U, 3)``."""
    d = linear_predictor(w, data)
    eta = split(w, data)[2][:, None] * np.ones_like(d)
    return tie.outcomes(d, eta)


def _penalty_value(w: Array, data: Aggregated, pen: Penalty) -> Array:
    theta, beta, _ = split(w, data)
    out: Array = 0.5 * pen.l2 * (theta**2).sum(1) + 0.5 * pen.l2_style * (beta**2).sum(
        1
    )
    return out


def _logistic_terms(
    w: Array, data: Aggregated, counts: Array, tie: TieModel
) -> tuple[Array, Array, Array]:
    """Per-row log-likelihood, first and second derivative in ``d``, ``(R, U)``.

    The fast path of the tie conventions without a tie parameter: with
    ``y_a, y_b`` the effective wins, ``l = y_a log s(d) + y_b log s(-d)``,
    computed from a single ``exp(-|d|)``.
    """
    d = linear_predictor(w, data)
    y_a = counts @ tie.count_map[:, 0]
    n = y_a + counts @ tie.count_map[:, 1]
    # one exp and one log1p per row; in place to spare memory traffic
    e = np.abs(d)
    np.negative(e, out=e)
    np.exp(e, out=e)
    p = 1.0 / (1.0 + e)
    ll = np.log1p(e)
    ll *= -n
    ll += y_a * d
    ll -= n * np.maximum(d, 0.0)
    # p = sigmoid(d): 1 / (1 + e) for d >= 0, e / (1 + e) otherwise
    np.multiply(p, e, out=p, where=d < 0)
    g_d = y_a - n * p
    h_dd = p * (p - 1.0)
    h_dd *= n
    return ll, g_d, h_dd


def loglik(
    w: Array, data: Aggregated, counts: Array, tie: TieModel, pen: Penalty
) -> Array:
    """Penalised log-likelihood of each replicate, shape ``(R,)``.

    .. math:: \\ell(w) = \\sum_u \\sum_k (nM)_{uk} \\log p_k(d_u, \\eta)
        - \\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2
        - \\tfrac{\\lambda_s}{2}\\lVert\\beta\\rVert^2
    """
    if not tie.has_eta:
        ll = _logistic_terms(w, data, counts, tie)[0].sum(axis=1)
        ll = ll - _penalty_value(w, data, pen)
        return np.where(np.isfinite(ll), ll, -np.inf)
    out = outcome_derivatives(w, data, tie)
    n_eff = counts @ tie.count_map
    with np.errstate(invalid="ignore"):
        terms = np.where(n_eff > 0, n_eff * out.logp, 0.0)
    ll = terms.sum(axis=(1, 2)) - _penalty_value(w, data, pen)
    return np.where(np.isfinite(ll), ll, -np.inf)


def _scatter_models(v: Array, data: Aggregated) -> Array:
    """``out[r, i_u] += v[r, u]`` and ``out[r, j_u] -= v[r, u]``; shape ``(R, m)``."""
    R, m = v.shape[0], data.n_models
    offset = (np.arange(R) * m)[:, None]
    plus = np.bincount((offset + data.i).ravel(), v.ravel(), R * m)
    minus = np.bincount((offset + data.j).ravel(), v.ravel(), R * m)
    out: Array = (plus - minus).reshape(R, m).astype(np.float64)
    return out


def _theta_block(h: Array, data: Aggregated) -> Array:
    """Hessian block of the ratings: a weighted graph Laplacian, ``(R, m, m)``."""
    R, m = h.shape[0], data.n_models
    offset = (np.arange(R) * m * m)[:, None]
    flat = np.bincount((offset + data.i * m + data.j).ravel(), h.ravel(), R * m * m)
    S: Array = flat.reshape(R, m, m).astype(np.float64)
    S = S + S.transpose(0, 2, 1)
    # d^2/dtheta_i dtheta_j = -h for i != j; the diagonal is the row sum
    H = -S
    idx = np.arange(m)
    H[:, idx, idx] = S.sum(axis=2)
    return H


def derivatives(
    w: Array, data: Aggregated, counts: Array, tie: TieModel, pen: Penalty
) -> tuple[Array, Array, Array]:
    """Log-likelihood ``(R,)``, gradient ``(R, p)`` and Hessian ``(R, p, p)``."""
    R, p = w.shape
    m, k = data.n_models, data.X.shape[1]
    if tie.has_eta:
        out = outcome_derivatives(w, data, tie)
        n_eff = counts @ tie.count_map
        # per-row sums over outcomes (the chain rule does the rest)
        with np.errstate(invalid="ignore"):
            ll = np.where(n_eff > 0, n_eff * out.logp, 0.0).sum(axis=(1, 2))
        g_d = (n_eff * out.d1).sum(-1)
        h_dd = (n_eff * out.dd).sum(-1)
    else:
        row_ll, g_d, h_dd = _logistic_terms(w, data, counts, tie)
        ll = row_ll.sum(axis=1)

    grad = np.zeros((R, p))
    hess = np.zeros((R, p, p))
    grad[:, :m] = _scatter_models(g_d, data)
    hess[:, :m, :m] = _theta_block(h_dd, data)
    if k:
        X = data.X
        grad[:, m : m + k] = g_d @ X
        hess[:, m : m + k, m : m + k] = np.einsum("ru,uk,ul->rkl", h_dd, X, X)
        cross = np.stack([_scatter_models(h_dd * X[:, c], data) for c in range(k)], -1)
        hess[:, :m, m : m + k] = cross
        hess[:, m : m + k, :m] = cross.transpose(0, 2, 1)
    if tie.has_eta:
        e = m + k
        grad[:, e] = (n_eff * out.e1).sum(axis=(1, 2))
        h_de = (n_eff * out.de).sum(-1)
        hess[:, e, e] = (n_eff * out.ee).sum(axis=(1, 2))
        hess[:, :m, e] = _scatter_models(h_de, data)
        hess[:, e, :m] = hess[:, :m, e]
        if k:
            hess[:, m : m + k, e] = h_de @ data.X
            hess[:, e, m : m + k] = hess[:, m : m + k, e]

    # the Gaussian priors
    theta, beta, _ = split(w, data)
    ll = ll - _penalty_value(w, data, pen)
    grad[:, :m] -= pen.l2 * theta
    grad[:, m : m + k] -= pen.l2_style * beta
    diag = np.concatenate([np.full(m, pen.l2), np.full(k, pen.l2_style)])
    idx = np.arange(m + k)
    hess[:, idx, idx] -= diag
    return ll, grad, hess


def cell_scores(w: Array, data: Aggregated, tie: TieModel) -> Array:
    """Score of one battle of each (row, observed outcome) cell, ``(U, 3, p)``.

    A tie under ``half`` scores half a win for each side (``M`` maps it).
    """
    m, k = data.n_models, data.X.shape[1]
    out = outcome_derivatives(w[None, :], data, tie)
    # rows: observed outcome; mixing the model's outcome cells through M
    d1 = out.d1[0] @ tie.count_map.T
    U = len(data.i)
    s = np.zeros((U, 3, n_params(data, tie)))
    rows = np.arange(U)
    s[rows, :, data.i] += d1
    s[rows, :, data.j] -= d1
    if k:
        s[:, :, m : m + k] = d1[:, :, None] * data.X[:, None, :]
    if tie.has_eta:
        s[:, :, m + k] = out.e1[0] @ tie.count_map.T
    return s


def bt_loglik(
    params: Array, data: Aggregated, tie: TieModel, pen: Penalty = Penalty()
) -> float:
    """Penalised log-likelihood of one parameter vector on ``data``."""
    return float(loglik(params[None, :], data, data.counts[None], tie, pen)[0])


def bt_gradient(
    params: Array, data: Aggregated, tie: TieModel, pen: Penalty = Penalty()
) -> Array:
    """Gradient of :func:`bt_loglik` with respect to ``params``."""
    return derivatives(params[None, :], data, data.counts[None], tie, pen)[1][0]


def bt_hessian(
    params: Array, data: Aggregated, tie: TieModel, pen: Penalty = Penalty()
) -> Array:
    """Hessian of :func:`bt_loglik` with respect to ``params``."""
    return derivatives(params[None, :], data, data.counts[None], tie, pen)[2][0]
