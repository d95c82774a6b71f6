"""Plackett-Luce for rankings and top-1 choices: MM, LSR and exact ML.

A ranking ``r_0 > r_1 > ... `` of a set (plus unranked alternatives ``U``) is
a sequence of choices: at stage ``s`` item ``r_s`` is chosen from
``S_s = {r_s, ..., r_{L-1}} + U`` with probability

.. math:: P(r_s \\mid S_s) = \\frac{e^{\\theta_{r_s}}}{\\sum_{k \\in S_s} e^{\\theta_k}}

A top-1 choice is a single stage. Identical rankings are counted once with a
weight; every stage is a row of a padded ``(n_stages, max_set)`` index matrix,
so the likelihood, gradient and Hessian are array expressions.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.rank.bradley_terry import check_convergence
from prefkit.rank.graph import check_connected, check_separation
from prefkit.rank.ties import UnknownNameError

if TYPE_CHECKING:
    from prefkit.rank.leaderboard import Estimate, RatingScale

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
PLMethod = Literal["ml", "mm", "lsr", "ilsr"]
logger = logging.getLogger("prefkit.rank")


@dataclass(frozen=True)
class Stages:
    """Choice stages of a set of (weighted) observations.

    Attributes
    ----------
    sets : int array of shape (n_stages, max_set)
        Items of each choice set, the chosen item first, ``-1`` padding.
    weight : array of shape (n_stages,)
        How many times the stage was observed.
    owner : int array of shape (n_stages,)
        The observation (unique ranking) each stage belongs to.
    n_items : int
        Number of items.
    obs_weight : array of shape (n_obs,)
        Count of each unique observation.
    """

    sets: IntArray
    weight: Array
    owner: IntArray
    n_items: int
    obs_weight: Array

    @property
    def mask(self) -> NDArray[np.bool_]:
        """True where ``sets`` holds an item."""
        return self.sets >= 0


def build_stages(
    observations: Sequence[tuple[Sequence[int], Sequence[int]]],
    n_items: int,
) -> Stages:
    """Stages of ``(ranked, unranked)`` observations; identical ones are merged."""
    counts: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
    for ranked, rest in observations:
        key = (tuple(int(v) for v in ranked), tuple(sorted(int(v) for v in rest)))
        counts[key] = counts.get(key, 0) + 1
    rows: list[list[int]] = []
    weight: list[float] = []
    owner: list[int] = []
    for obs, ((ranked, rest), c) in enumerate(counts.items()):
        for s in range(len(ranked)):
            choice = list(ranked[s:]) + list(rest)
            if len(choice) > 1:
                rows.append(choice)
                weight.append(c)
                owner.append(obs)
    width = max((len(r) for r in rows), default=1)
    sets = np.full((len(rows), width), -1, dtype=np.int64)
    for r, row in enumerate(rows):
        sets[r, : len(row)] = row
    return Stages(
        sets,
        np.asarray(weight, float),
        np.asarray(owner, np.int64),
        n_items,
        np.asarray(list(counts.values()), float),
    )


def _softmax(theta: Array, st: Stages) -> Array:
    """Choice probabilities within each stage, shape ``(n_stages, max_set)``."""
    z = np.where(st.mask, theta[np.clip(st.sets, 0, None)], -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Array = e / e.sum(axis=1, keepdims=True)
    return out


def pl_loglik(theta: Array, st: Stages) -> float:
    """Plackett-Luce log-likelihood [Hun04].

    .. math:: \\ell(\\theta) = \\sum_s w_s \\big(\\theta_{c_s}
        - \\log \\textstyle\\sum_{k \\in S_s} e^{\\theta_k}\\big)
    """
    z = np.where(st.mask, theta[np.clip(st.sets, 0, None)], -np.inf)
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float((st.weight * (z[:, 0] - lse)).sum())


def pl_gradient(theta: Array, st: Stages) -> Array:
    """Gradient of :func:`pl_loglik`: chosen counts minus expected counts."""
    p = _softmax(theta, st) * st.weight[:, None]
    chosen = np.bincount(st.sets[:, 0], st.weight, st.n_items)
    flat = st.sets[st.mask]
    out: Array = (chosen - np.bincount(flat, p[st.mask], st.n_items)).astype(np.float64)
    return out


def pl_hessian(theta: Array, st: Stages) -> Array:
    """Hessian of :func:`pl_loglik`: ``-sum_s w_s (diag p_s - p_s p_s^T)``."""
    m = st.n_items
    p = _softmax(theta, st)
    wp = p * st.weight[:, None]
    H: Array = -np.diag(np.bincount(st.sets[st.mask], wp[st.mask], m)).astype(
        np.float64
    )
    pair = wp[:, :, None] * p[:, None, :]
    valid = st.mask[:, :, None] & st.mask[:, None, :]
    idx = st.sets[:, :, None] * m + st.sets[:, None, :]
    H += np.bincount(idx[valid], pair[valid], m * m).reshape(m, m)
    return H


def stage_scores(theta: Array, st: Stages) -> Array:
    """Score of one copy of each unique observation, shape ``(n_obs, n_items)``."""
    p = _softmax(theta, st)
    n_obs, m = len(st.obs_weight), st.n_items
    out = np.zeros((n_obs, m))
    np.add.at(out, (st.owner, st.sets[:, 0]), 1.0)
    rows = np.repeat(st.owner[:, None], st.sets.shape[1], axis=1)
    np.add.at(out, (rows[st.mask], st.sets[st.mask]), -p[st.mask])
    return out


def _centre(theta: Array) -> Array:
    out: Array = theta - theta.mean()
    return out


def pl_ml(
    st: Stages, theta0: Array | None = None, max_iter: int = 100, tol: float = 1e-8
) -> tuple[Array, bool, int]:
    """Exact maximum likelihood by Newton's method with a centring gauge."""
    m = st.n_items
    theta = np.zeros(m) if theta0 is None else _centre(theta0.copy())
    J = np.ones((m, m))
    ll = pl_loglik(theta, st)
    for it in range(1, max_iter + 1):
        g, H = pl_gradient(theta, st), pl_hessian(theta, st)
        step = np.linalg.solve(J - H + 1e-10 * np.eye(m), g)
        scale = 1.0
        for _ in range(40):
            trial = theta + scale * step
            ll_new = pl_loglik(trial, st)
            if ll_new >= ll - 1e-10 * abs(ll):
                break
            scale /= 2.0
        theta, ll = trial, ll_new
        if np.abs(scale * step).max() < tol:
            return _centre(theta), True, it
    return _centre(theta), False, max_iter


