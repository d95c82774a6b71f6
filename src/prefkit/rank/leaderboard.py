"""The leaderboard: one call from a comparisons table to ratings with CIs.

:func:`leaderboard` fits the chosen model, computes intervals, puts ratings on
the familiar scale (``initial + scale * theta / ln(base)``, centred at
``initial`` or with ``anchor`` at ``initial``) and returns a
:class:`Leaderboard` whose ``table`` is the contract in ``docs/tables.md``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import judged_only, validate_comparisons, validate_rankings
from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.rank.aggregate import Aggregated, aggregate
from prefkit.rank.bradley_terry import BTFit, check_convergence, fit_bt
from prefkit.rank.graph import check_separation
from prefkit.rank.intervals import bootstrap_params, rank_intervals, sandwich_covariance
from prefkit.rank.style import style_features
from prefkit.rank.ties import UnknownNameError, get_tie_model

Array = NDArray[np.float64]
logger = logging.getLogger("prefkit.rank")

ModelName = Literal["bt", "elo", "pl", "gpm"]
CIName = Literal["sandwich", "bootstrap", "none"]
CI_METHODS: tuple[str, ...] = ("sandwich", "bootstrap", "none")


class LeaderboardError(PrefkitError, ValueError):
    """An option of :func:`leaderboard` that cannot be used as given."""


@dataclass(frozen=True)
class RatingScale:
    """The familiar rating scale: ``initial + scale * theta / ln(base)``."""

    scale: float = 400.0
    base: float = 10.0
    initial: float = 1000.0

    def __post_init__(self) -> None:
        if not (self.scale > 0 and self.base > 1 and np.isfinite(self.initial)):
            raise LeaderboardError(
                f"rating scale (scale={self.scale!r}, base={self.base!r}, "
                f"initial={self.initial!r}) is invalid; use scale > 0, base > 1 "
                "and a finite initial rating"
            )

    @property
    def factor(self) -> float:
        """Rating points per natural log-odds unit."""
        return self.scale / float(np.log(self.base))


@dataclass(frozen=True)
class Estimate:
    """What a model builder hands to the leaderboard (natural log-odds units).

    ``cov`` (m x m, for centred ratings) or ``samples`` (R x m) give the CIs.
    """

    models: tuple[str, ...]
    theta: Array
    n_battles: NDArray[np.int64]
    win_prob: Array
    converged: bool
    n_iter: int
    cov: Array | None = None
    samples: Array | None = None
    coefficients: pd.DataFrame | None = None
    tie_parameter: dict[str, Any] | None = None
    raw: Estimate | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    #: The ML ratings do not exist (separation): intervals are unbounded.
    unbounded: bool = False


@dataclass(frozen=True)
class Leaderboard:
    """Ratings with confidence intervals, best first.

    Attributes
    ----------
    table : DataFrame
        ``model, rating, lower, upper, rank, rank_lower, rank_upper,
        n_battles`` (plus ``rating_raw, lower_raw, upper_raw`` with style
        control), best first. ``n_battles`` counts the battles the fit used:
        ties are left out under ``ties="drop"`` and by ``pl``. When the
        maximum-likelihood ratings do not exist (a group of models never
        loses, or never wins, against the rest) ``lower`` and ``upper`` are
        ``-inf`` and ``inf`` and the rank range is the whole board.
    win_probabilities : DataFrame
        Model x model predicted probability that the row beats the column
        (a tie counted as half a win), in the order of ``table``.
    coefficients : DataFrame or None
        Style-control coefficients ``feature, coefficient, lower, upper``
        (log-odds per unit of the scaled feature), or None.
    tie_parameter : dict or None
        ``name, value, lower, upper`` of the estimated tie parameter
        (Rao-Kupper ``theta`` or Davidson ``nu``), or None.
    converged_ : bool
        Whether the fit (and every bootstrap replicate) converged.
    n_iter_ : int
        Iterations of the main fit.
    settings : dict
        The options the board was made with.
    extras : dict
        Model-specific figures (e.g. the cyclic share of ``gpm``).
    """

    table: pd.DataFrame
    win_probabilities: pd.DataFrame
    coefficients: pd.DataFrame | None
    tie_parameter: dict[str, Any] | None
    converged_: bool
    n_iter_: int
    settings: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The leaderboard as plain JSON-ready values."""
        return _jsonable(
            {
                "settings": self.settings,
                "table": self.table.to_dict(orient="records"),
                "win_probabilities": {
                    str(k): v
                    for k, v in self.win_probabilities.to_dict(orient="index").items()
                },
                "coefficients": None
                if self.coefficients is None
                else self.coefficients.to_dict(orient="records"),
                "tie_parameter": self.tie_parameter,
                "converged": self.converged_,
                "n_iter": self.n_iter_,
                "extras": self.extras,
            }
        )


