"""Win rates against a baseline, raw and length-controlled (AlpacaEval).

:func:`win_rate` is AlpacaEval's win rate: the mean probability that the
model beats the baseline (``p_a`` where the judge gave one, else 1 / 0 / 0.5
for win / loss / tie). :func:`lc_win_rate` is its length-controlled win rate
[Dubois24]: for each model a logistic GLM of that preference on the bounded,
standardised length difference and the instruction's difficulty, predicted
at zero length difference and averaged over the instructions.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from prefkit.audit._glm import fit_logistic, sigmoid
from prefkit.audit.prepare import lengths_of, preference_of
from prefkit.errors import ConvergenceWarning, PrefkitDataError

logger = logging.getLogger("prefkit.audit")
FloatArray = NDArray[Any]

#: Ridge on the instruction difficulties of the joint fit (a N(0, 10) prior):
#: keeps an instruction every model loses (or wins) finite while shrinking
#: the others little (a stronger prior moved LC win rates away from the
#: official ones on the 31 AlpacaEval models with a published value).
DIFFICULTY_RIDGE = 0.1


def against_baseline(comparisons: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Rows with ``baseline`` on one side, oriented as (model, baseline).

    Returns a frame with ``model, prompt_id, judge, preference`` (probability
    that the model beats the baseline) and, where lengths are known,
    ``len_model, len_baseline``.
    """
    df = comparisons
    is_a = (df["model_a"] == baseline).to_numpy()
    is_b = (df["model_b"] == baseline).to_numpy()
    if not (is_a | is_b).any():
        models = sorted(set(df["model_a"]) | set(df["model_b"]))[:10]
        raise PrefkitDataError.single(
            "<comparisons>",
            None,
            "baseline",
            f"baseline {baseline!r} is on neither side of any comparison; "
            f"pass one of the models present, e.g. {', '.join(map(str, models))}",
        )
    keep = is_a | is_b
    sub = df[keep]
    base_is_a = is_a[keep]
    p_a = preference_of(sub)
    out = pd.DataFrame(
        {
            "model": np.where(base_is_a, sub["model_b"], sub["model_a"]),
            "prompt_id": _prompt_ids(sub),
            "judge": sub["judge"].to_numpy() if "judge" in sub else "judge",
            "preference": np.where(base_is_a, 1 - p_a, p_a),
        }
    )
    lengths = lengths_of(sub)
    if lengths is not None:
        len_a, len_b = lengths
        out["len_model"] = np.where(base_is_a, len_b, len_a)
        out["len_baseline"] = np.where(base_is_a, len_a, len_b)
    return out[np.isfinite(out["preference"].to_numpy(dtype=float))]


def _prompt_ids(df: pd.DataFrame) -> NDArray[np.object_]:
    """Prompt ids, or the prompt text, or the row number."""
    for col in ("prompt_id", "prompt"):
        if col in df.columns:
            return df[col].astype(str).to_numpy(dtype=object)
    return np.arange(len(df)).astype(str).astype(object)


def win_rate(
    comparisons: pd.DataFrame, baseline: str, *, alpha: float = 0.05
) -> pd.DataFrame:
    """AlpacaEval's win rate of every model against ``baseline``, in percent.

    .. math:: \\mathrm{WR}_m = \\frac{100}{n_m} \\sum_i p_{m,i}

    where :math:`p_{m,i}` is the probability the judge gives to the model
    beating the baseline on instruction ``i`` (ties count 1/2).

    Parameters
    ----------
    comparisons : DataFrame
        A comparisons table with ``baseline`` on one side of the rows used.
    baseline : str
        The reference model.
    alpha : float, default=0.05
        One minus the level of the normal CI ``lower``/``upper``.

    Returns
    -------
    DataFrame
        ``judge, model, win_rate, standard_error, lower, upper, n_wins,
        n_wins_base, n_draws, n_total, discrete_win_rate``, best first.
        ``standard_error`` is the standard error of the mean (as AlpacaEval).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["m", "m"], "model_b": ["gpt", "gpt"],
    ...                   "winner": ["a", "tie"]})
    >>> float(win_rate(t, "gpt")["win_rate"].iloc[0])
    75.0
    """
    rows = against_baseline(comparisons, baseline)
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for (judge, model), g in rows.groupby(["judge", "model"], sort=True):
        p = g["preference"].to_numpy(dtype=float)
        n = len(p)
        wr = 100 * p.mean()
        se = 100 * p.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        wins, losses = int((p > 0.5).sum()), int((p < 0.5).sum())
        draws = n - wins - losses
        out.append(
            {
                "judge": judge,
                "model": model,
                "win_rate": wr,
                "standard_error": se,
                "lower": wr - z * se,
                "upper": wr + z * se,
                "n_wins": wins,
                "n_wins_base": losses,
                "n_draws": draws,
                "n_total": n,
                "discrete_win_rate": 100 * (wins + draws / 2) / n,
            }
        )
    table = pd.DataFrame(out)
    return table.sort_values("win_rate", ascending=False, ignore_index=True)


