"""The formulas that merge samples and orders into one verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefkit.judge.aggregate import (
    MAX_UNCERTAINTY,
    Sample,
    binary_entropy,
    combine_orders,
    diversity_entropy,
    order_verdict,
    positional_consistency,
    soft_p_a,
    swap_dist,
)


def test_order_verdict_averages_the_samples() -> None:
    """k sample distributions are averaged; the verdict is the mean's argmax."""
    s = [
        Sample(np.array([0.8, 0.2, 0.0]), "a"),
        Sample(np.array([0.2, 0.6, 0.2]), "b"),
        Sample(None, None, "parse failure"),
    ]
    verdict, p_a = order_verdict(s)
    assert verdict == "a"
    assert p_a == pytest.approx(0.5 + 0.5 * 0.1)


def test_order_verdict_of_equal_outcomes_is_a_tie() -> None:
    """Two equally probable outcomes give a tie, and no samples give nothing."""
    s = [Sample(np.array([1.0, 0.0, 0.0]), "a"), Sample(np.array([0.0, 1.0, 0.0]), "b")]
    assert order_verdict(s) == ("tie", 0.5)
    assert order_verdict([Sample(None, None, "x")]) == (None, None)


def test_soft_label_counts_a_tie_half_and_swap_flips_it() -> None:
    """p_a = P(a) + P(tie)/2, and reading with b first gives 1 - p_a."""
    d = np.array([0.5, 0.2, 0.3])
    assert soft_p_a(d) == pytest.approx(0.65)
    assert soft_p_a(swap_dist(d)) == pytest.approx(1 - 0.65)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("tie", ("tie", True)), ("drop", (None, False)), ("average", ("a", True))],
)
def test_disagreement_rules(rule: str, expected: tuple[object, bool]) -> None:
    """A flip between orders becomes a tie, a drop, or follows the mean p_a."""
    winner, p_a, keep = combine_orders("a", "b", 0.9, 0.4, rule)  # type: ignore[arg-type]
    assert (winner, keep) == expected
    assert p_a == pytest.approx(0.65)


def test_agreeing_or_single_orders_pass_through() -> None:
    """Agreeing orders keep their verdict; one missing order uses the other."""
    assert combine_orders("b", "b", 0.2, 0.3, "tie") == ("b", pytest.approx(0.25), True)
    assert combine_orders(None, "a", None, 0.7, "drop") == ("a", 0.7, True)
    assert combine_orders(None, None, None, None, "tie") == (None, None, True)
    assert combine_orders("a", "b", None, None, "average") == ("tie", None, True)


def test_diversity_entropy_hand_computed() -> None:
    """BPDE of [a, a, b, b] is one bit; unanimous is zero; none is the maximum."""
    assert diversity_entropy(["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert diversity_entropy(["a", "a"]) == pytest.approx(0.0)
    assert diversity_entropy(["a", "b", "tie"]) == pytest.approx(math.log2(3))
    assert diversity_entropy([]) == MAX_UNCERTAINTY
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(None) == MAX_UNCERTAINTY


def test_positional_consistency_skips_missing_orders() -> None:
    """Consistency is the share of same verdicts among items with both orders."""
    assert positional_consistency(
        ["a", "b", "a", None], ["a", "a", "a", "b"]
    ) == pytest.approx(2 / 3)
    assert math.isnan(positional_consistency([None], ["a"]))
