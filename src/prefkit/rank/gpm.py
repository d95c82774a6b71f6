"""An intransitive ranker: Bradley-Terry plus a skew-symmetric embedding.

Each model ``i`` has a rating ``theta_i`` and a vector ``v_i`` of ``2 * dim``
numbers; the log-odds that ``i`` beats ``j`` are [GPM]

.. math:: d_{ij} = \\theta_i - \\theta_j + v_i^\\top R\\, v_j, \\qquad
    R = \\operatorname{diag}\\Big(\\begin{bmatrix}0 & 1\\\\ -1 & 0\\end{bmatrix},
    \\dots\\Big)

The second term is skew-symmetric (``d_ji = -d_ij``) and can represent cycles
(A > B > C > A), which no rating can. Ties count as half a win. The share of
the predicted log-odds carried by the cyclic term is reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import validate_comparisons
from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.rank.aggregate import Aggregated, aggregate
from prefkit.rank.bradley_terry import check_convergence, fit_bt
from prefkit.rank.graph import check_connected, check_separation
from prefkit.rank.likelihood import _theta_block
from prefkit.rank.ties import TIES, logistic_outcomes, sigmoid, softplus

if TYPE_CHECKING:
    from prefkit.rank.leaderboard import Estimate, RatingScale

Array = NDArray[np.float64]
_HALF = TIES["half"].count_map


def skew_form(dim: int) -> Array:
    """The block-diagonal ``R`` of ``dim`` 2 x 2 rotations by 90 degrees."""
    R = np.zeros((2 * dim, 2 * dim))
    for k in range(dim):
        R[2 * k, 2 * k + 1] = 1.0
        R[2 * k + 1, 2 * k] = -1.0
    return R


def gpm_logits(theta: Array, V: Array, R: Array) -> Array:
    """Model x model log-odds ``theta_i - theta_j + v_i^T R v_j``."""
    out: Array = theta[:, None] - theta[None, :] + V @ R @ V.T
    return out


def _unpack(w: Array, m: int, dim: int) -> tuple[Array, Array]:
    return w[:m], w[m:].reshape(m, 2 * dim)


def gpm_objective(
    w: Array, data: Aggregated, dim: int, l2: float
) -> tuple[float, Array]:
    """Negative penalised log-likelihood and its gradient (ties as half wins)."""
    m = data.n_models
    theta, V = _unpack(w, m, dim)
    R = skew_form(dim)
    i, j = data.i, data.j
    RV = V @ R.T  # row i holds R v_i
    # v_i^T R v_j, row by row
    d = theta[i] - theta[j] + np.einsum("uk,uk->u", V[i], V[j] @ R.T)
    n = data.counts @ _HALF
    ll = -(n[:, 0] * softplus(-d) + n[:, 1] * softplus(d)).sum()
    g_d = n[:, 0] * sigmoid(-d) - n[:, 1] * sigmoid(d)
    g_theta = np.bincount(i, g_d, m) - np.bincount(j, g_d, m)
    # d(v_i^T R v_j)/dv_i = R v_j and /dv_j = R^T v_i = -R v_i
    g_V = np.zeros_like(V)
    np.add.at(g_V, i, g_d[:, None] * (V[j] @ R.T))
    np.add.at(g_V, j, -g_d[:, None] * RV[i])
    ll -= 0.5 * l2 * (V**2).sum()
    g_V -= l2 * V
    grad = np.concatenate([g_theta, g_V.ravel()])
    return float(-ll), -grad


@dataclass(frozen=True)
class GPMFit:
    """A fitted general preference model.

    Attributes
    ----------
    models : tuple of str
    theta : array of shape (m,)
        Transitive ratings (log-odds, centred).
    V : array of shape (m, 2 * dim)
        Embeddings of the cyclic part.
    cyclic_share : float
        ``||C||^2 / (||T||^2 + ||C||^2)`` over all model pairs, with ``T``
        the rating differences and ``C`` the skew-symmetric term.
    converged_ : bool
    n_iter_ : int
    """

    models: tuple[str, ...]
    theta: Array
    V: Array
    cyclic_share: float
    converged_: bool
    n_iter_: int

    def logits(self) -> Array:
        """Model x model predicted log-odds."""
        return gpm_logits(self.theta, self.V, skew_form(self.V.shape[1] // 2))

    def win_probabilities(self) -> pd.DataFrame:
        """Model x model probability that the row beats the column."""
        names = list(self.models)
        return pd.DataFrame(sigmoid(self.logits()), index=names, columns=names)


def fit_gpm(
    comparisons: pd.DataFrame | Aggregated,
    *,
    dim: int = 1,
    l2: float = 1.0,
    seed: int = 0,
    max_iter: int = 2000,
    tol: float = 1e-9,
    strict: bool = False,
) -> GPMFit:
    """Fit ratings plus a skew-symmetric embedding by L-BFGS [GPM].

    .. math:: \\max \\sum_u n_{u,a}\\log\\sigma(d_u) + n_{u,b}\\log\\sigma(-d_u)
        - \\tfrac{\\lambda}{2}\\lVert V\\rVert^2

    Parameters
    ----------
    comparisons : DataFrame or Aggregated
        The comparisons table (or its counts); ties count as half a win.
    dim : int, default=1
        Number of 2-d rotation blocks of the embedding.
    l2 : float, default=1.0
        Gaussian prior precision on the embeddings.
    seed : int, default=0
        Seed of the random start of the embeddings.
    max_iter : int, default=2000
        L-BFGS iterations at most.
    tol : float, default=1e-9
        L-BFGS tolerance on the relative objective change.
    strict : bool, default=False
        Raise instead of warning when L-BFGS does not converge.

    Returns
    -------
    GPMFit
    """
    if not (isinstance(dim, (int, np.integer)) and dim >= 1):
        raise PrefkitError(
            f"dim={dim!r} must be an integer >= 1 (number of 2-d blocks)"
        )
    if not (np.isfinite(l2) and l2 >= 0):
        raise PrefkitError(f"l2={l2!r} must be a finite number >= 0")
    data = (
        comparisons if isinstance(comparisons, Aggregated) else aggregate(comparisons)
    )
    check_connected(data.i, data.j, data.models)
    from scipy.optimize import minimize

    m = data.n_models
    start_theta = fit_bt(data, ties="half", l2=max(l2, 1e-6)).theta
    rng = np.random.default_rng(seed)
    w0 = np.concatenate([start_theta, 0.1 * rng.standard_normal(m * 2 * dim)])
    res = minimize(
        gpm_objective,
        w0,
        args=(data, dim, l2),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-7},
    )
    check_convergence(
        bool(res.success), int(res.nit), "general preference model", strict
    )
    theta, V = _unpack(res.x, m, dim)
    theta = theta - theta.mean()
    T = theta[:, None] - theta[None, :]
    C = V @ skew_form(dim) @ V.T
    total = (T**2).sum() + (C**2).sum()
    share = float((C**2).sum() / total) if total > 0 else 0.0
    return GPMFit(data.models, theta, V, share, bool(res.success), int(res.nit))


def heldout_loglik(logits: Array, data: Aggregated) -> float:
    """Mean per-battle log-likelihood (ties as half wins) of model x model log-odds."""
    d = logits[data.i, data.j]
    out = logistic_outcomes(d, np.zeros_like(d))
    n = data.counts @ _HALF
    return float((n * out.logp).sum() / n.sum())


def compare_heldout(
    comparisons: pd.DataFrame,
    *,
    dim: int = 1,
    l2: float = 1.0,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> dict[str, float]:
    """Held-out mean log-likelihood of Bradley-Terry and the intransitive model.

    Battles are split at random (seeded); both models are fitted on the rest.

    Returns
    -------
    dict
        ``bt``, ``gpm`` (mean log-likelihood per held-out battle),
        ``cyclic_share`` and ``n_test``.
    """
    if not 0 < test_fraction < 1:
        raise PrefkitError(f"test_fraction={test_fraction!r} must be in (0, 1)")
    comparisons = validate_comparisons(comparisons)
    rng = np.random.default_rng(seed)
    test = rng.random(len(comparisons)) < test_fraction
    train_data = aggregate(comparisons[~test], validate=False)
    names = train_data.models
    test_df = comparisons[test]
    keep = test_df["model_a"].isin(names) & test_df["model_b"].isin(names)
    test_df = test_df[keep]
    # re-index the test battles on the training models
    pos = {n: k for k, n in enumerate(names)}
    a = np.asarray(test_df["model_a"].map(pos), dtype=np.int64)
    b = np.asarray(test_df["model_b"].map(pos), dtype=np.int64)
    from prefkit.rank.aggregate import aggregate_arrays, encode_outcomes

    test_data = aggregate_arrays(a, b, encode_outcomes(test_df["winner"]), names)
    bt = fit_bt(train_data, ties="half", l2=1e-6)
    gpm = fit_gpm(train_data, dim=dim, l2=l2, seed=seed)
    bt_logits = bt.theta[:, None] - bt.theta[None, :]
    return {
        "bt": heldout_loglik(bt_logits, test_data),
        "gpm": heldout_loglik(gpm.logits(), test_data),
        "cyclic_share": gpm.cyclic_share,
        "n_test": float(len(test_df)),
    }


def gpm_board(
    comparisons: pd.DataFrame,
    *,
    ties: str,
    control: Any,
    ci: str,
    rounds: int,
    seed: int,
    alpha: float,
    rating_scale: RatingScale,
    opts: dict[str, Any],
) -> Estimate:
    """Leaderboard estimate: ratings are the transitive part ``theta``.

    Intervals (``sandwich``) are for ``theta`` given the fitted embedding.
    """
    from prefkit.rank.leaderboard import Estimate, LeaderboardError, bt_beats

    if ci == "bootstrap":
        raise LeaderboardError(
            "ci='bootstrap' is not available for model='gpm' (each replicate is a "
            "non-convex refit); use ci='sandwich' or ci='none'"
        )
    data = aggregate(comparisons, validate=False)
    # l2 shrinks the embedding only: theta has no prior to keep it finite
    unbounded = check_separation(
        *bt_beats(data, "half"),
        data.models,
        remedy="use model='bt' with l2 > 0 for finite, shrunk ratings",
        strict=bool(opts.get("strict", False)),
    )
    with warnings.catch_warnings():
        if unbounded:
            # the separation warning already says why the fit cannot converge
            warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_gpm(data, seed=seed, **opts)
    logits = fit.logits()
    cov = None
    if ci == "sandwich" and not unbounded:
        d = logits[data.i, data.j]
        out = logistic_outcomes(d, np.zeros_like(d))
        n_eff = data.counts @ _HALF
        h = (n_eff * out.dd).sum(-1)
        A = -_theta_block(h[None], data)[0]
        # per-battle squared score of each observed outcome
        s = out.d1 @ _HALF.T
        q = (data.counts * s**2).sum(-1)
        B = _theta_block(q[None], data)[0]
        m = data.n_models
        J = np.ones((m, m))
        A_inv = np.linalg.inv(A + J) - J / m**2
        cov = A_inv @ B @ A_inv
    return Estimate(
        models=data.models,
        theta=fit.theta,
        n_battles=data.n_battles,
        win_prob=sigmoid(logits),
        converged=fit.converged_,
        n_iter=fit.n_iter_,
        cov=cov,
        extras={"cyclic_share": fit.cyclic_share},
        unbounded=unbounded,
    )
