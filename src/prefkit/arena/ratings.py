"""Live ratings for the arena: Bradley-Terry with Wald CIs, judges beside people.

The leaderboard page refits after every vote, so the fit is a few Newton
steps on a ridge-penalised Bradley-Terry likelihood [BT52]_ with ties counted
as half a win each, as Chatbot Arena does [Chiang24]_. Intervals come from
the inverse of the penalised information matrix, so they cost nothing
beyond the fit; rank intervals follow the leaderboard contract of
``docs/tables.md``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import norm

from prefkit.errors import ConvergenceWarning, PrefkitError

logger = logging.getLogger(__name__)

#: Elo-like display scale: a gap of 400 points is 10:1 odds.
SCALE = 400.0 / np.log(10.0)
#: Rating given to the average model.
ANCHOR = 1000.0
#: Score of the first-named model for each outcome label.
OUTCOME_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5}
LEADERBOARD_COLUMNS = (
    "model", "rating", "lower", "upper", "rank", "rank_lower", "rank_upper",
    "n_battles",
)  # fmt: skip


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Logistic function, stable for large ``|x|``."""
    return np.exp(-np.logaddexp(0.0, -x))


def bt_objective(
    theta: NDArray[np.float64],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    y: NDArray[np.float64],
    l2: float,
) -> float:
    """Negative penalised Bradley-Terry log-likelihood [BT52]_.

    .. math::

        f(\\theta) = -\\sum_k \\big[y_k \\log\\sigma(\\theta_{i_k} - \\theta_{j_k})
        + (1 - y_k)\\log\\sigma(\\theta_{j_k} - \\theta_{i_k})\\big]
        + \\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2

    with ``y`` the score of ``i`` (1 win, 1/2 tie, 0 loss).
    """
    d = theta[i] - theta[j]
    loglik = -(y * np.logaddexp(0.0, -d) + (1.0 - y) * np.logaddexp(0.0, d))
    return float(-loglik.sum() + 0.5 * l2 * theta @ theta)


def bt_gradient(
    theta: NDArray[np.float64],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    y: NDArray[np.float64],
    l2: float,
) -> NDArray[np.float64]:
    """Gradient of :func:`bt_objective`."""
    r = y - sigmoid(theta[i] - theta[j])
    g = l2 * theta
    np.add.at(g, i, -r)
    np.add.at(g, j, r)
    return g


def bt_hessian(
    theta: NDArray[np.float64],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    l2: float,
) -> NDArray[np.float64]:
    """Hessian of :func:`bt_objective` (the penalised information matrix)."""
    p = sigmoid(theta[i] - theta[j])
    v = p * (1.0 - p)
    n = len(theta)
    h = l2 * np.eye(n)
    np.add.at(h, (i, i), v)
    np.add.at(h, (j, j), v)
    np.add.at(h, (i, j), -v)
    np.add.at(h, (j, i), -v)
    return h


