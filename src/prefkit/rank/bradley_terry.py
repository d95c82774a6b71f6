"""Bradley-Terry by maximum likelihood: a batched Newton solver and ``fit_bt``.

The solver works on any number of count vectors at once (``(R, U, 3)``): the
full-data fit is ``R = 1``, the bootstrap passes every replicate together and
starts them from the full-data estimate, so a round costs a few batched
``(R, p, p)`` solves instead of one optimiser run per replicate.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.rank.aggregate import Aggregated, aggregate
from prefkit.rank.graph import check_connected
from prefkit.rank.likelihood import (
    Penalty,
    derivatives,
    loglik,
    n_params,
    one_blas_thread,
    split,
)
from prefkit.rank.ties import TieModel, get_tie_model

Array = NDArray[np.float64]
logger = logging.getLogger("prefkit.rank")


class NotConvergedError(PrefkitError, RuntimeError):
    """A fit did not converge and ``strict=True`` was asked for."""


class NoTiesError(PrefkitError, ValueError):
    """A tie model was asked for on data without a single tie."""


@dataclass(frozen=True)
class NewtonResult:
    """Estimates of a batched Newton run.

    Attributes
    ----------
    w : array of shape (R, p)
        Estimates, ratings centred at zero.
    converged : bool array of shape (R,)
        Whether each replicate met the tolerance.
    n_iter : int
        Newton iterations run (the slowest replicate).
    loglik : array of shape (R,)
        Penalised log-likelihood at ``w``.
    """

    w: Array
    converged: NDArray[np.bool_]
    n_iter: int
    loglik: Array


def initial_params(data: Aggregated, tie: TieModel) -> Array:
    """Zeros for ratings and coefficients, the convention's start for ``eta``."""
    w = np.zeros(n_params(data, tie))
    if tie.has_eta:
        w[-1] = tie.eta_init
    return w


