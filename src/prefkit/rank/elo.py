"""Online Elo ratings, and the permutation-averaged variant.

Online Elo updates after each battle,

.. math:: r_a \\leftarrow r_a + K (S_a - E_a), \\quad
    E_a = \\frac{1}{1 + b^{(r_b - r_a)/s}},

with ``S_a`` 1, 0 or 1/2 for a tie [Elo78]. The result depends on the order of the
battles (the last ones weigh most), which is why :func:`fit_elo` warns with
:class:`~prefkit.errors.OrderDependenceWarning` unless it averages over random
orders (``permutations > 0``) [Zheng23]. Bradley-Terry is the order-free fit
of the same model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import validate_comparisons
from prefkit.errors import OrderDependenceWarning, PrefkitError
from prefkit.rank.aggregate import encode_models, encode_outcomes
from prefkit.rank.graph import check_connected

if TYPE_CHECKING:
    from prefkit.rank.leaderboard import Estimate, RatingScale

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Score of side a for outcome codes a, b, tie.
SCORE_A = np.array([1.0, 0.0, 0.5])


def elo_online(
    a: IntArray, b: IntArray, score: Array, n_models: int, k: float
) -> Array:
    """One pass of online Elo in natural log-odds units (``k`` likewise).

    .. math:: \\theta_a \\leftarrow \\theta_a + k (S_a - \\sigma(\\theta_a - \\theta_b))
    """
    theta = [0.0] * n_models
    exp = np.exp
    # a plain Python loop: each update depends on the previous one
    for ia, ib, s in zip(a.tolist(), b.tolist(), score.tolist(), strict=True):
        expected = 1.0 / (1.0 + exp(theta[ib] - theta[ia]))
        delta = k * (s - expected)
        theta[ia] += delta
        theta[ib] -= delta
    return np.asarray(theta)


def elo_batched(
    a: IntArray, b: IntArray, score: Array, n_models: int, k: float, orders: IntArray
) -> Array:
    """Online Elo for several battle orders at once, ``orders`` of shape (R, N).

    Returns ratings of shape (R, n_models) in natural log-odds units.
    """
    R, N = orders.shape
    theta = np.zeros((R, n_models))
    rows = np.arange(R)
    A, B, S = a[orders], b[orders], score[orders]
    for t in range(N):
        ia, ib = A[:, t], B[:, t]
        expected = 1.0 / (1.0 + np.exp(theta[rows, ib] - theta[rows, ia]))
        delta = k * (S[:, t] - expected)
        theta[rows, ia] += delta
        theta[rows, ib] -= delta
    return theta


@dataclass(frozen=True)
class EloResult:
    """Elo ratings on the rating scale, indexed by model name.

    Attributes
    ----------
    ratings : Series
        Final (or permutation-averaged) ratings.
    order_spread : float
        Largest change of any rating between the given order and the reverse
        order (rating points): a measure of order dependence.
    """

    ratings: pd.Series
    order_spread: float


def _validate_k(k: float, permutations: int) -> None:
    if not (np.isfinite(k) and k > 0):
        raise PrefkitError(
            f"k={k!r} is not a valid Elo K-factor; pass a number > 0 (e.g. 4)"
        )
    if permutations < 0:
        raise PrefkitError(
            f"permutations={permutations!r} must be >= 0 (0 = the given order)"
        )


def fit_elo(
    comparisons: pd.DataFrame,
    *,
    k: float = 4.0,
    scale: float = 400.0,
    base: float = 10.0,
    initial: float = 1000.0,
    permutations: int = 0,
    seed: int = 0,
) -> EloResult:
    """Online Elo ratings of the battles in table order (or averaged over orders).

    Parameters
    ----------
    comparisons : DataFrame
        The comparisons table, in the order the battles happened.
    k : float, default=4.0
        K-factor in rating points.
    scale, base, initial : float, default=400, 10, 1000
        The Elo scale and starting rating.
    permutations : int, default=0
        0 runs the given order once (and warns that the result depends on it);
        ``n > 0`` averages over ``n`` random orders.
    seed : int, default=0
        Seed of the random orders.

    Returns
    -------
    EloResult

    Warns
    -----
    OrderDependenceWarning
        With ``permutations=0``, stating how much the reverse order changes.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    >>> fit_elo(t, k=32, permutations=1).ratings.round(1).tolist()
    [1016.0, 984.0]
    """
    _validate_k(k, permutations)
    comparisons = validate_comparisons(comparisons)
    models, a, b = encode_models(comparisons["model_a"], comparisons["model_b"])
    check_connected(a, b, models)
    score = SCORE_A[encode_outcomes(comparisons["winner"])]
    factor = scale / np.log(base)
    k_nat = k / factor
    m = len(models)
    if permutations > 0:
        rng = np.random.default_rng(seed)
        orders = np.argsort(rng.random((permutations, len(a))), axis=1)
        theta = elo_batched(a, b, score, m, k_nat, orders).mean(axis=0)
        spread = float("nan")
    else:
        theta = elo_online(a, b, score, m, k_nat)
        reverse = elo_online(a[::-1], b[::-1], score[::-1], m, k_nat)
        spread = float(np.abs(theta - reverse).max() * factor)
        warnings.warn(
            f"online Elo depends on the order of the battles (reversing it moves a "
            f"rating by up to {spread:.1f} points); use permutations > 0 or the "
            "Bradley-Terry fit (model='bt') for an order-free rating",
            OrderDependenceWarning,
            stacklevel=2,
        )
    ratings = pd.Series(initial + factor * theta, index=list(models), name="elo")
    return EloResult(ratings, spread)


def elo_board(
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
    """Leaderboard estimate of Elo: bootstrap intervals resample the battles."""
    from prefkit.rank.leaderboard import Estimate, LeaderboardError

    if ci == "sandwich":
        raise LeaderboardError(
            "ci='sandwich' has no meaning for online Elo (it is not a likelihood "
            "fit); use ci='bootstrap' or ci='none', or model='bt'"
        )
    k = float(opts.get("k", 4.0))
    permutations = int(opts.get("permutations", 0))
    result = fit_elo(
        comparisons,
        k=k,
        scale=rating_scale.scale,
        base=rating_scale.base,
        initial=0.0,
        permutations=permutations,
        seed=seed,
    )
    theta = result.ratings.to_numpy() / rating_scale.factor
    models, a, b = encode_models(comparisons["model_a"], comparisons["model_b"])
    score = SCORE_A[encode_outcomes(comparisons["winner"])]
    samples = None
    if ci == "bootstrap":
        rng = np.random.default_rng(seed)
        orders = rng.integers(0, len(a), size=(rounds, len(a)))
        samples = elo_batched(a, b, score, len(models), k / rating_scale.factor, orders)
    n_battles = np.bincount(a, minlength=len(models)) + np.bincount(
        b, minlength=len(models)
    )
    p = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))
    return Estimate(
        models=models,
        theta=theta - theta.mean(),
        n_battles=n_battles.astype(np.int64),
        win_prob=p,
        converged=True,
        n_iter=1,
        samples=samples,
        extras={"order_spread": result.order_spread},
    )
