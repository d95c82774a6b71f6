"""Tests of ranking accuracy, idealized ranking accuracy and pair difficulty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefkit.optimize.diagnostics import (
    DiagnosticsError,
    alignment_gap,
    idealized_margin,
    idealized_ranking_accuracy,
    pair_difficulty,
    ranking_accuracy,
    ranking_report,
    wilson_interval,
)


def test_ranking_accuracy_counts_strict_wins() -> None:
    """3 of 4 pairs have the chosen response more likely (a tie does not count)."""
    acc = ranking_accuracy([-1, -2, -3, -4], [-2, -3, -1, -4])
    assert acc.value == 0.5
    acc = ranking_accuracy([-1, -2, -3, -4], [-2, -3, -1, -5])
    assert acc.value == 0.75
    assert acc.n == 4


def test_wilson_interval_known_value() -> None:
    """Wilson 95% interval of 8/10 is about [0.490, 0.943]."""
    acc = wilson_interval(8, 10, 0.95)
    assert acc.lower == pytest.approx(0.4902, abs=1e-3)
    assert acc.upper == pytest.approx(0.9433, abs=1e-3)


def test_wilson_interval_edges() -> None:
    """All successes give upper bound 1 and a lower bound below 1."""
    acc = wilson_interval(20, 20)
    assert acc.upper == 1.0
    assert 0.8 < acc.lower < 1.0


def test_idealized_margin_formula() -> None:
    """Margin = reference log-ratio + logit(alpha) / beta."""
    got = idealized_margin([-10.0], [-8.0], [0.75], beta=0.5)
    assert got.tolist() == pytest.approx([-2.0 + math.log(3) / 0.5])


def test_idealized_accuracy_with_deterministic_labels_is_one() -> None:
    """With alpha = 1 the optimum ranks every pair correctly."""
    acc = idealized_ranking_accuracy([-50, -3], [-1, -2], 1.0, beta=0.1)
    assert acc.value == 1.0


def test_idealized_accuracy_weak_preferences() -> None:
    """A 60% preference cannot overturn a reference wrong by 10 nats at beta 1."""
    acc = idealized_ranking_accuracy([-20.0, -5.0], [-10.0, -6.0], [0.6, 0.6], beta=1.0)
    # pair 1: -10 + log(1.5) < 0; pair 2: +1 + log(1.5) > 0
    assert acc.value == 0.5


def test_alignment_gap_and_report() -> None:
    """The report holds reference, policy and idealized rows and the gap."""
    report = ranking_report(
        [-1.0, -5.0, -2.0], [-2.0, -4.0, -3.0],
        [-3.0, -5.0, -2.0], [-2.0, -4.0, -1.0],
        preference=1.0, beta=0.1,
    )  # fmt: skip
    assert report["figure"].tolist() == ["reference", "policy", "idealized"]
    assert report["value"].tolist() == pytest.approx([0.0, 2 / 3, 1.0])
    assert report.attrs["alignment_gap"] == pytest.approx(1 / 3)
    ideal = idealized_ranking_accuracy([0.0], [1.0], 1.0, 0.1)
    actual = ranking_accuracy([0.0], [1.0])
    assert alignment_gap(ideal, actual) == 1.0


def test_pair_difficulty_threshold() -> None:
    """Ranked right iff DPO loss < log(1 + exp(beta c)): checked at the boundary."""
    beta = 0.5
    diff = pair_difficulty([-12.0, -3.0], [-4.0, -5.0], beta)
    assert diff["reference_margin"].tolist() == [-8.0, 2.0]
    assert diff["reference_correct"].tolist() == [False, True]
    assert diff["loss_threshold"].tolist() == pytest.approx(
        [math.log1p(math.exp(-4.0)), math.log1p(math.exp(1.0))]
    )
    # a policy margin h just past -c ranks the pair right and has loss below the bar
    for c, bar in zip(diff["reference_margin"], diff["loss_threshold"], strict=True):
        for h, right in ((-c + 0.01, True), (-c - 0.01, False)):
            loss = math.log1p(math.exp(-beta * h))
            assert (loss < bar) == right
            assert (c + h > 0) == right


def test_validation_messages() -> None:
    """Bad inputs name the argument and the received value."""
    with pytest.raises(
        DiagnosticsError, match="`rejected_logps` has 1 values; expected 2"
    ):
        ranking_accuracy([0.0, 1.0], [0.0])
    with pytest.raises(DiagnosticsError, match="holds nan"):
        ranking_accuracy([np.nan], [0.0])
    with pytest.raises(DiagnosticsError, match="must be 1-D"):
        ranking_accuracy([[0.0]], [[0.0]])
    with pytest.raises(DiagnosticsError, match="`confidence` must be in"):
        wilson_interval(1, 2, 1.5)
    with pytest.raises(DiagnosticsError, match="no pairs"):
        wilson_interval(0, 0)
    with pytest.raises(DiagnosticsError, match="`beta` must be > 0"):
        idealized_margin([0.0], [0.0], 1.0, 0.0)
    with pytest.raises(DiagnosticsError, match="`beta` must be > 0"):
        pair_difficulty([0.0], [0.0], -1.0)
    with pytest.raises(DiagnosticsError, match="probabilities in"):
        idealized_margin([0.0], [0.0], [1.5], 0.1)
    with pytest.raises(DiagnosticsError, match="one probability or one per pair"):
        idealized_margin([0.0, 1.0], [0.0, 1.0], [0.5, 0.5, 0.5], 0.1)
