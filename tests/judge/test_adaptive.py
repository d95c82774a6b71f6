"""The adaptive pairing plan: stage sizes, the covariance update, budget and
prompt bookkeeping, and recovery of planted Bradley-Terry strengths."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from prefkit.judge import make_pairs
from prefkit.judge.adaptive import (
    adjacent_contrasts,
    judge_adaptive,
    parse_adaptive,
    stage_sizes,
    update_covariance,
)
from prefkit.judge.types import JudgeError
from prefkit.rank import fit_bt, model_covariance

#: Planted strengths (log-odds): m0 and m1 are the closest pair.
THETA = {"m0": 0.0, "m1": 0.2, "m2": 0.8, "m3": 1.5, "m4": 2.3, "m5": 3.2}


def _candidates(n_prompts: int = 60) -> pd.DataFrame:
    """Every model answering every prompt."""
    return pd.DataFrame(
        [
            {"prompt_id": f"p{i}", "prompt": f"q{i}", "model": m, "response": m}
            for i in range(n_prompts)
            for m in THETA
        ]
    )


class PlantedJudge:
    """Verdicts drawn from BT with :data:`THETA`; one fixed draw per (prompt, pair)
    in each world, so every plan sees the same outcomes."""

    def __init__(self, world: int) -> None:
        self.world = world
        self.calls: list[int] = []

    def __call__(self, pairs: pd.DataFrame) -> pd.DataFrame:
        self.calls.append(len(pairs))
        u = np.array(
            [
                np.random.default_rng(
                    [
                        self.world,
                        int(r.prompt_id[1:]),
                        int(r.model_a[1:]),
                        int(r.model_b[1:]),
                    ]
                ).random()
                for r in pairs.itertuples()
            ]
        )
        d = (pairs["model_a"].map(THETA) - pairs["model_b"].map(THETA)).to_numpy()
        p_a = 1.0 / (1.0 + np.exp(-d))
        return pairs.assign(winner=np.where(u < p_a, "a", "b"), judge="planted")


def _closest_ci_and_tau(judged: pd.DataFrame) -> tuple[float, float]:
    """95% CI width of m0 - m1, and Kendall's tau of the fit with THETA."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_bt(judged[["model_a", "model_b", "winner"]], ties="half")
    models = list(fit.data.models)
    cov = model_covariance(fit)[: len(models), : len(models)]
    i, j = models.index("m0"), models.index("m1")
    se = float(np.sqrt(cov[i, i] + cov[j, j] - 2 * cov[i, j]))
    tau = kendalltau(fit.theta, [THETA[m] for m in models]).statistic
    return 2 * 1.959964 * se, float(tau)


def test_stage_sizes_split_the_budget_exactly() -> None:
    """Hand cases: larger stages first, no empty stage, the sum is the budget."""
    assert stage_sizes(10, 4) == [3, 3, 2, 2]
    assert stage_sizes(150, 5) == [30] * 5
    assert stage_sizes(3, 5) == [1, 1, 1]
    with pytest.raises(JudgeError, match="stages must be >= 1"):
        stage_sizes(10, 0)


def test_covariance_update_is_the_inverse_of_the_added_information() -> None:
    """Sherman-Morrison equals inverting the information plus w x x^T."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    info = a @ a.T + 4 * np.eye(4)
    x = np.array([1.0, 0.0, -1.0, 0.0])
    got = update_covariance(np.linalg.inv(info), x, 0.21)
    want = np.linalg.inv(info + 0.21 * np.outer(x, x))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_adjacent_contrasts_follow_the_ratings() -> None:
    """Rows contrast the models ranked k and k+1 (best first)."""
    c = adjacent_contrasts(np.array([0.1, 2.0, -1.0]))
    np.testing.assert_array_equal(c, [[-1, 1, 0], [1, 0, -1]])


def test_parse_adaptive_plans() -> None:
    """adaptive:N gives N; other plans give None; a bad N is refused."""
    assert parse_adaptive("adaptive:40") == 40
    assert parse_adaptive("sample:40") is None
    with pytest.raises(JudgeError, match="positive integer"):
        parse_adaptive("adaptive:0")


def test_make_pairs_points_adaptive_to_the_staged_judging() -> None:
    """make_pairs cannot make an adaptive plan up front and says what to use."""
    with pytest.raises(JudgeError, match="prefkit evaluate --pairs adaptive:5"):
        make_pairs(_candidates(2), "adaptive:5")


def test_budget_is_spent_exactly_and_no_pair_twice_on_a_prompt() -> None:
    """N pairs in all, one judge call per stage, unique (prompt, pair) rows."""
    pool = make_pairs(_candidates(20))
    judge = PlantedJudge(0)
    judged, plan = judge_adaptive(pool, 97, judge, stages=4, seed=1)
    assert len(judged) == 97 and sum(plan.stage_sizes) == 97
    assert judge.calls == plan.stage_sizes == [25, 24, 24, 24]
    assert plan.stage_rules == ["spread", "ci_gain", "ci_gain", "ci_gain"]
    key = judged[["prompt_id", "model_a", "model_b"]]
    assert not key.duplicated().any()
    first = plan.picked[plan.picked["stage"] == 1]
    per_pair = first.groupby(["model_a", "model_b"]).size()
    # 25 picks over 15 model pairs: every pair once or twice
    assert len(per_pair) == 15 and set(per_pair) == {1, 2}
    record = plan.to_dict()
    assert record["plan"] == "adaptive:97" and record["stage_sizes"] == [25, 24, 24, 24]
    assert sum(r["n"] for r in record["pairs_per_model_pair"]) == 97


def test_budget_above_the_pool_judges_every_pair_once() -> None:
    """A budget larger than the pool takes the whole pool, each row once."""
    pool = make_pairs(_candidates(2))
    judged, _ = judge_adaptive(pool, 1000, PlantedJudge(0), stages=3)
    assert len(judged) == len(pool) == 30
    assert not judged[["prompt_id", "model_a", "model_b"]].duplicated().any()


def test_same_seed_same_plan() -> None:
    """The plan is a function of the seed and the verdicts."""
    pool = make_pairs(_candidates(20))
    a, _ = judge_adaptive(pool, 60, PlantedJudge(3), seed=5)
    b, _ = judge_adaptive(pool, 60, PlantedJudge(3), seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_adaptive_beats_uniform_sampling_on_planted_strengths() -> None:
    """Same budget, same simulated outcomes, 20 worlds: the adaptive plan narrows
    the closest pair's CI by over 10% and ranks at least as well as sample:N."""
    pool = make_pairs(_candidates())
    budget = 150
    uniform, adaptive = [], []
    for world in range(20):
        judge = PlantedJudge(world)
        sampled = make_pairs(_candidates(), f"sample:{budget}", seed=world)
        uniform.append(_closest_ci_and_tau(judge(sampled)))
        judged, _ = judge_adaptive(pool, budget, judge, stages=5, seed=world)
        adaptive.append(_closest_ci_and_tau(judged))
    u, a = np.array(uniform), np.array(adaptive)
    assert a[:, 0].mean() < 0.9 * u[:, 0].mean()
    assert a[:, 1].mean() >= u[:, 1].mean() - 0.01
    # the comparisons went to neighbours in the true order, not to far pairs
    judged, _ = judge_adaptive(pool, budget, PlantedJudge(0), seed=0)
    gap = (
        judged["model_a"].str[1:].astype(int) - judged["model_b"].str[1:].astype(int)
    ).abs()
    assert (gap == 1).mean() > 0.5
