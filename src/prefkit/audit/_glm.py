"""Logistic regression with soft labels by iteratively reweighted least squares.

Own IRLS rather than statsmodels (a dev-only dependency here) or
scikit-learn's L1 path: the audits need soft targets in [0, 1], row weights
for the cluster bootstrap, a covariance for delta-method errors and an
explicit ``converged_`` signal, in ~40 lines.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from prefkit.errors import ConvergenceWarning

logger = logging.getLogger("prefkit.audit")
FloatArray = NDArray[Any]


@dataclass(frozen=True)
class LogitFit:
    """Result of :func:`fit_logistic`.

    Attributes
    ----------
    coef_ : array of shape (n_features,)
    cov_ : array of shape (n_features, n_features)
        Sandwich (robust) covariance, valid for soft labels.
    converged_ : bool
    n_iter_ : int
    """

    coef_: FloatArray
    cov_: FloatArray
    converged_: bool
    n_iter_: int


def sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function without overflow."""
    return np.exp(-np.logaddexp(0.0, -z))


def _penalised_loglik(
    X: FloatArray,
    y: FloatArray,
    w: FloatArray,
    beta: FloatArray,
    lam: FloatArray,
    m: FloatArray,
) -> float:
    """Weighted soft-label log-likelihood minus the ridge penalty."""
    eta = X @ beta
    loglik = np.dot(w, y * eta - np.logaddexp(0.0, eta))
    return float(loglik - 0.5 * np.dot(lam, (beta - m) ** 2))


def fit_logistic(
    X: FloatArray,
    y: FloatArray,
    w: FloatArray | None = None,
    *,
    ridge: float | FloatArray = 1e-6,
    prior_mean: FloatArray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    clusters: NDArray[np.intp] | None = None,
) -> LogitFit:
    """Maximise the weighted Bernoulli log-likelihood of soft labels ``y``.

    .. math:: \\ell(\\beta) = \\sum_i w_i \\left[y_i x_i^\\top\\beta
        - \\log(1 + e^{x_i^\\top\\beta})\\right]
        - \\tfrac{1}{2}\\sum_k \\lambda_k (\\beta_k - m_k)^2

    Parameters
    ----------
    X : array of shape (n_rows, n_features)
    y : array of shape (n_rows,)
        Targets in [0, 1].
    w : array of shape (n_rows,) or None, default=None
        Row weights (ones when None).
    ridge : float or array of shape (n_features,), default=1e-6
        ``lambda`` (one per coefficient if an array); keeps separable data
        finite, or pulls coefficients towards ``prior_mean``.
    prior_mean : array of shape (n_features,) or None, default=None
        Centre of the ridge penalty (zeros when None).
    max_iter : int, default=100
    tol : float, default=1e-8
        Stop when the largest Newton step is below it.
    clusters : array of shape (n_rows,) or None, default=None
        Cluster codes; the sandwich then sums scores within clusters
        (cluster-robust errors, e.g. over prompts).
    """
    n, k = X.shape
    w_ = np.ones(n) if w is None else w
    lam = np.broadcast_to(np.asarray(ridge, dtype=float), (k,))
    m = np.zeros(k) if prior_mean is None else np.asarray(prior_mean, dtype=float)
    beta = m.copy()
    converged = False
    n_iter = 0
    value = _penalised_loglik(X, y, w_, beta, lam, m)
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        mu = sigmoid(X @ beta)
        grad = X.T @ (w_ * (y - mu)) - lam * (beta - m)
        hess = (X * (w_ * mu * (1 - mu))[:, None]).T @ X + np.diag(lam)
        step = np.linalg.solve(hess, grad)
        # Damped Newton: halve the step until the objective rises, so a
        # near-separable fit (a model that almost always wins) cannot
        # overshoot and oscillate as the plain IRLS update does.
        t = 1.0
        while t > 1e-10:
            new_value = _penalised_loglik(X, y, w_, beta + t * step, lam, m)
            if new_value >= value - 1e-12 * abs(value):
                break
            t /= 2
        beta = beta + t * step
        value = new_value
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"logistic fit stopped after {max_iter} iterations without converging",
            ConvergenceWarning,
            stacklevel=2,
        )
    mu = sigmoid(X @ beta)
    hess = (X * (w_ * mu * (1 - mu))[:, None]).T @ X + np.diag(lam)
    bread = np.linalg.inv(hess)
    score = X * (w_ * (y - mu))[:, None]
    if clusters is not None:
        summed = np.zeros((int(clusters.max()) + 1, k))
        np.add.at(summed, clusters, score)
        score = summed
    cov = bread @ (score.T @ score) @ bread
    return LogitFit(beta, cov, converged, n_iter)