def pl_mm(
    st: Stages, max_iter: int = 10_000, tol: float = 1e-8
) -> tuple[Array, bool, int]:
    """Hunter's minorisation-maximisation iterations [Hun04].

    .. math:: \\gamma_i \\leftarrow \\frac{w_i}{\\sum_s w_s [i \\in S_s]
        / \\sum_{k \\in S_s} \\gamma_k}
    """
    m = st.n_items
    wins = np.bincount(st.sets[:, 0], st.weight, m)
    gamma = np.ones(m)
    flat = st.sets[st.mask]
    for it in range(1, max_iter + 1):
        denom = np.where(st.mask, gamma[np.clip(st.sets, 0, None)], 0.0).sum(axis=1)
        per = np.repeat((st.weight / denom)[:, None], st.sets.shape[1], axis=1)
        exposure = np.bincount(flat, per[st.mask], m)
        new = wins / exposure
        new /= np.exp(np.log(new).mean())
        if np.abs(np.log(new) - np.log(gamma)).max() < tol:
            return _centre(np.log(new)), True, it
        gamma = new
    return _centre(np.log(gamma)), False, max_iter


def lsr_step(st: Stages, theta: Array) -> Array:
    """One Luce spectral ranking step: stationary law of the choice chain [MG15].

    Every stage adds rate ``w_s / sum_{k in S_s} e^{theta_k}`` from each
    loser to the winner; the log of the stationary distribution, centred, is
    the new estimate.
    """
    m = st.n_items
    gamma = np.exp(theta)
    denom = np.where(st.mask, gamma[np.clip(st.sets, 0, None)], 0.0).sum(axis=1)
    rate = st.weight / denom
    losers = st.mask.copy()
    losers[:, 0] = False
    src = st.sets[losers]
    dst = np.repeat(st.sets[:, :1], st.sets.shape[1], axis=1)[losers]
    per = np.repeat(rate[:, None], st.sets.shape[1], axis=1)[losers]
    Q = np.bincount(src * m + dst, per, m * m).reshape(m, m)
    G = Q - np.diag(Q.sum(axis=1))
    # pi G = 0 with sum(pi) = 1, as a least-squares system
    A = np.vstack([G.T, np.ones((1, m))])
    rhs = np.zeros(m + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(A, rhs, rcond=None)[0]
    return _centre(np.log(np.clip(pi, 1e-300, None)))


def pl_ilsr(
    st: Stages, max_iter: int = 1000, tol: float = 1e-8
) -> tuple[Array, bool, int]:
    """Iterated LSR: its fixed point is the ML estimate [MG15]."""
    theta = np.zeros(st.n_items)
    for it in range(1, max_iter + 1):
        new = lsr_step(st, theta)
        if np.abs(new - theta).max() < tol:
            return new, True, it
        theta = new
    return theta, False, max_iter


@dataclass(frozen=True)
class PLFit:
    """A fitted Plackett-Luce model (natural log units, centred).

    Attributes
    ----------
    items : tuple
        Item ids; ``theta[k]`` belongs to ``items[k]``.
    theta : array of shape (n_items,)
    stages : Stages
    converged_ : bool
    n_iter_ : int
    """

    items: tuple[Hashable, ...]
    theta: Array
    stages: Stages
    converged_: bool
    n_iter_: int

    @property
    def ratings(self) -> pd.Series:
        """Parameters as a Series indexed by item."""
        return pd.Series(self.theta, index=list(self.items), name="theta")


def stage_beats(st: Stages) -> tuple[IntArray, IntArray]:
    """Winner and loser of every "beats" edge: each choice beats the rest of its set."""
    others = st.mask.copy()
    others[:, 0] = False
    winner = np.repeat(st.sets[:, :1], st.sets.shape[1], axis=1)[others]
    return winner.astype(np.int64), st.sets[others].astype(np.int64)


def _fit_stages(
    st: Stages, method: str, max_iter: int | None, tol: float
) -> tuple[Array, bool, int]:
    if method == "ml":
        return pl_ml(st, None, max_iter or 100, tol)
    if method == "mm":
        return pl_mm(st, max_iter or 10_000, tol)
    if method == "ilsr":
        return pl_ilsr(st, max_iter or 1000, tol)
    if method == "lsr":
        return lsr_step(st, np.zeros(st.n_items)), True, 1
    raise UnknownNameError(
        f"method={method!r} is not a Plackett-Luce method; use one of ml, mm, lsr, ilsr"
    )


def _index(
    observations: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]],
    items: Sequence[Hashable] | None,
) -> tuple[tuple[Hashable, ...], list[tuple[list[int], list[int]]]]:
    if items is None:
        seen: dict[Hashable, None] = {}
        for ranked, rest in observations:
            for v in list(ranked) + list(rest):
                seen.setdefault(v, None)
        items = sorted(seen, key=str)
    pos = {v: k for k, v in enumerate(items)}
    coded = []
    for n, (ranked, rest) in enumerate(observations):
        every = list(ranked) + list(rest)
        unknown = [v for v in every if v not in pos]
        if unknown or len(set(every)) != len(every) or len(every) < 2:
            raise PrefkitError(
                f"observation {n} ({list(ranked)!r} over {list(rest)!r}) is invalid: "
                "expected at least two distinct known items"
            )
        coded.append(([pos[v] for v in ranked], [pos[v] for v in rest]))
    return tuple(items), coded