def newton(
    w0: Array,
    data: Aggregated,
    counts: Array,
    tie: TieModel,
    pen: Penalty,
    *,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> NewtonResult:
    """Maximise the penalised log-likelihood of each replicate by Newton's method.

    Parameters
    ----------
    w0 : array of shape (R, p) or (p,)
        Starting point (broadcast to every replicate).
    data : Aggregated
        Unique rows (models, covariates).
    counts : array of shape (R, U, 3)
        Outcome counts of each replicate.
    tie : TieModel
        The tie convention.
    pen : Penalty
        L2 priors.
    max_iter : int, default=100
        Newton iterations at most.
    tol : float, default=1e-8
        Stop when no parameter moves more than this (log-odds units).

    Returns
    -------
    NewtonResult

    Notes
    -----
    The ratings are identified only up to a common shift; each step solves
    ``(-H + 1 1^T) delta = g`` on the rating block, which keeps the ratings
    centred (the gradient sums to zero over models) and makes the system
    regular. A backtracking halving keeps every step uphill (and ``eta``
    inside its domain).
    """
    R = counts.shape[0]
    m = data.n_models
    w = np.broadcast_to(w0, (R, w0.shape[-1])).copy()
    w[:, :m] -= w[:, :m].mean(axis=1, keepdims=True)
    p = w.shape[1]
    gauge = np.zeros((p, p))
    gauge[:m, :m] = 1.0
    ridge = 1e-10 * np.eye(p)
    converged = np.zeros(R, dtype=bool)
    active = np.arange(R)
    # derivatives at the current point of every active replicate
    ll, g, H = derivatives(w, data, counts, tie, pen)
    ll_all = ll.copy()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        wa, ca = w[active], counts[active]
        # many small solves: BLAS threads only add contention here
        with one_blas_thread(len(active) > 1):
            solved = np.linalg.solve(gauge + ridge - H, g[..., None])[..., 0]
        step: Array = np.where(np.isfinite(solved), solved, 0.0).astype(np.float64)

        # the full step first; the derivatives there serve the next iteration
        trial = wa + step
        ll_new, g_new, H_new = derivatives(trial, data, ca, tie, pen)
        worse = ~(ll_new >= ll - 1e-10 * np.abs(ll))
        scale = np.ones(len(active))
        if worse.any():
            scale, ll_new, g_new, H_new, trial = _backtrack(
                wa, step, ll, worse, (ll_new, g_new, H_new), data, ca, tie, pen
            )
        moved = np.abs(scale[:, None] * step).max(axis=1)
        w[active] = trial
        ll_all[active] = ll_new
        done = moved < tol
        converged[active[done]] = True
        active = active[~done]
        ll, g, H = ll_new[~done], g_new[~done], H_new[~done]
        if len(active) == 0:
            break
    return NewtonResult(w, converged, n_iter, ll_all)


def _backtrack(
    wa: Array,
    step: Array,
    ll: Array,
    worse: NDArray[np.bool_],
    full: tuple[Array, Array, Array],
    data: Aggregated,
    counts: Array,
    tie: TieModel,
    pen: Penalty,
) -> tuple[Array, Array, Array, Array, Array]:
    """Halve the steps of the replicates whose likelihood went down."""
    ll_new, g_new, H_new = (x.copy() for x in full)
    scale = np.ones(len(wa))
    rows = np.flatnonzero(worse)
    for _ in range(40):
        scale[rows] /= 2.0
        trial = wa[rows] + scale[rows, None] * step[rows]
        ll_rows = loglik(trial, data, counts[rows], tie, pen)
        ok = ll_rows >= ll[rows] - 1e-10 * np.abs(ll[rows])
        rows = rows[~ok]
        if len(rows) == 0:
            break
    # rows still worse after 40 halvings stay (almost) where they were
    trial = wa + scale[:, None] * step
    fixed = np.flatnonzero(worse)
    ll_new[fixed], g_new[fixed], H_new[fixed] = derivatives(
        trial[fixed], data, counts[fixed], tie, pen
    )
    return scale, ll_new, g_new, H_new, trial


@dataclass(frozen=True)
class BTFit:
    """A fitted Bradley-Terry model (natural log-odds units).

    Attributes
    ----------
    params : array of shape (p,)
        ``[theta (m), beta (k), eta]``; ``theta`` centred at zero.
    data : Aggregated
        The counts the fit used.
    tie : TieModel
        The tie convention.
    penalty : Penalty
        The L2 priors.
    converged_ : bool
        Whether Newton met its tolerance.
    n_iter_ : int
        Newton iterations run.
    loglik_ : float
        Penalised log-likelihood at ``params``.
    """

    params: Array
    data: Aggregated
    tie: TieModel
    penalty: Penalty
    converged_: bool
    n_iter_: int
    loglik_: float

    @property
    def theta(self) -> Array:
        """Ratings (log-odds, centred)."""
        return split(self.params[None], self.data)[0][0]

    @property
    def beta(self) -> Array:
        """Covariate coefficients."""
        return split(self.params[None], self.data)[1][0]

    @property
    def eta(self) -> float | None:
        """Tie parameter on its log scale, or None without one."""
        return float(self.params[-1]) if self.tie.has_eta else None

    @property
    def ratings(self) -> pd.Series:
        """Ratings as a Series indexed by model name."""
        return pd.Series(self.theta, index=list(self.data.models), name="theta")


def check_convergence(converged: bool, n_iter: int, what: str, strict: bool) -> None:
    """Warn (or raise when ``strict``) about a fit that did not converge."""
    if converged:
        return
    message = (
        f"{what} did not converge in {n_iter} iterations; the estimates may be "
        "infinite (a model that never loses or never wins): add an L2 prior "
        "(l2 > 0), more battles, or raise max_iter"
    )
    if strict:
        raise NotConvergedError(message)
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def _validate_options(l2: float, l2_style: float, max_iter: int, tol: float) -> None:
    for name, value in (("l2", l2), ("l2_style", l2_style)):
        if not np.isfinite(value) or value < 0:
            raise PrefkitError(
                f"{name}={value!r} is not a valid prior strength; pass a finite "
                "number >= 0"
            )
    if max_iter < 1:
        raise PrefkitError(f"max_iter={max_iter!r} must be at least 1")
    if not tol > 0:
        raise PrefkitError(f"tol={tol!r} must be a positive number")


def fit_bt(
    comparisons: pd.DataFrame | Aggregated,
    *,
    ties: str = "half",
    l2: float = 0.0,
    l2_style: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-8,
    strict: bool = False,
) -> BTFit:
    """Fit Bradley-Terry ratings (with a tie convention) by maximum likelihood.

    .. math::
        \\max_{\\theta, \\beta, \\eta} \\sum_u \\sum_k n_{uk}
        \\log p_k(\\theta_{i_u} - \\theta_{j_u} + x_u^\\top\\beta, \\eta)
        - \\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2
        - \\tfrac{\\lambda_s}{2}\\lVert\\beta\\rVert^2

    with :math:`p_k` from the tie convention ([BT52]; [RK67]; [Dav70]).

    Parameters
    ----------
    comparisons : DataFrame or Aggregated
        The canonical comparisons table, or counts from
        :func:`prefkit.rank.aggregate.aggregate` (which carry covariates).
    ties : {"half", "drop", "rao-kupper", "davidson"}, default="half"
        How ties enter the likelihood (see :mod:`prefkit.rank.ties`).
    l2 : float, default=0.0
        Gaussian prior precision on the ratings.
    l2_style : float, default=1.0
        Gaussian prior precision on the covariate coefficients.
    max_iter : int, default=100
        Newton iterations at most.
    tol : float, default=1e-8
        Convergence tolerance on the parameter step.
    strict : bool, default=False
        Raise :class:`NotConvergedError` instead of warning.

    Returns
    -------
    BTFit

    Raises
    ------
    DisconnectedGraphError
        When the comparison graph has several components.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x", "x", "y", "z"],
    ...                   "model_b": ["y", "y", "z", "x"],
    ...                   "winner": ["a", "a", "a", "a"]})
    >>> fit = fit_bt(t, ties="drop")
    >>> fit.ratings.idxmax(), round(float(fit.theta[0]), 4)
    ('x', 0.4196)
    """
    tie = get_tie_model(ties)
    _validate_options(l2, l2_style, max_iter, tol)
    data = (
        comparisons if isinstance(comparisons, Aggregated) else aggregate(comparisons)
    )
    check_connected(data.i, data.j, data.models)
    if tie.has_eta and not data.counts[:, 2].sum() > 0:
        raise NoTiesError(
            f"ties={ties!r} estimates a tie parameter but the data hold no ties "
            "(its estimate would be on the boundary); use ties='drop' or 'half'"
        )
    pen = Penalty(l2, l2_style)
    result = newton(
        initial_params(data, tie)[None],
        data,
        data.counts[None],
        tie,
        pen,
        max_iter=max_iter,
        tol=tol,
    )
    converged = bool(result.converged[0])
    logger.info("Bradley-Terry fit: %d Newton iterations", result.n_iter)
    check_convergence(converged, result.n_iter, "Bradley-Terry fit", strict)
    return BTFit(
        params=result.w[0],
        data=data,
        tie=tie,
        penalty=pen,
        converged_=converged,
        n_iter_=result.n_iter,
        loglik_=float(result.loglik[0]),
    )