def _jsonable(value: Any) -> Any:
    """Numbers and containers as plain JSON values (NaN becomes None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


# --- turning an estimate into a table ---------------------------------------


def anchor_matrix(m: int, anchor: int | None) -> Array:
    """Linear map from centred ratings to ratings shifted to the anchor (or mean)."""
    T = np.eye(m)
    if anchor is None:
        T -= 1.0 / m
    else:
        T[:, anchor] -= 1.0
    return T


def rating_intervals(
    est: Estimate, alpha: float, anchor: int | None, scale: RatingScale
) -> tuple[Array, Array, Array]:
    """Ratings and their ``1 - alpha`` interval on the rating scale."""
    T = anchor_matrix(len(est.theta), anchor)
    theta = T @ est.theta
    if est.unbounded:
        low, high = np.full(len(theta), -np.inf), np.full(len(theta), np.inf)
    elif est.samples is not None:
        shifted = est.samples @ T.T
        low, high = np.quantile(shifted, [alpha / 2, 1 - alpha / 2], axis=0)
    elif est.cov is not None:
        sd = np.sqrt(np.clip(np.diag(T @ est.cov @ T.T), 0.0, None))
        z = NormalDist().inv_cdf(1 - alpha / 2)
        low, high = theta - z * sd, theta + z * sd
    else:
        low = high = np.full(len(theta), np.nan)
    f, c = scale.factor, scale.initial
    return c + f * theta, c + f * low, c + f * high


def build_table(
    est: Estimate, alpha: float, anchor: int | None, scale: RatingScale
) -> pd.DataFrame:
    """The leaderboard frame of ``docs/tables.md``, best first."""
    rating, lower, upper = rating_intervals(est, alpha, anchor, scale)
    if np.isnan(lower).all():
        rank = 1 + (rating[None, :] > rating[:, None]).sum(axis=1)
        best = worst = rank
    else:
        rank, best, worst = rank_intervals(rating, lower, upper)
    table = pd.DataFrame(
        {
            "model": list(est.models),
            "rating": rating,
            "lower": lower,
            "upper": upper,
            "rank": rank,
            "rank_lower": best,
            "rank_upper": worst,
            "n_battles": est.n_battles,
        }
    )
    if est.raw is not None:
        raw_rating, raw_low, raw_high = rating_intervals(est.raw, alpha, anchor, scale)
        table["rating_raw"] = raw_rating
        table["lower_raw"] = raw_low
        table["upper_raw"] = raw_high
    order = np.lexsort((table["model"].to_numpy(), -rating))
    return table.iloc[order].reset_index(drop=True)


# --- Bradley-Terry ---------------------------------------------------------------


def expected_score(theta: Array, fit: BTFit) -> Array:
    """P(row beats column) + half P(tie) under the fit's tie convention."""
    d = (theta[:, None] - theta[None, :]).ravel()
    eta = np.full_like(d, fit.eta if fit.eta is not None else 0.0)
    p = np.exp(fit.tie.outcomes(d, eta).logp)
    if not fit.tie.has_eta:
        p[:, 2] = 0.0
    out: Array = (p[:, 0] + 0.5 * p[:, 2]).reshape(len(theta), len(theta))
    np.fill_diagonal(out, 0.5)
    return out


def _bt_intervals(
    fit: BTFit, ci: str, rounds: int, seed: int
) -> tuple[Array | None, Array | None, int]:
    """Covariance or bootstrap samples of all parameters; failed replicates."""
    if ci == "sandwich":
        return sandwich_covariance(fit), None, 0
    if ci == "bootstrap":
        samples, ok = bootstrap_params(fit, rounds, seed)
        return None, samples, int((~ok).sum())
    return None, None, 0


