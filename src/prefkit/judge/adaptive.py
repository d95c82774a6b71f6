"""The adaptive pairing plan: judge in stages, each aimed where the ranking is unsure.

``adaptive:N`` spends a budget of N judged pairs over a few stages. The
first stage spreads its comparisons evenly over the model pairs; each later
stage fits Bradley-Terry [BT52] on the verdicts so far
(:func:`prefkit.rank.fit_bt`, :func:`prefkit.rank.model_covariance`) and
gives its comparisons, one at a time, to the model pair whose next
comparison narrows the confidence intervals of the neighbouring ranks the
most:

.. math::

    \\operatorname{gain}(a, b) = \\sum_{k=1}^{m-1}
        \\sqrt{c_k^\\top \\Sigma c_k} - \\sqrt{c_k^\\top \\Sigma' c_k},
    \\qquad
    \\Sigma' = \\Sigma - \\frac{w\\, \\Sigma x x^\\top \\Sigma}
                              {1 + w\\, x^\\top \\Sigma x}

where :math:`c_k = e_{r_k} - e_{r_{k+1}}` contrasts the models ranked k and
k+1, :math:`x = e_a - e_b`, :math:`w = p_{ab}(1 - p_{ab})` is the Fisher
information of one more comparison of a and b, and :math:`\\Sigma'` is the
covariance after it (a rank-one Sherman-Morrison update, applied after every
pick so that one stage does not pile onto a single pair). This is the
standard-error reduction rule of Chatbot Arena's active sampling [Chiang24]
(which weighs a pair by :math:`\\sqrt{\\Sigma/n} - \\sqrt{\\Sigma/(n+1)}`,
the shrinkage of its own win-rate interval), taken from a pair's own win
rate to the Bradley-Terry contrasts of adjacent ranks: comparisons go to
close neighbours, whose order is what a leaderboard's rank intervals are
about, and not to pairs whose outcome is already clear.

Each pick lands on a prompt that pair has not been judged on (seeded
choice), so no pair is judged twice on one prompt, and the plan spends
exactly ``min(N, available pairs)``. The judge is called once per stage;
with a cache, a re-run replays the same stages from cached verdicts.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.judge.types import JudgeError

logger = logging.getLogger("prefkit.judge")

#: Stages of an adaptive plan unless told otherwise.
DEFAULT_STAGES = 5
#: Gaussian prior precision of the planner's fit: keeps ratings finite when a
#: model has not lost yet (the leaderboard itself is fitted without it).
PLANNER_L2 = 0.1

Judge = Callable[[pd.DataFrame], pd.DataFrame]
Array = NDArray[np.float64]


@dataclass
class AdaptivePlan:
    """What :func:`judge_adaptive` did.

    Attributes
    ----------
    budget : int
        Pairs asked for (``N`` of ``adaptive:N``).
    stage_sizes : list of int
        Pairs judged in each stage.
    stage_rules : list of str
        ``"spread"`` (even over model pairs) or ``"ci_gain"`` (the rule above)
        per stage.
    picked : DataFrame
        The judged pairs (unjudged columns), in the order they were picked,
        with their ``stage``.
    """

    budget: int
    stage_sizes: list[int] = field(default_factory=list)
    stage_rules: list[str] = field(default_factory=list)
    picked: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON values (for ``run.json``)."""
        per_pair: dict[tuple[str, str], int] = {}
        for a, b in zip(self.picked["model_a"], self.picked["model_b"], strict=True):
            per_pair[(str(a), str(b))] = per_pair.get((str(a), str(b)), 0) + 1
        return {
            "plan": f"adaptive:{self.budget}",
            "judged": int(sum(self.stage_sizes)),
            "stage_sizes": list(self.stage_sizes),
            "stage_rules": list(self.stage_rules),
            "pairs_per_model_pair": [
                {"model_a": a, "model_b": b, "n": n}
                for (a, b), n in sorted(per_pair.items())
            ],
        }


def parse_adaptive(plan: str) -> int | None:
    """The budget N of ``"adaptive:N"``; None for any other plan."""
    kind, _, arg = plan.partition(":")
    if kind != "adaptive":
        return None
    if not arg.isdigit() or int(arg) < 1:
        raise JudgeError(
            f"pairing plan {plan!r}: N must be a positive integer (adaptive:N)"
        )
    return int(arg)


