"""RewardBench-style accuracy, CIs, baselines and calibration."""

from __future__ import annotations

import numpy as np
import pytest

from prefkit.errors import PrefkitError
from prefkit.reward.evaluate import (
    accuracy_table,
    bootstrap_interval,
    calibration,
    longer_logits,
    pair_credit,
    paired_difference,
    wilson_interval,
)


def test_pair_credit_ties_wrong_or_half():
    """A model tie scores 0 by default and 1/2 with ties='half'."""
    logits = np.array([1.0, -2.0, 0.0, 3.0])
    y = np.array([1.0, 1.0, 1.0, 0.0])
    assert pair_credit(logits, y).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert pair_credit(logits, y, ties="half").tolist() == [1.0, 0.0, 0.5, 0.0]
    with pytest.raises(PrefkitError, match=r"ties is 'skip'"):
        pair_credit(logits, y, ties="skip")  # type: ignore[arg-type]


def test_wilson_interval_published_value():
    """Wilson interval of 81/263 at 95% is (0.2553, 0.3662), as in Newcombe (1998)."""
    lo, hi = wilson_interval(81, 263)
    assert lo == pytest.approx(0.2553, abs=1e-4)
    assert hi == pytest.approx(0.3662, abs=1e-4)
    assert all(np.isnan(wilson_interval(0, 0)))
    with pytest.raises(PrefkitError, match=r"level is 1.5"):
        wilson_interval(1, 2, level=1.5)


def test_bootstrap_interval_brackets_mean_and_is_seeded():
    """The bootstrap CI contains the mean and is reproducible for a seed."""
    credit = np.r_[np.ones(70), np.zeros(30)]
    lo, hi = bootstrap_interval(credit, seed=3)
    assert lo < 0.7 < hi and hi - lo < 0.2
    assert (lo, hi) == bootstrap_interval(credit, seed=3)


def test_paired_difference_of_identical_credits_is_zero():
    """A model compared with itself differs by exactly 0 with a [0, 0] CI."""
    credit = np.array([1.0, 0.0, 1.0, 1.0])
    assert paired_difference(credit, credit) == (0.0, 0.0, 0.0)


def test_calibration_by_hand():
    """Brier, log loss and ECE of two predictions computed by hand."""
    out = calibration(np.array([0.8, 0.3]), np.array([1.0, 0.0]), n_bins=5)
    assert out["brier"] == pytest.approx((0.2**2 + 0.3**2) / 2)
    assert out["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2)
    # folded confidences 0.8 and 0.7 fall in separate bins, both hits
    assert out["ece"] == pytest.approx(0.5 * 0.2 + 0.5 * 0.3)


def test_calibration_is_orientation_free():
    """Swapping a and b (p -> 1 - p, y -> 1 - y) leaves calibration unchanged."""
    rng = np.random.default_rng(0)
    p, y = rng.random(50), (rng.random(50) < 0.5).astype(float)
    assert calibration(p, y) == pytest.approx(calibration(1 - p, 1 - y))


def test_longer_baseline_scores():
    """The pick-longer score is the difference in characters."""
    assert longer_logits(["abc", "a"], ["a", "abc"]).tolist() == [2.0, -2.0]


def test_accuracy_table_subsets_pooled_and_macro():
    """Per-subset, pooled and macro accuracies by hand; gold ties left out."""
    logits = np.array([1.0, 1.0, -1.0, 1.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    baseline = np.array([-1.0, -1.0, -1.0, -1.0, 1.0, 1.0])
    subsets = ["x", "x", "x", "y", "y", "y"]
    t = accuracy_table(logits, y, baseline=baseline, subsets=subsets).set_index(
        "subset"
    )
    assert t.loc["x", "accuracy"] == pytest.approx(2 / 3)
    assert t.loc["y", "accuracy"] == 1.0 and t.loc["y", "n_gold_ties"] == 1
    assert t.loc["all", "accuracy"] == pytest.approx(4 / 5)
    assert t.loc["mean", "accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert t.loc["x", "baseline_accuracy"] == pytest.approx(2 / 3)
    assert t.loc["all", "baseline_accuracy"] == pytest.approx(3 / 5)
    assert t.loc["all", "lower"] < 0.8 < t.loc["all", "upper"]


def test_accuracy_table_rejects_bad_input():
    """Mismatched shapes and an unknown CI method raise with the received value."""
    with pytest.raises(PrefkitError, match=r"differ in shape"):
        accuracy_table(np.zeros(3), np.zeros(2))
    with pytest.raises(PrefkitError, match=r"ci is 'exact'"):
        accuracy_table(np.ones(3), np.ones(3), ci="exact")  # type: ignore[arg-type]
    boot = accuracy_table(np.ones(3), np.ones(3), ci="bootstrap")
    assert boot.loc[0, "accuracy"] == 1.0
