"""Confidence intervals: recovery of seeded parameters, coverage, rank intervals."""

from __future__ import annotations

import numpy as np
import pytest

from prefkit.rank import (
    bootstrap_params,
    fit_bt,
    leaderboard,
    model_covariance,
    rank_intervals,
    sandwich_covariance,
)

from .helpers import simulate, simulate_counts

FACTOR = 400 / np.log(10)


@pytest.mark.parametrize(("ties", "eta"), [("rao-kupper", 0.4), ("davidson", -0.7)])
def test_recovers_ratings_and_tie_parameter_within_cis(ties, eta):
    """200k seeded battles: every rating and the tie parameter lie in their 99% CIs."""
    theta = np.array([0.8, 0.3, 0.0, -0.2, -0.4, -0.5])
    df = simulate(theta, 200_000, 11, ties=ties, eta=eta)
    # seven intervals at once: 99% each keeps the joint miss rate near 7%
    board = leaderboard(df, ties=ties, ci="sandwich", alpha=0.01)
    truth = 1000 + FACTOR * (theta - theta.mean())
    table = board.table.set_index("model").loc[[f"m{k:02d}" for k in range(6)]]
    assert ((table.lower <= truth) & (truth <= table.upper)).all()
    # and the intervals are tight at this size
    assert (table.upper - table.lower).max() < 15
    tie = board.tie_parameter
    assert tie is not None
    assert tie["lower"] <= np.exp(eta) <= tie["upper"]
    assert tie["name"] == ("theta" if ties == "rao-kupper" else "nu")


def _coverage(ci: str, reps: int, rounds: int = 0) -> float:
    theta = np.array([0.6, 0.1, -0.3, -0.4])
    truth = theta - theta.mean()
    hits = []
    for rep in range(reps):
        fit = fit_bt(simulate_counts(theta, 400, 1000 + rep), ties="drop")
        if ci == "sandwich":
            sd = np.sqrt(np.diag(sandwich_covariance(fit))[:4])
            low, high = fit.theta - 1.959964 * sd, fit.theta + 1.959964 * sd
        else:
            samples, _ = bootstrap_params(fit, rounds, rep)
            low, high = np.quantile(samples[:, :4], [0.025, 0.975], axis=0)
        hits.append((low <= truth) & (truth <= high))
    return float(np.mean(hits))


def test_sandwich_coverage_is_about_95_percent():
    """95% sandwich intervals cover the truth in about 95% of 200 repetitions."""
    coverage = _coverage("sandwich", 200)
    print(f"sandwich coverage over 200 repetitions x 4 ratings: {coverage:.3f}")
    assert 0.92 <= coverage <= 0.98


def test_bootstrap_coverage_is_about_95_percent():
    """95% bootstrap intervals cover the truth in about 95% of 200 repetitions."""
    coverage = _coverage("bootstrap", 200, rounds=200)
    print(f"bootstrap coverage over 200 repetitions x 4 ratings: {coverage:.3f}")
    assert 0.91 <= coverage <= 0.98


def test_sandwich_equals_model_covariance_when_model_is_right():
    """With many battles from the model, sandwich and Fisher covariances agree."""
    df = simulate(np.array([0.5, 0.0, -0.5]), 50_000, 2)
    fit = fit_bt(df, ties="drop")
    np.testing.assert_allclose(
        np.sqrt(np.diag(sandwich_covariance(fit))),
        np.sqrt(np.diag(model_covariance(fit))),
        rtol=0.03,
    )


def test_bootstrap_is_seeded_and_matches_sandwich():
    """Same seed, same replicates; bootstrap spread is close to the sandwich one."""
    df = simulate(np.array([0.4, 0.0, -0.1, -0.3]), 5000, 4, ties="rao-kupper", eta=0.3)
    fit = fit_bt(df, ties="rao-kupper")
    s1, ok = bootstrap_params(fit, 300, 9)
    s2, _ = bootstrap_params(fit, 300, 9)
    assert ok.all()
    np.testing.assert_array_equal(s1, s2)
    sd_boot = s1.std(axis=0)
    sd_sand = np.sqrt(np.diag(sandwich_covariance(fit)))
    np.testing.assert_allclose(sd_boot, sd_sand, rtol=0.15)


def test_batched_bootstrap_equals_one_by_one_refits():
    """Each batched replicate equals a separate fit on its resampled counts."""
    df = simulate(np.array([0.4, 0.0, -0.3]), 600, 8, ties="davidson", eta=-0.3)
    fit = fit_bt(df, ties="davidson")
    samples, _ = bootstrap_params(fit, 5, 3)
    rng = np.random.default_rng(3)
    n = fit.data.n.ravel()
    draws = rng.multinomial(int(n.sum()), n / n.sum(), size=5)
    for draw, sample in zip(draws, samples, strict=True):
        data = type(fit.data)(
            **{**fit.data.__dict__, "counts": draw.reshape(-1, 3) * 1.0}
        )
        np.testing.assert_allclose(
            fit_bt(data, ties="davidson").params, sample, atol=1e-7
        )


def test_rank_intervals_by_hand():
    """Best/worst plausible ranks follow the overlap of intervals."""
    rating = np.array([1100.0, 1090.0, 1000.0, 900.0])
    lower = np.array([1080.0, 1070.0, 980.0, 850.0])
    upper = np.array([1120.0, 1110.0, 1020.0, 1000.0])
    rank, best, worst = rank_intervals(rating, lower, upper)
    assert rank.tolist() == [1, 2, 3, 4]
    assert best.tolist() == [1, 1, 3, 3]
    assert worst.tolist() == [2, 2, 4, 4]
