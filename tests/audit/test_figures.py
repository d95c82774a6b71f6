"""Each audit figure on hand-computed cases and against maintained packages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from prefkit.audit import figures as fig
from prefkit.audit._bootstrap import cluster_bootstrap, cluster_codes
from prefkit.audit._glm import fit_logistic, sigmoid
from prefkit.audit.leaderboard import bradley_terry, separability, win_matrix


def ones(n: int) -> np.ndarray:
    return np.ones(n)


def test_position_rates_by_hand() -> None:
    """First-slot, flip and conflict rates on a four-pair example."""
    assert fig.first_slot_rate([True, True, False, True], ones(4)) == 0.75
    ab = np.array(["a", "a", "b", "tie"], dtype=object)
    ba = np.array(["b", "a", "a", "a"], dtype=object)
    assert fig.flip_rate(ab, ba, ones(4)) == 0.5
    assert fig.conflict_rate(ab, ba, ones(4)) == 0.75


def test_weights_act_as_repeated_rows() -> None:
    """A weight of 2 equals listing the row twice."""
    w = np.array([2.0, 1.0, 1.0])
    assert fig.first_slot_rate([1, 0, 0], w) == fig.first_slot_rate(
        [1, 1, 0, 0], ones(4)
    )


def test_mcnemar_exact_matches_binomial() -> None:
    """Ten flips all to the first slot: p = 2 * 0.5**10."""
    assert fig.mcnemar_exact(10, 0) == pytest.approx(2 * 0.5**10)
    assert fig.mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert np.isnan(fig.mcnemar_exact(0, 0))


def test_ece_brier_overconfidence_by_hand() -> None:
    """ECE 0.4, Brier and over-confidence on four predictions."""
    p = np.array([0.9, 0.1, 0.6, 0.6])
    y = np.array([1.0, 1.0, 1.0, 1.0])
    # bins: conf 0.9 (acc 1/2), conf 0.6 (acc 1): |0.5 - 0.9|/2 + |1 - 0.6|/2
    assert fig.expected_calibration_error(p, y, ones(4)) == pytest.approx(0.4)
    assert fig.brier_score(p, y, ones(4)) == pytest.approx(
        (0.01 + 0.81 + 0.16 + 0.16) / 4
    )
    assert fig.overconfidence(p, y, ones(4)) == pytest.approx(0.75 - 0.75)


def test_cohen_kappa_equals_sklearn() -> None:
    """Unit-weight Cohen's kappa equals scikit-learn's on random labels."""
    rng = np.random.default_rng(0)
    x = rng.choice(["a", "b", "tie"], 300)
    y = np.where(rng.random(300) < 0.6, x, rng.choice(["a", "b", "tie"], 300))
    assert fig.cohen_kappa(x, y, ones(300)) == pytest.approx(cohen_kappa_score(x, y))


def test_fleiss_kappa_equals_statsmodels() -> None:
    """Fleiss' kappa equals statsmodels' on a random count table."""
    rng = np.random.default_rng(1)
    counts = rng.multinomial(4, [0.5, 0.3, 0.2], size=50)
    assert fig.fleiss_kappa(counts, ones(50)) == pytest.approx(fleiss_kappa(counts))
    assert np.isnan(fig.fleiss_kappa(np.array([[2, 0], [1, 0]]), ones(2)))


def test_krippendorff_alpha_perfect_and_missing() -> None:
    """Perfect agreement gives 1; one label value gives NaN."""
    data = np.array([[0, 1, 2, 0], [0, 1, 2, 0]], dtype=float)
    assert fig.krippendorff_alpha(data) == pytest.approx(1.0)
    assert np.isnan(fig.krippendorff_alpha(np.zeros((2, 3))))


def test_rank_correlation_equals_scipy_with_ties() -> None:
    """Spearman and Kendall tau-b equal scipy's, ties included."""
    x = np.array([1, 2, 2, 3, 5, 4, 7.0])
    y = np.array([2, 1, 3, 3, 4, 6, 5.0])
    assert fig.rank_correlation(x, y) == pytest.approx(stats.spearmanr(x, y)[0])
    assert fig.rank_correlation(x, y, "kendall") == pytest.approx(
        stats.kendalltau(x, y)[0]
    )