def fit_pl(
    rankings: pd.DataFrame | Sequence[Sequence[Hashable]],
    *,
    method: str = "ml",
    items: Sequence[Hashable] | None = None,
    choices: Sequence[tuple[Hashable, Sequence[Hashable]]] | None = None,
    max_iter: int | None = None,
    tol: float = 1e-8,
    strict: bool = False,
) -> PLFit:
    """Fit Plackett-Luce to rankings (best first) and/or top-1 choices.

    Parameters
    ----------
    rankings : DataFrame or sequence of sequences
        A rankings table (column ``ranked``) or lists of item ids, best first.
    method : {"ml", "mm", "lsr", "ilsr"}, default="ml"
        Exact ML by Newton, Hunter's MM [Hun04], one LSR step from uniform
        parameters, or iterated LSR (= ML) [MG15].
    items : sequence or None, default=None
        All item ids (sorted ids of the data when None).
    choices : sequence of (chosen, alternatives) or None, default=None
        Top-1 choices added to the rankings.
    max_iter : int or None, default=None
        Iterations at most (a per-method default when None).
    tol : float, default=1e-8
        Convergence tolerance on the parameters.
    strict : bool, default=False
        Raise instead of warning when the fit does not converge.

    Returns
    -------
    PLFit

    Examples
    --------
    >>> fit = fit_pl([[0, 1, 2], [3, 2, 0], [1, 3]])
    >>> fit.theta.round(3).tolist()
    [-0.443, 0.695, -0.671, 0.419]
    """
    if isinstance(rankings, pd.DataFrame):
        lists: list[Sequence[Hashable]] = list(rankings["ranked"])
    else:
        lists = list(rankings)
    observations: list[tuple[Sequence[Hashable], Sequence[Hashable]]] = [
        (r, ()) for r in lists
    ]
    observations += [([c], alts) for c, alts in (choices or [])]
    if not observations:
        raise PrefkitError("no rankings or choices to fit; pass at least one")
    names, coded = _index(observations, items)
    st = build_stages(coded, len(names))
    check_connected(*stage_beats(st), [str(v) for v in names])
    theta, converged, n_iter = _fit_stages(st, method, max_iter, tol)
    check_convergence(converged, n_iter, f"Plackett-Luce ({method})", strict)
    return PLFit(names, theta, st, converged, n_iter)