def rank_intervals(
    lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Best and worst plausible ranks from rating intervals.

    Best rank: 1 + the number of models whose lower bound is above this
    model's upper bound; worst: the number of models whose upper bound is not
    below this model's lower bound (itself included).
    """
    best = 1 + (lower[None, :] > upper[:, None]).sum(axis=1)
    worst = len(lower) - (upper[None, :] < lower[:, None]).sum(axis=1)
    return best.astype(np.int64), worst.astype(np.int64)


@dataclass(frozen=True)
class BTFit:
    """A fitted Bradley-Terry model.

    Attributes
    ----------
    models : list of str
        Model ids, in the order of ``theta``.
    theta : array of shape (n_models,)
        Log-strengths, centred to mean zero.
    cov : array of shape (n_models, n_models)
        Covariance of the centred ``theta``.
    n_battles : array of shape (n_models,)
        Comparisons each model took part in.
    converged_ : bool
        Whether Newton's method met its tolerance.
    n_iter_ : int
        Newton steps taken.
    """

    models: list[str]
    theta: NDArray[np.float64]
    cov: NDArray[np.float64]
    n_battles: NDArray[np.int64]
    converged_: bool
    n_iter_: int


def fit_bt(
    comparisons: pd.DataFrame,
    *,
    l2: float = 1e-2,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> BTFit:
    """Fit Bradley-Terry strengths to a comparisons table by Newton's method.

    Parameters
    ----------
    comparisons : DataFrame
        Columns ``model_a, model_b, winner`` (``a``, ``b`` or ``tie``).
    l2 : float, default=1e-2
        Ridge penalty; it keeps strengths finite when a model never lost.
    max_iter : int, default=100
        Most Newton steps.
    tol : float, default=1e-9
        Stop when the largest gradient entry is below this.

    Returns
    -------
    BTFit
        Strengths, their covariance and the convergence record; warns with
        :class:`~prefkit.errors.ConvergenceWarning` when not converged.
    """
    if l2 <= 0:
        raise PrefkitError(f"l2 must be positive (got {l2!r}; expected e.g. 1e-2)")
    models = sorted(set(comparisons["model_a"]) | set(comparisons["model_b"]))
    index = {m: k for k, m in enumerate(models)}
    i = comparisons["model_a"].map(index).to_numpy(np.int64)
    j = comparisons["model_b"].map(index).to_numpy(np.int64)
    y: NDArray[np.float64] = np.asarray(
        comparisons["winner"].astype(object).map(OUTCOME_SCORE), dtype=np.float64
    )
    n = len(models)

    # Newton's method on a strictly convex objective, halving steps if needed
    theta = np.zeros(n)
    converged, n_iter = n == 0, 0
    while not converged and n_iter < max_iter:
        g = bt_gradient(theta, i, j, y, l2)
        if np.abs(g).max() < tol:
            converged = True
            break
        step = np.linalg.solve(bt_hessian(theta, i, j, l2), g)
        f0, t = bt_objective(theta, i, j, y, l2), 1.0
        while bt_objective(theta - t * step, i, j, y, l2) > f0 and t > 1e-8:
            t /= 2.0
        theta = theta - t * step
        n_iter += 1
    if not converged:
        warnings.warn(
            f"Bradley-Terry fit stopped after {n_iter} Newton steps without "
            f"meeting tol={tol:g}; raise max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )

    # covariance of the centred strengths: C H^-1 C with C = I - 11'/n
    centre = np.eye(n) - 1.0 / max(n, 1)
    cov = centre @ np.linalg.inv(bt_hessian(theta, i, j, l2)) @ centre
    counts = np.bincount(np.concatenate([i, j]), minlength=n).astype(np.int64)
    logger.debug("BT fit on %d comparisons, %d models", len(y), n)
    return BTFit(models, theta - theta.mean(), cov, counts, converged, n_iter)


def leaderboard_table(fit: BTFit, *, level: float = 0.95) -> pd.DataFrame:
    """The leaderboard of ``docs/tables.md`` from a fit (Elo-like scale).

    Ratings are ``1000 + 400 / ln 10 * theta``; ``lower``/``upper`` are Wald
    intervals at ``level``; best model first.
    """
    z = float(norm.ppf(0.5 + level / 2.0))
    se = np.sqrt(np.clip(np.diag(fit.cov), 0.0, None))
    rating = ANCHOR + SCALE * fit.theta
    lower, upper = rating - z * SCALE * se, rating + z * SCALE * se
    best, worst = rank_intervals(lower, upper)
    table = pd.DataFrame(
        {
            "model": fit.models,
            "rating": rating,
            "lower": lower,
            "upper": upper,
            "rank": best,
            "rank_lower": best,
            "rank_upper": worst,
            "n_battles": fit.n_battles,
        }
    )
    return table.sort_values(["rating", "model"], ascending=[False, True]).reset_index(
        drop=True
    )


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval [Wilson27]_ for a proportion ``k / n``.

    .. math::

        \frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}
        {1 + z^2/n}

    NaNs when ``n = 0``.
    """
    if n == 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + level / 2.0))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def _pair_key(frame: pd.DataFrame) -> pd.Series:
    """``prompt_id`` plus the unordered model pair, as one text key."""
    a, b = frame["model_a"].astype(str), frame["model_b"].astype(str)
    lo, hi = a.where(a < b, b), b.where(a < b, a)
    return frame["prompt_id"].astype(str) + "\x1f" + lo + "\x1f" + hi


FLIP = {"a": "b", "b": "a", "tie": "tie"}


def judges_on_human_pairs(human: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Judge verdicts on the pairs people voted on, one row per (vote, judge).

    Parameters
    ----------
    human : DataFrame
        Comparisons from votes (``prompt_id, model_a, model_b, winner``).
    verdicts : DataFrame
        Judges' comparisons (``prompt_id, model_a, model_b, judge, winner``),
        in either order of the two models.

    Returns
    -------
    DataFrame
        ``prompt_id, model_a, model_b, human_winner, judge, judge_winner``,
        the judge's verdict relabelled into the human row's a/b order.
    """
    columns = ["prompt_id", "model_a", "model_b", "human_winner", "judge"]
    if human.empty or verdicts.empty:
        return pd.DataFrame(columns=[*columns, "judge_winner"])
    left = human.loc[:, ["prompt_id", "model_a", "model_b", "winner"]]
    left = left.rename(columns={"winner": "human_winner"}).assign(key=_pair_key(left))
    right = verdicts.loc[:, ["model_a", "judge", "winner"]]
    right = right.rename(columns={"model_a": "judge_a"}).assign(key=_pair_key(verdicts))
    merged = left.merge(right, on="key", how="inner")
    winner = merged["winner"].astype(object)
    same_order = merged["judge_a"].to_numpy() == merged["model_a"].to_numpy()
    merged["judge_winner"] = winner.where(same_order, winner.map(FLIP))
    return merged.loc[:, [*columns, "judge_winner"]].reset_index(drop=True)


def agreement(paired: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Judge-human agreement per judge, with Wilson intervals.

    Parameters
    ----------
    paired : DataFrame
        Output of :func:`judges_on_human_pairs`.

    Returns
    -------
    DataFrame
        ``judge, n, agree, rate, lower, upper``: exact agreement on ``a``,
        ``b`` or ``tie`` (a both-bad vote counts as a tie).
    """
    rows = []
    for judge, group in paired.groupby("judge", sort=True):
        same = group["human_winner"].astype(object) == group["judge_winner"]
        k, n = int(same.sum()), len(group)
        lower, upper = wilson_interval(k, n, level)
        rows.append((judge, n, k, k / n, lower, upper))
    return pd.DataFrame(rows, columns=["judge", "n", "agree", "rate", "lower", "upper"])