def _tie_parameter(
    fit: BTFit, cov: Array | None, samples: Array | None, alpha: float
) -> dict[str, Any] | None:
    if fit.eta is None:
        return None
    eta = fit.eta
    if samples is not None:
        low, high = np.quantile(samples[:, -1], [alpha / 2, 1 - alpha / 2])
    elif cov is not None:
        z = NormalDist().inv_cdf(1 - alpha / 2)
        sd = float(np.sqrt(cov[-1, -1]))
        low, high = eta - z * sd, eta + z * sd
    else:
        low = high = np.nan
    return {
        "name": fit.tie.eta_label,
        "value": float(np.exp(eta)),
        "lower": float(np.exp(low)),
        "upper": float(np.exp(high)),
        "eta": eta,
    }


def _coefficients(
    fit: BTFit, cov: Array | None, samples: Array | None, alpha: float
) -> pd.DataFrame:
    m, k = fit.data.n_models, len(fit.beta)
    sl = slice(m, m + k)
    if samples is not None:
        low, high = np.quantile(samples[:, sl], [alpha / 2, 1 - alpha / 2], axis=0)
    elif cov is not None:
        z = NormalDist().inv_cdf(1 - alpha / 2)
        sd = np.sqrt(np.diag(cov)[sl])
        low, high = fit.beta - z * sd, fit.beta + z * sd
    else:
        low = high = np.full(k, np.nan)
    return pd.DataFrame(
        {
            "feature": list(fit.data.feature_names),
            "coefficient": fit.beta,
            "lower": low,
            "upper": high,
        }
    )


def battles_used(data: Aggregated, ties: str) -> NDArray[np.int64]:
    """Battles of each model the fit uses (ties do not count under ``drop``)."""
    n = data.n[:, :2] if ties == "drop" else data.n
    per_row = n.sum(axis=1)
    out = np.bincount(data.i, per_row, data.n_models)
    out += np.bincount(data.j, per_row, data.n_models)
    return np.rint(out).astype(np.int64)