def instruction_difficulty(rows: pd.DataFrame, *, n_iter: int = 50) -> pd.Series:
    """Per-instruction difficulty from a joint fit over every model.

    .. math:: \\operatorname{logit} p_{m,i} = \\theta_m + \\phi_m x_{m,i} - d_i

    with :math:`x` the bounded length feature, fitted by alternating Newton
    steps with a N(0, 1) prior on :math:`d_i`; returns :math:`d` centred.
    AlpacaEval ships a difficulty estimated the same way from its full
    leaderboard; this one uses only the models in ``rows``.
    """
    m_codes, models = pd.factorize(rows["model"])
    i_codes, prompts = pd.factorize(rows["prompt_id"])
    y = rows["preference"].to_numpy(dtype=float)
    x = rows["x_len"].to_numpy(dtype=float)
    theta, phi = np.zeros(len(models)), np.zeros(len(models))
    d = np.zeros(len(prompts))
    for _ in range(n_iter):
        eta = theta[m_codes] + phi[m_codes] * x - d[i_codes]
        mu = sigmoid(eta)
        v = mu * (1 - mu)
        r = y - mu
        # Newton step of the model effects (2 x 2 per model).
        g0 = np.bincount(m_codes, r, len(models))
        g1 = np.bincount(m_codes, r * x, len(models))
        h00 = np.bincount(m_codes, v, len(models)) + 1e-6
        h01 = np.bincount(m_codes, v * x, len(models))
        h11 = np.bincount(m_codes, v * x * x, len(models)) + 1e-6
        det = h00 * h11 - h01**2
        theta += (h11 * g0 - h01 * g1) / det
        phi += (h00 * g1 - h01 * g0) / det

        # Newton step of the difficulties, with the prior.
        mu = sigmoid(theta[m_codes] + phi[m_codes] * x - d[i_codes])
        v = mu * (1 - mu)
        grad = -np.bincount(i_codes, y - mu, len(prompts)) - DIFFICULTY_RIDGE * d
        hess = np.bincount(i_codes, v, len(prompts)) + DIFFICULTY_RIDGE
        d += grad / hess
    if not np.isfinite(d).all():
        warnings.warn(
            "instruction difficulties diverged; they are left out (all zero); "
            "pass difficulty= to lc_win_rate to supply them",
            ConvergenceWarning,
            stacklevel=2,
        )
        d = np.zeros(len(prompts))
    d -= d.mean()
    return pd.Series(d, index=prompts, name="instruction_difficulty")