def test_scale_figures_by_hand() -> None:
    """sd_ratio halves when grades are halved around the mean; middle share."""
    gold = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    shrunk = 5 + 0.5 * (gold - 5)
    assert fig.sd_ratio(shrunk, gold, ones(5)) == pytest.approx(0.5)
    assert fig.middle_share(np.array([1, 4, 5, 6, 10.0]), 1, 10, ones(5)) == 0.6


def test_tanh_length_difference() -> None:
    """The bounded feature is tanh of the difference over its SD; zero when constant."""
    a, b = np.array([10.0, 20, 30]), np.array([20.0, 20, 20])
    d = a - b
    assert np.allclose(fig.tanh_length_difference(a, b), np.tanh(d / d.std(ddof=1)))
    assert np.all(fig.tanh_length_difference(b, b) == 0)


def test_cluster_bootstrap_constant_and_seeded() -> None:
    """A constant statistic has a zero-width CI; the same seed repeats the CI."""
    codes = cluster_codes(np.array(["p1", "p1", "p2", "p3"], dtype=object), 4)
    const = cluster_bootstrap(lambda w: 0.3, codes, rounds=50)
    assert (const.value, const.lower, const.upper) == (0.3, 0.3, 0.3)
    x = np.array([0.0, 1.0, 1.0, 0.0])
    one = cluster_bootstrap(lambda w: fig.first_slot_rate(x, w), codes, seed=5)
    two = cluster_bootstrap(lambda w: fig.first_slot_rate(x, w), codes, seed=5)
    assert one == two and one.lower <= one.value <= one.upper


def test_cluster_bootstrap_covers_true_mean() -> None:
    """The 95% CI of a mean covers the true mean in about 95% of seeded draws."""
    rng = np.random.default_rng(2)
    hits = 0
    for k in range(100):
        x = rng.normal(0.3, 1.0, 200)
        codes = np.arange(200, dtype=np.intp)
        est = cluster_bootstrap(
            lambda w, x=x: float(np.dot(w, x) / w.sum()), codes, rounds=300, seed=k
        )
        hits += est.lower <= 0.3 <= est.upper
    assert 88 <= hits <= 100


def test_logistic_recovers_coefficients_and_gradient_is_zero() -> None:
    """IRLS recovers planted coefficients; the penalised gradient vanishes there."""
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(5000), rng.normal(size=5000), rng.normal(size=5000)])
    beta = np.array([0.3, -1.2, 0.8])
    y = (rng.random(5000) < sigmoid(X @ beta)).astype(float)
    fit = fit_logistic(X, y, ridge=1.0)
    assert fit.converged_
    assert np.allclose(fit.coef_, beta, atol=0.1)
    # numerical gradient of the penalised log-likelihood at the optimum

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(y * eta - np.logaddexp(0, eta)) - 0.5 * np.sum(b**2))

    eps = 1e-5
    grad = [
        (loglik(fit.coef_ + eps * e) - loglik(fit.coef_ - eps * e)) / (2 * eps)
        for e in np.eye(3)
    ]
    assert np.allclose(grad, 0, atol=1e-3)
    se = np.sqrt(np.diag(fit.cov_))
    assert np.all((se > 0.01) & (se < 0.1))


def test_bradley_terry_recovers_strengths() -> None:
    """BT log-strengths from seeded games match the planted ones."""
    rng = np.random.default_rng(4)
    true = np.array([1.0, 0.5, 0.0, -0.5, -1.0])
    i = rng.integers(0, 5, 20000)
    j = (i + rng.integers(1, 5, 20000)) % 5
    s = (rng.random(20000) < sigmoid(true[i] - true[j])).astype(float)
    r = bradley_terry(win_matrix(i, j, s, np.ones(20000), 5))
    assert np.allclose(r, true - true.mean(), atol=0.06)
    perm = np.array([2, 0, 4, 1, 3])
    inv = np.argsort(perm)
    r2 = bradley_terry(win_matrix(inv[i], inv[j], s, np.ones(20000), 5))
    assert np.allclose(r2[inv], r, atol=1e-6)


def test_separability_by_hand() -> None:
    """Two of three pairs have disjoint intervals."""
    lower, upper = np.array([0.0, 0.5, 2.0]), np.array([1.0, 1.5, 3.0])
    assert separability(lower, upper) == pytest.approx(2 / 3)