def bt_beats(
    data: Aggregated, ties: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Winner and loser of every "beats" edge; a counted tie is an edge both ways."""
    seen = data.counts > 0
    if ties == "drop":
        seen[:, 2] = False
    i, j = data.i, data.j
    winner = np.concatenate(
        [i[seen[:, 0]], j[seen[:, 1]], i[seen[:, 2]], j[seen[:, 2]]]
    )
    loser = np.concatenate([j[seen[:, 0]], i[seen[:, 1]], j[seen[:, 2]], i[seen[:, 2]]])
    return winner, loser


def _bt_estimate(
    data: Aggregated,
    ties: str,
    ci: str,
    rounds: int,
    seed: int,
    alpha: float,
    opts: dict[str, Any],
    unbounded: bool = False,
) -> Estimate:
    """Fit BT on ``data`` and package ratings, intervals and extras."""
    with warnings.catch_warnings():
        if unbounded:
            # the separation warning already says why Newton cannot converge
            warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_bt(data, ties=ties, **opts)
    # without an ML estimate there is no curvature to invert nor to resample
    cov, samples, failed = _bt_intervals(fit, "none" if unbounded else ci, rounds, seed)
    m = data.n_models
    has_style = data.X.shape[1] > 0
    return Estimate(
        models=data.models,
        theta=fit.theta,
        n_battles=battles_used(data, ties),
        win_prob=expected_score(fit.theta, fit),
        converged=fit.converged_ and failed == 0,
        n_iter=fit.n_iter_,
        cov=None if cov is None else cov[:m, :m],
        samples=None if samples is None else samples[:, :m],
        coefficients=_coefficients(fit, cov, samples, alpha) if has_style else None,
        tie_parameter=_tie_parameter(fit, cov, samples, alpha),
        extras={"loglik": fit.loglik_, "replicates_failed": failed},
        unbounded=unbounded,
    )


def bt_board(
    comparisons: pd.DataFrame,
    *,
    ties: str,
    control: list[str] | None,
    ci: str,
    rounds: int,
    seed: int,
    alpha: float,
    rating_scale: RatingScale,
    opts: dict[str, Any],
) -> Estimate:
    """Bradley-Terry with optional style control (fitted with and without it)."""
    get_tie_model(ties)
    counts = aggregate(comparisons, validate=False)
    unbounded = False
    if not opts.get("l2", 0.0):
        unbounded = check_separation(
            *bt_beats(counts, ties),
            counts.models,
            remedy="pass l2 > 0 (prefkit rank --l2 0.1) for finite, shrunk ratings",
            strict=bool(opts.get("strict", False)),
        )
    plain = _bt_estimate(counts, ties, ci, rounds, seed, alpha, opts, unbounded)
    if not control:
        return plain
    X, names = style_features(comparisons, control)
    data = aggregate(comparisons, X, names, validate=False)
    styled = _bt_estimate(data, ties, ci, rounds, seed, alpha, opts, unbounded)
    return Estimate(
        **{
            **styled.__dict__,
            "raw": plain,
            "converged": styled.converged and plain.converged,
        }
    )


# --- the public entry point --------------------------------------------------------

Builder = Callable[..., Estimate]


def _builders() -> dict[str, Builder]:
    from prefkit.rank.elo import elo_board
    from prefkit.rank.gpm import gpm_board
    from prefkit.rank.plackett_luce import pl_board

    return {"bt": bt_board, "elo": elo_board, "pl": pl_board, "gpm": gpm_board}


MODELS: tuple[str, ...] = ("bt", "elo", "pl", "gpm")

#: Options each model's fitter accepts through ``**opts``.
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "bt": ("l2", "l2_style", "max_iter", "tol", "strict"),
    "elo": ("k", "permutations"),
    "pl": ("method", "max_iter", "strict"),
    "gpm": ("dim", "l2", "max_iter", "tol", "strict"),
}


#: Interval method of each model when ``ci=None``.
DEFAULT_CI: dict[str, str] = {
    "bt": "sandwich",
    "elo": "bootstrap",
    "pl": "sandwich",
    "gpm": "sandwich",
}

#: The fixed tie convention of the models other than ``bt``.
MODEL_TIES: dict[str, str] = {"elo": "half", "gpm": "half", "pl": "drop"}


def _model_ties(model: str, ties: str | None) -> str:
    """The tie convention to use; ``ties`` is refused by models with a fixed one."""
    if model not in MODEL_TIES:
        return "half" if ties is None else ties
    fixed = MODEL_TIES[model]
    if ties is not None and ties != fixed:
        raise LeaderboardError(
            f"ties={ties!r} applies to model='bt' only; model={model!r} always uses "
            f"ties={fixed!r}: leave ties unset or use model='bt'"
        )
    return fixed


def _check_options(
    model: str, ci: str, rounds: int, alpha: float, opts: dict[str, Any]
) -> None:
    if model not in MODELS:
        raise UnknownNameError(
            f"model={model!r} is not a ranker; use one of {', '.join(MODELS)}"
        )
    if ci not in CI_METHODS:
        raise UnknownNameError(
            f"ci={ci!r} is not an interval method; use one of {', '.join(CI_METHODS)}"
        )
    if not (isinstance(rounds, (int, np.integer)) and rounds >= 2):
        raise LeaderboardError(
            f"rounds={rounds!r} must be an integer >= 2 (bootstrap replicates)"
        )
    unknown = sorted(set(opts) - set(MODEL_OPTIONS[model]))
    if unknown:
        raise LeaderboardError(
            f"unknown option(s) for model={model!r}: {', '.join(unknown)}; "
            f"it accepts {', '.join(MODEL_OPTIONS[model])}"
        )
    if not (0 < alpha < 1):
        raise LeaderboardError(
            f"alpha={alpha!r} must be in (0, 1); 0.05 gives 95% intervals"
        )


def leaderboard(
    comparisons: pd.DataFrame,
    *,
    model: str = "bt",
    ties: str | None = None,
    control: list[str] | str | None = None,
    ci: str | None = None,
    rounds: int = 1000,
    alpha: float = 0.05,
    anchor: str | None = None,
    seed: int = 0,
    scale: float = 400.0,
    base: float = 10.0,
    initial: float = 1000.0,
    **opts: Any,
) -> Leaderboard:
    """Rank models from pairwise comparisons, with confidence intervals.

    Parameters
    ----------
    comparisons : DataFrame
        The canonical comparisons table (``model_a, model_b, winner`` and
        optional ``weight``, responses and feature columns); for
        ``model="pl"`` a rankings table (``ranked``) is also accepted.
    model : {"bt", "elo", "pl", "gpm"}, default="bt"
        Bradley-Terry [BT52], online Elo, Plackett-Luce [Hun04] or the
        intransitive general preference model [GPM].
    ties : {"half", "drop", "rao-kupper", "davidson"} or None, default=None
        Tie convention of ``bt`` (see :mod:`prefkit.rank.ties`); None is
        ``"half"``. The other models have a fixed convention (``elo`` and
        ``gpm`` count a tie as half a win, ``pl`` leaves ties out) and refuse
        any other value.
    control : list of str, str or None, default=None
        Style-control features (``"length"``, ``"markdown"`` or columns);
        ``bt`` only. Comma-separated text is accepted.
    ci : {"sandwich", "bootstrap", "none"} or None, default=None
        Interval method; None is the model's natural one (``bootstrap`` for
        ``elo``, which supports ``bootstrap`` and ``none`` only; ``sandwich``
        for the others).
    rounds : int, default=1000
        Bootstrap replicates.
    alpha : float, default=0.05
        One minus the confidence level of every interval.
    anchor : str or None, default=None
        Model pinned at ``initial``; None centres the ratings there.
    seed : int, default=0
        Seed of every random step.
    scale, base, initial : float, default=400, 10, 1000
        The rating scale: ``initial + scale * theta / ln(base)``.
    **opts
        Passed to the model's fitter (e.g. ``l2``, ``max_iter``, ``strict``
        for ``bt``; ``k`` for ``elo``; ``dim`` for ``gpm``).

    Returns
    -------
    Leaderboard

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x", "x", "y", "z"],
    ...                   "model_b": ["y", "y", "z", "x"],
    ...                   "winner": ["a", "a", "a", "a"]})
    >>> board = leaderboard(t, ties="drop")
    >>> board.table["model"].tolist()
    ['x', 'z', 'y']
    """
    if ci is None:
        ci = DEFAULT_CI.get(model, "sandwich")
    ties = _model_ties(model, ties)
    _check_options(model, ci, rounds, alpha, opts)
    rating_scale = RatingScale(scale, base, initial)
    if isinstance(control, str):
        control = [c.strip() for c in control.split(",") if c.strip()]
    if control and model != "bt":
        raise LeaderboardError(
            f"control={control!r} works with model='bt' only (got model={model!r})"
        )
    if model == "pl" and "ranked" in comparisons.columns:
        comparisons = validate_rankings(comparisons)
    else:
        comparisons = validate_comparisons(judged_only(comparisons))
    est = _builders()[model](
        comparisons,
        ties=ties,
        control=control,
        ci=ci,
        rounds=int(rounds),
        seed=seed,
        alpha=alpha,
        rating_scale=rating_scale,
        opts=opts,
    )
    anchor_idx = None
    if anchor is not None:
        if anchor not in est.models:
            raise LeaderboardError(
                f"anchor={anchor!r} is not a model of this table; use one of "
                + ", ".join(est.models[:10])
                + (", ..." if len(est.models) > 10 else "")
            )
        anchor_idx = est.models.index(anchor)
    table = build_table(est, alpha, anchor_idx, rating_scale)
    order = [est.models.index(name) for name in table["model"]]
    win = pd.DataFrame(
        est.win_prob[np.ix_(order, order)],
        index=table["model"].tolist(),
        columns=table["model"].tolist(),
    )
    settings = {
        "model": model,
        "ties": ties,
        "control": control,
        "ci": ci,
        "rounds": rounds,
        "alpha": alpha,
        "anchor": anchor,
        "seed": seed,
        "scale": scale,
        "base": base,
        "initial": initial,
    }
    failed = int(est.extras.get("replicates_failed", 0))
    if failed:
        # the main fit warns for itself; this is about the bootstrap
        check_convergence(
            False,
            est.n_iter,
            f"{failed} of {rounds} bootstrap replicates of the {model} leaderboard",
            bool(opts.get("strict", False)),
        )
    return Leaderboard(
        table=table,
        win_probabilities=win,
        coefficients=est.coefficients,
        tie_parameter=est.tie_parameter,
        converged_=est.converged,
        n_iter_=est.n_iter,
        settings=settings,
        extras=est.extras,
    )