def stage_sizes(budget: int, stages: int) -> list[int]:
    """``budget`` split into ``stages`` near-equal parts, larger ones first."""
    if stages < 1:
        raise JudgeError(f"stages must be >= 1 (got {stages})")
    base, extra = divmod(budget, stages)
    return [base + (1 if k < extra else 0) for k in range(stages) if base or k < extra]


def _pair_keys(pool: pd.DataFrame) -> pd.Series:
    """The unordered model pair of each row, as ``"a\\x1fb"`` (sorted)."""
    a = pool["model_a"].astype(str)
    b = pool["model_b"].astype(str)
    lo, hi = a.where(a < b, b), b.where(a < b, a)
    return lo + "\x1f" + hi


def _take(
    free: dict[str, list[int]], counts: dict[str, int], rng: np.random.Generator
) -> list[int]:
    """Rows for ``counts`` picks per model pair, each on an unused prompt."""
    rows: list[int] = []
    for key, k in counts.items():
        options = free[key]
        chosen = {int(i) for i in rng.choice(len(options), size=k, replace=False)}
        rows += [options[i] for i in sorted(chosen)]
        free[key] = [r for i, r in enumerate(options) if i not in chosen]
    return rows


def spread_counts(
    free: dict[str, list[int]], size: int, rng: np.random.Generator
) -> dict[str, int]:
    """``size`` picks dealt round-robin over the model pairs (seeded order)."""
    keys = [k for k in free if free[k]]
    order = [keys[i] for i in rng.permutation(len(keys))]
    counts = dict.fromkeys(order, 0)
    left = size
    while left and order:
        order = [k for k in order if counts[k] < len(free[k])]
        for key in order:
            if not left:
                break
            counts[key] += 1
            left -= 1
    return {k: n for k, n in counts.items() if n}


def contrast_se(cov: Array, contrasts: Array) -> Array:
    """Standard error of each contrast ``c_k`` (rows of ``contrasts``)."""
    var = np.einsum("ki,ij,kj->k", contrasts, cov, contrasts)
    return np.sqrt(np.maximum(var, 0.0))


def update_covariance(cov: Array, x: Array, w: float) -> Array:
    """Covariance after one more comparison with design ``x`` and information ``w``.

    .. math::

        \\Sigma' = \\Sigma - w \\Sigma x x^\\top \\Sigma / (1 + w x^\\top \\Sigma x)
    """
    sx = cov @ x
    return cov - w * np.outer(sx, sx) / (1.0 + w * float(x @ sx))


def adjacent_contrasts(theta: Array) -> Array:
    """Rows ``e_{r_k} - e_{r_{k+1}}`` for the models ranked k and k+1 by ``theta``."""
    order = np.argsort(-theta, kind="stable")
    m = len(theta)
    out = np.zeros((max(m - 1, 0), m))
    for k in range(m - 1):
        out[k, order[k]] = 1.0
        out[k, order[k + 1]] = -1.0
    return out


def gain_counts(
    theta: Array,
    cov: Array,
    index: dict[str, int],
    free: dict[str, list[int]],
    size: int,
) -> dict[str, int]:
    """``size`` picks, each to the pair of largest adjacent-rank CI narrowing."""
    contrasts = adjacent_contrasts(theta)
    counts: dict[str, int] = {}
    left = {k: len(v) for k, v in free.items()}
    for _ in range(size):
        se = contrast_se(cov, contrasts)
        best, best_gain, best_cov = None, -np.inf, cov
        for key, n_free in left.items():
            if n_free == 0:
                continue
            a, b = (index[m] for m in key.split("\x1f"))
            x = np.zeros(len(theta))
            x[a], x[b] = 1.0, -1.0
            p = 1.0 / (1.0 + np.exp(-(theta[a] - theta[b])))
            after = update_covariance(cov, x, p * (1.0 - p))
            gain = float((se - contrast_se(after, contrasts)).sum())
            if gain > best_gain:
                best, best_gain, best_cov = key, gain, after
        if best is None:
            break
        counts[best] = counts.get(best, 0) + 1
        left[best] -= 1
        cov = best_cov
    return counts


