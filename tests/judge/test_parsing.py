"""Strict parsing of judge replies and verdict probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefkit.judge.parsing import (
    MIN_LABEL_MASS,
    entropy_bits,
    find_label,
    parse_reply,
)
from prefkit.judge.types import Completion

ABC = ("A", "B", "C")


@pytest.mark.parametrize(
    ("text", "label"),
    [("A", "A"), ("  [[B]]", "B"), ("**C**.", "C"), ("A: Paris is", "A"), ("b", "B")],
)
def test_direct_reply_starting_with_a_label_parses(text: str, label: str) -> None:
    """A reply that starts with a (decorated) label gives that label."""
    found = find_label(text, ABC, evidence=False)
    assert isinstance(found, tuple) and found[0] == label


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty reply"),
        ("Answer: A", "does not start"),
        ("Apples are better", "does not start"),
        ("The first one.", "does not start"),
    ],
)
def test_direct_reply_without_leading_label_is_a_failure(
    text: str, reason: str
) -> None:
    """A label elsewhere in the reply is never taken as the verdict."""
    found = find_label(text, ABC, evidence=False)
    assert isinstance(found, str) and reason in found


def test_evidence_reply_reads_only_the_last_verdict_line() -> None:
    """The verdict is the last line's label, not a label mentioned before it."""
    text = "Answer A is wrong about B.\n\n**Verdict:** B"
    label, offset = find_label(text, ABC, evidence=True)  # type: ignore[misc]
    assert label == "B" and text[offset] == "B"


@pytest.mark.parametrize(
    "text",
    [
        "Evidence.\nVerdict: X where X is A, B or C",
        "Evidence only, no verdict line.",
        "Verdict: A\nbut then more text",
        "Verdict: D",
    ],
)
def test_evidence_reply_echoing_the_template_is_a_failure(text: str) -> None:
    """An echo of the template's instructions or a stray label fails to parse."""
    assert isinstance(find_label(text, ABC, evidence=True), str)


def test_probabilities_are_summed_over_variants_and_renormalised() -> None:
    """P(label) sums " A" and "A", drops other tokens, and renormalises."""
    tops = {
        "A": math.log(0.5),
        " A": math.log(0.1),
        "B": math.log(0.2),
        "The": math.log(0.15),
        "C": math.log(0.05),
    }
    parsed = parse_reply(Completion("A", ["A"], [tops]), ABC, evidence=False)
    np.testing.assert_allclose(parsed.probs, [0.6 / 0.85, 0.2 / 0.85, 0.05 / 0.85])


def test_probabilities_are_read_at_the_verdict_token_after_evidence() -> None:
    """After the evidence, probabilities come from the token holding the label."""
    tokens = ["Fine", ".\n", "Verdict", ":", " B"]
    tops = [
        {"Fine": 0.0},
        {".\n": 0.0},
        {"Verdict": 0.0},
        {":": 0.0},
        {" B": math.log(0.5), " A": math.log(0.3), "B": math.log(0.1)},
    ]
    parsed = parse_reply(Completion("Fine.\nVerdict: B", tokens, tops), ABC, True)
    assert parsed.label == "B"
    np.testing.assert_allclose(parsed.probs, [0.3 / 0.9, 0.6 / 0.9, 0.0])


def test_two_digit_grade_split_by_the_tokeniser() -> None:
    """ "10" tokenised as "1" + "0" moves P("1") x P("0" next) to grade 10."""
    labels = tuple(str(g) for g in range(1, 11))
    tops = [
        {"1": math.log(0.5), "9": math.log(0.5)},
        {"0": math.log(0.8), ".": math.log(0.2)},
    ]
    parsed = parse_reply(Completion("10", ["1", "0"], tops), labels, evidence=False)
    assert parsed.label == "10"
    assert parsed.probs is not None
    assert parsed.probs[9] == pytest.approx(0.4)
    assert parsed.probs[0] == pytest.approx(0.1)
    assert parsed.probs[8] == pytest.approx(0.5)


def test_misaligned_tokens_fall_back_to_the_text_label() -> None:
    """Tokens that do not spell the text give no probabilities, only the label."""
    parsed = parse_reply(Completion("B", ["X"], [{"B": 0.0}]), ABC, evidence=False)
    assert parsed.label == "B" and parsed.probs is None
    np.testing.assert_array_equal(parsed.distribution(ABC), [0.0, 1.0, 0.0])


def test_parse_failure_has_no_distribution() -> None:
    """A reply that fails to parse yields no verdict and no probabilities."""
    parsed = parse_reply(Completion("Maybe", ["Maybe"], [{"A": 0.0}]), ABC, False)
    assert parsed.label is None and parsed.distribution(ABC) is None
    assert parsed.error is not None and parsed.error.startswith("parse failure")


def test_entropy_bits_hand_computed() -> None:
    """Entropy of counts in bits matches hand-computed values."""
    assert entropy_bits([1, 1]) == pytest.approx(1.0)
    assert entropy_bits([2, 2, 2]) == pytest.approx(math.log2(3))
    assert entropy_bits([3, 0, 0]) == pytest.approx(0.0)
    assert entropy_bits([3, 1]) == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    )
    assert math.isnan(entropy_bits([0, 0]))


def test_constrained_verdict_reads_the_first_token_over_the_labels() -> None:
    """A local reply that wanders off still has a verdict in its first logits."""
    tops = [{"[": math.log(0.5), "A": math.log(0.3), " B": math.log(0.1)}]
    completion = Completion("[Question]", ["[", "Question", "]"], tops)
    strict = parse_reply(completion, ("A", "B", "C"), evidence=False)
    assert strict.label is None
    parsed = parse_reply(completion, ("A", "B", "C"), evidence=False, constrained=True)
    assert parsed.label == "A"
    assert parsed.probs is not None
    np.testing.assert_allclose(parsed.probs, [0.75, 0.25, 0.0])


def test_constrained_verdict_refuses_when_labels_hold_little_mass() -> None:
    """Below MIN_LABEL_MASS on the labels the reply is a failure, not a verdict."""
    low = MIN_LABEL_MASS / 2
    tops = [{"The": math.log(1 - low), "A": math.log(low)}]
    completion = Completion("The answer", ["The", " answer"], tops)
    parsed = parse_reply(completion, ("A", "B", "C"), evidence=False, constrained=True)
    assert parsed.label is None
    assert parsed.error is not None
    assert "hold only 0.025" in parsed.error


def test_constrained_verdict_needs_log_probabilities() -> None:
    """Without log-probabilities a constrained reply cannot give a verdict."""
    parsed = parse_reply(Completion("A"), ("A", "B"), evidence=False, constrained=True)
    assert parsed.label is None
    assert parsed.error == "parse failure: no log-probabilities"


def test_alternatives_with_the_same_text_add_their_probabilities() -> None:
    """Hand case: 0.2 and 0.3 under one text give 0.5; other texts stay apart."""
    import math

    from prefkit.judge.types import merge_alternatives

    got = merge_alternatives(
        [("A", math.log(0.2)), ("B", math.log(0.1)), ("A", math.log(0.3))]
    )
    assert got.keys() == {"A", "B"}
    assert got["A"] == pytest.approx(math.log(0.5), abs=1e-12)
    assert got["B"] == pytest.approx(math.log(0.1), abs=1e-12)
