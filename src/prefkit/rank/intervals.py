"""Confidence intervals for Bradley-Terry fits: sandwich and bootstrap.

* **Sandwich** (robust) covariance :math:`A^{+} B A^{+}` with :math:`A` the
  negative Hessian and :math:`B = \\sum_c n_c s_c s_c^\\top` the outer
  product of per-battle scores; it stays honest when the tie convention or
  the BT model itself is misspecified (as "half a win" is) [Whi80].
* **Bootstrap**: battles resampled with replacement, drawn as multinomial
  counts over the unique (row, outcome) cells, every replicate refitted at
  once by the batched Newton solver, warm-started at the full-data estimate
  [Efr79].

Ratings are only identified up to a shift; covariances are for ratings
centred at zero (the pseudo-inverse of :math:`A` along the shift).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from prefkit.rank.bradley_terry import BTFit, newton
from prefkit.rank.likelihood import cell_scores, derivatives, one_blas_thread

Array = NDArray[np.float64]
logger = logging.getLogger("prefkit.rank")

#: Bootstrap replicates are fitted in chunks of about this many (replicate, row) pairs.
CHUNK_CELLS = 500_000


def _information_inverse(fit: BTFit) -> Array:
    """Inverse of the observed information, pseudo-inverse along the rating shift."""
    _, _, H = derivatives(
        fit.params[None], fit.data, fit.data.counts[None], fit.tie, fit.penalty
    )
    A = -H[0]
    m, p = fit.data.n_models, len(fit.params)
    if fit.penalty.l2 > 0:
        inv: Array = np.linalg.inv(A)
        return inv
    J = np.zeros((p, p))
    J[:m, :m] = 1.0
    # (A + 1 1^T)^{-1} = A^+ + 1 1^T / m^2 on the rating block
    out: Array = np.linalg.inv(A + J) - J / m**2
    return out


def model_covariance(fit: BTFit) -> Array:
    """Inverse observed Fisher information (valid when the model is right)."""
    return _information_inverse(fit)


def sandwich_covariance(fit: BTFit) -> Array:
    """Robust (sandwich) covariance of the parameters, shape ``(p, p)``.

    .. math:: \\hat V = A^{+} \\Big(\\sum_c \\frac{w_c^2}{n_c} s_c s_c^\\top\\Big) A^{+}

    where :math:`s_c` is the score of one battle in cell :math:`c`, :math:`w_c`
    the summed weight of its :math:`n_c` battles.
    """
    with one_blas_thread():
        return _sandwich(fit)


def _sandwich(fit: BTFit) -> Array:
    """:func:`sandwich_covariance` without the thread limit."""
    A_inv = _information_inverse(fit)
    s = cell_scores(fit.params, fit.data, fit.tie)
    n, w = fit.data.n, fit.data.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        mass = np.where(n > 0, w**2 / n, 0.0)
    S = s.reshape(-1, s.shape[-1])
    B = (S * mass.reshape(-1, 1)).T @ S
    out: Array = A_inv @ B @ A_inv
    return out


def bootstrap_params(
    fit: BTFit,
    rounds: int,
    seed: int,
    *,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> tuple[Array, NDArray[np.bool_]]:
    """Parameters refitted on ``rounds`` bootstrap resamples of the battles.

    Parameters
    ----------
    fit : BTFit
        The full-data fit (its estimate is every replicate's start).
    rounds : int
        Number of bootstrap replicates.
    seed : int
        Seed of the resampling.
    max_iter : int, default=50
        Newton iterations at most per replicate.
    tol : float, default=1e-8
        Convergence tolerance.

    Returns
    -------
    params : array of shape (rounds, p)
    converged : bool array of shape (rounds,)
    """
    data = fit.data
    n_cells = data.n.ravel()
    total = round(float(n_cells.sum()))
    probs = n_cells / n_cells.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        per_battle = np.where(n_cells > 0, data.counts.ravel() / n_cells, 0.0)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(rounds, CHUNK_CELLS // max(1, len(data.i))))
    params, converged = [], []
    for start in range(0, rounds, chunk):
        size = min(chunk, rounds - start)
        draws = rng.multinomial(total, probs, size=size)
        counts = (draws * per_battle).reshape(size, -1, 3).astype(np.float64)
        result = newton(
            fit.params[None],
            data,
            counts,
            fit.tie,
            fit.penalty,
            max_iter=max_iter,
            tol=tol,
        )
        params.append(result.w)
        converged.append(result.converged)
    logger.info("bootstrap: %d replicates in chunks of %d", rounds, chunk)
    return np.concatenate(params), np.concatenate(converged)


def rank_intervals(
    rating: Array, lower: Array, upper: Array
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Rank by point estimate and the best and worst ranks the CIs allow.

    ``rank`` is 1 + the number of models rated higher; ``rank_lower`` (best
    plausible) is 1 + the number of models whose lower bound is above this
    model's upper bound (LMArena's rule [Chiang24]); ``rank_upper`` (worst
    plausible) is 1 + the number of other models whose upper bound is above
    this model's lower bound.
    """
    rank = 1 + (rating[None, :] > rating[:, None]).sum(axis=1)
    best = 1 + (lower[None, :] > upper[:, None]).sum(axis=1)
    overlap = upper[None, :] > lower[:, None]
    np.fill_diagonal(overlap, False)
    worst = 1 + overlap.sum(axis=1)
    return rank.astype(np.int64), best.astype(np.int64), worst.astype(np.int64)