def pl_board(
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
    """Leaderboard estimate of Plackett-Luce (rankings, or battles without ties)."""
    from prefkit.rank.leaderboard import Estimate

    if "ranked" in comparisons.columns:
        lists = [list(r) for r in comparisons["ranked"]]
    else:
        decided = comparisons[comparisons["winner"] != "tie"]
        a = decided["model_a"].to_numpy(object)
        b = decided["model_b"].to_numpy(object)
        a_won = (decided["winner"] == "a").to_numpy()
        lists = [[x, y] if w else [y, x] for x, y, w in zip(a, b, a_won, strict=True)]
        logger.info(
            "Plackett-Luce on battles: %d ties left out",
            len(comparisons) - len(decided),
        )
    strict = bool(opts.get("strict", False))
    names, coded = _index([(r, ()) for r in lists], None)
    st = build_stages(coded, len(names))
    unbounded = check_separation(
        *stage_beats(st),
        [str(v) for v in names],
        remedy="add rankings in which they lose (or win), or rank pairwise battles "
        "with model='bt' and l2 > 0",
        strict=strict,
    )
    with warnings.catch_warnings():
        if unbounded:
            # the separation warning already says why the fit cannot converge
            warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_pl(
            lists,
            method=opts.get("method", "ml"),
            max_iter=opts.get("max_iter"),
            strict=strict,
        )
    st, m = fit.stages, len(fit.items)
    cov = samples = None
    converged = fit.converged_
    failed = 0
    # without an ML estimate there is no curvature to invert nor to resample
    method = "none" if unbounded else ci
    if method == "sandwich":
        A = -pl_hessian(fit.theta, st)
        J = np.ones((m, m))
        A_inv = np.linalg.inv(A + J) - J / m**2
        S = stage_scores(fit.theta, st)
        B = (S * st.obs_weight[:, None]).T @ S
        cov = A_inv @ B @ A_inv
    elif method == "bootstrap":
        rng = np.random.default_rng(seed)
        total = int(st.obs_weight.sum())
        draws = rng.multinomial(total, st.obs_weight / total, size=rounds)
        reps, failed = [], 0
        for draw in draws:
            boot = Stages(
                st.sets, draw[st.owner].astype(float), st.owner, m, draw.astype(float)
            )
            theta_b, ok, _ = pl_ml(boot, fit.theta, 50, 1e-8)
            reps.append(theta_b)
            failed += int(not ok)
        samples = np.asarray(reps)
    # each observation's first stage holds all of its items
    _, first = np.unique(st.owner, return_index=True)
    firsts = st.sets[first]
    per_obs = np.repeat(st.obs_weight[st.owner[first], None], firsts.shape[1], axis=1)
    counts = np.bincount(firsts[firsts >= 0], per_obs[firsts >= 0], m)
    p = 1.0 / (1.0 + np.exp(fit.theta[None, :] - fit.theta[:, None]))
    return Estimate(
        models=tuple(str(v) for v in fit.items),
        theta=fit.theta,
        n_battles=np.rint(counts).astype(np.int64),
        win_prob=p,
        converged=converged,
        n_iter=fit.n_iter_,
        extras={"replicates_failed": failed},
        cov=cov,
        samples=samples,
        unbounded=unbounded,
    )