def lc_win_rate(
    comparisons: pd.DataFrame,
    baseline: str,
    *,
    alpha: float = 0.05,
    difficulty: pd.Series | None = None,
    length_pooling: float = 10.0,
    difficulty_pooling: float = 100.0,
) -> pd.DataFrame:
    """AlpacaEval's length-controlled win rate of every model, in percent [Dubois24].

    For each model ``m`` a logistic GLM of the preference on the bounded
    standardised length difference and the instruction difficulty,

    .. math:: \\operatorname{logit} p_{m,i} = \\theta_m
        + \\phi_m \\tanh\\!\\left(\\frac{\\ell_{\\text{base},i} - \\ell_{m,i}}
        {\\operatorname{sd}_m(\\ell_{\\text{base}} - \\ell_m)}\\right)
        + \\psi_m\\, d_i,

    is predicted at zero length difference and averaged over instructions:

    .. math:: \\mathrm{LCWR}_m = \\frac{100}{n_m}\\sum_i
        \\sigma(\\theta_m + \\psi_m d_i).

    Parameters
    ----------
    comparisons : DataFrame
        Comparisons with ``baseline`` on one side, with response texts
        (``response_a``/``response_b``) or lengths (``len_a``/``len_b``).
    baseline : str
        The reference model.
    alpha : float, default=0.05
        One minus the level of the normal CI.
    difficulty : Series or None, default=None
        Instruction difficulty indexed by ``prompt_id`` (e.g. AlpacaEval's
        published one). None estimates it from every model in the table
        (:func:`instruction_difficulty`); with fewer than three models the
        term is left out.
    length_pooling : float, default=10.0
        Strength of a ridge pulling every model's length slope ``phi_m``
        towards the median slope of all models (0: independent fits). It
        stands in for AlpacaEval's regularisation towards its gamed
        baselines (the baseline's own concise/verbose variants, which are
        not public here) and keeps a model with extreme lengths (a gamed
        or constant output) from absorbing its quality into the slope.
    difficulty_pooling : float, default=100.0
        The same for the difficulty slope ``psi_m``, pulled towards the
        median of all models; AlpacaEval's gamed-baseline rows share this
        slope too.

    Returns
    -------
    DataFrame
        ``judge, model, lc_win_rate, lc_standard_error, lower, upper,
        win_rate, length_coef, n_total, converged, note``, best first.
        Standard errors come from the delta method on the sandwich
        covariance. A fit that did not converge keeps its point value but
        gets NaN errors and bounds, ``converged`` False and a ``note``,
        with a :class:`~prefkit.errors.ConvergenceWarning`.
    """
    rows = against_baseline(comparisons, baseline)
    if "len_model" not in rows.columns:
        raise PrefkitDataError.single(
            "<comparisons>",
            None,
            "response_a",
            "length-controlled win rates need response texts (response_a, "
            "response_b) or lengths (len_a, len_b); neither was found",
        )
    delta = rows["len_baseline"].to_numpy(float) - rows["len_model"].to_numpy(float)
    sd = rows.assign(delta=delta).groupby(["judge", "model"])["delta"].transform("std")
    sd_ = sd.to_numpy(float)
    rows = rows.assign(
        x_len=np.tanh(np.divide(delta, sd_, where=sd_ > 0, out=np.zeros_like(delta)))
    )
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for judge, jrows in rows.groupby("judge", sort=True):
        d = _difficulty_for(jrows, difficulty)
        groups = list(jrows.groupby("model", sort=True))
        no_pool = np.zeros(2)
        pooling = np.array([length_pooling, difficulty_pooling])
        pooled = bool(pooling.any()) and len(groups) > 1
        with warnings.catch_warnings():
            # The unpooled fits only give the centre when pooling follows.
            if pooled:
                warnings.simplefilter("ignore", ConvergenceWarning)
            free = [
                _lc_one(str(judge), str(m), g, d, z, no_pool, no_pool)
                for m, g in groups
            ]
        if pooled:
            slopes = [
                (r["length_coef"], r["difficulty_coef"]) for r in free if r["converged"]
            ]
            centre = np.median(np.array(slopes, float), axis=0) if slopes else no_pool
            free = [
                _lc_one(str(judge), str(m), g, d, z, pooling, centre) for m, g in groups
            ]
        out += [{k: v for k, v in r.items() if k != "difficulty_coef"} for r in free]
    table = pd.DataFrame(out)
    return table.sort_values("lc_win_rate", ascending=False, ignore_index=True)


def _difficulty_for(rows: pd.DataFrame, given: pd.Series | None) -> pd.Series | None:
    """The difficulty series to use for one judge's rows, or None."""
    if given is not None:
        return given.set_axis(given.index.astype(str))
    if rows["model"].nunique() < 3:
        logger.info("fewer than 3 models: LC win rates without instruction difficulty")
        return None
    return instruction_difficulty(rows)


def _lc_one(
    judge: str,
    model: str,
    g: pd.DataFrame,
    d: pd.Series | None,
    z: float,
    pooling: FloatArray,
    centre: FloatArray,
) -> dict[str, object]:
    """Fit one model's GLM and predict it at zero length difference.

    ``pooling`` and ``centre`` are the ridge strengths and centres of the
    (length, difficulty) slopes.
    """
    y = g["preference"].to_numpy(float)
    x = g["x_len"].to_numpy(float)
    n = len(y)
    if d is None:
        diff = np.zeros(n)
    else:
        diff = d.reindex(g["prompt_id"].astype(str)).fillna(0.0).to_numpy(float)
    X = np.column_stack([np.ones(n), x, diff])
    ridge = 1e-4 + np.array([0.0, pooling[0], pooling[1]])
    prior = np.array([0.0, centre[0], centre[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_logistic(X, y, ridge=ridge, prior_mean=prior, max_iter=200)

    # Predict at zero length difference, average over instructions.
    X0 = X.copy()
    X0[:, 1] = 0.0
    s = sigmoid(X0 @ fit.coef_)
    grad = ((s * (1 - s))[:, None] * X0).mean(axis=0)
    se = float(np.sqrt(max(grad @ fit.cov_ @ grad, 0.0)))
    lc = 100 * float(s.mean())
    note = ""
    if not fit.converged_:
        # A diverging fit has a meaningless (often zero) covariance.
        se = float("nan")
        note = f"logistic fit did not converge in {fit.n_iter_} iterations; no CI"
        warnings.warn(
            f"LC win rate of {model!r} (judge {judge!r}): {note}",
            ConvergenceWarning,
            stacklevel=3,
        )
    return {
        "judge": judge,
        "model": model,
        "lc_win_rate": lc,
        "lc_standard_error": 100 * se,
        "lower": lc - 100 * z * se,
        "upper": lc + 100 * z * se,
        "win_rate": 100 * float(y.mean()),
        "length_coef": float(fit.coef_[1]),
        "difficulty_coef": float(fit.coef_[2]),
        "n_total": n,
        "converged": fit.converged_,
        "note": note,
    }