def _fit(judged: pd.DataFrame, models: list[str]) -> tuple[Array, Array] | None:
    """Ratings and their covariance over ``models``; None while the graph is split."""
    from prefkit.rank import DisconnectedGraphError, fit_bt, model_covariance

    rows = judged[judged["winner"].notna()] if "winner" in judged else judged
    seen = set(rows["model_a"].astype(str)) | set(rows["model_b"].astype(str))
    if len(rows) == 0 or seen != set(models):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_bt(
                rows[["model_a", "model_b", "winner"]], ties="half", l2=PLANNER_L2
            )
    except DisconnectedGraphError:
        return None
    m = fit.data.n_models
    order = [list(fit.data.models).index(name) for name in models]
    theta = fit.theta[order]
    cov = model_covariance(fit)[:m, :m][np.ix_(order, order)]
    return theta, cov


def judge_adaptive(
    pool: pd.DataFrame,
    budget: int,
    judge: Judge,
    *,
    stages: int = DEFAULT_STAGES,
    seed: int = 0,
    fit_rows: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, AdaptivePlan]:
    """Judge ``budget`` pairs of ``pool`` in stages, later ones where ranks are unsure.

    Parameters
    ----------
    pool : DataFrame
        Every pair that may be judged (``make_pairs(candidates, "all")``):
        ``prompt_id, model_a, model_b`` and the texts the judge reads.
    budget : int
        Pairs to judge in all (N of ``adaptive:N``); at most ``len(pool)``.
    judge : callable
        ``judge(pairs) -> judged comparisons``, called once per stage
        (e.g. :func:`prefkit.evaluate.judge_step` with its settings bound).
    stages : int, default=5
        Stages the budget is split into; the first spreads evenly.
    seed : int, default=0
        Seed of the choice of prompts and of the first stage's order.
    fit_rows : callable or None, default=None
        Picks the verdicts the planner fits from the judged table (e.g. the
        jury's when several judges ran); None fits every row.

    Returns
    -------
    judged : DataFrame
        Every stage's judged comparisons, stacked (judges in first-seen order).
    plan : AdaptivePlan
        Stage sizes, rules and the picked pairs.

    Examples
    --------
    >>> judged, plan = judge_adaptive(pool, 60, judge)  # doctest: +SKIP
    >>> plan.stage_sizes  # doctest: +SKIP
    [12, 12, 12, 12, 12]
    """
    if budget < 1:
        raise JudgeError(f"the adaptive budget must be >= 1 (got {budget})")
    pool = pool.reset_index(drop=True)
    if budget > len(pool):
        logger.info(
            "adaptive plan: budget %d exceeds the %d available pairs; judging all",
            budget,
            len(pool),
        )
    keys = _pair_keys(pool)
    free: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        free.setdefault(key, []).append(i)
    models = sorted(set(pool["model_a"].astype(str)) | set(pool["model_b"].astype(str)))
    index = {m: i for i, m in enumerate(models)}
    rng = np.random.default_rng(seed)
    plan = AdaptivePlan(budget=budget)
    judged_parts: list[pd.DataFrame] = []
    picked_parts: list[pd.DataFrame] = []

    for stage, size in enumerate(stage_sizes(min(budget, len(pool)), stages)):
        # later stages aim at the neighbouring ranks of the fit so far
        fitted = None
        if judged_parts:
            so_far = pd.concat(judged_parts, ignore_index=True)
            fitted = _fit(fit_rows(so_far) if fit_rows else so_far, models)
        if fitted is None:
            rule, counts = "spread", spread_counts(free, size, rng)
        else:
            rule, counts = "ci_gain", gain_counts(*fitted, index, free, size)
        rows = _take(free, counts, rng)
        if not rows:
            break
        pairs = pool.iloc[sorted(rows)].reset_index(drop=True)
        logger.info("adaptive stage %d (%s): %d pairs", stage + 1, rule, len(pairs))
        judged_parts.append(judge(pairs))
        picked_parts.append(pairs.assign(stage=stage + 1))
        plan.stage_sizes.append(len(pairs))
        plan.stage_rules.append(rule)

    judged = pd.concat(judged_parts, ignore_index=True)
    if "judge" in judged.columns:
        first_seen = {n: k for k, n in enumerate(dict.fromkeys(judged["judge"]))}
        rank = judged["judge"].map(first_seen)
        judged = judged.iloc[np.argsort(rank.to_numpy(), kind="stable")]
        judged = judged.reset_index(drop=True)
    plan.picked = pd.concat(picked_parts, ignore_index=True)
    return judged, plan
