"""Strict parsing of judge replies and verdict probabilities from log-probs.

A reply is parsed in one of two formats, never by searching the text for a
label anywhere (which would match an echo of the template):

``direct``
    The reply *starts* with the label, optionally inside ``[[ ]]``, ``**``,
    quotes or parentheses, followed by nothing but punctuation or the end.
``evidence``
    The judge writes its reasons first (FairEval's multiple evidence
    [Wang23]) and its last non-empty line is ``Verdict: LABEL`` (markdown
    decorations allowed, nothing else on the line).

Anything else is a parse failure, recorded with the reply's start, never a
verdict. Where the backend returns top log-probabilities, the probability of
each label is read at the token where the parsed label starts, summing token
variants that differ only by leading spaces or decorations, and renormalised
over the allowed labels. A two-digit label ("10") split by the tokeniser into
"1" + "0" gets the mass of "1" times the probability of "0" at the next
position (known only when "1" was the generated token; otherwise the mass of
"1" stays with label "1").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from prefkit.judge.types import Completion

_DECOR = " \t\n\r*_[]()\"'`#"
_TAIL = re.compile(r"^[\s\]\)\*\"'`.,;:!_]*$")


@dataclass(frozen=True)
class Parsed:
    """A parsed reply.

    Attributes
    ----------
    label : str or None
        The label read from the text, None on a parse failure.
    probs : array of shape (n_labels,) or None
        Label probabilities from log-probs, renormalised; None without them.
    error : str or None
        Why parsing failed.
    """

    label: str | None
    probs: NDArray[np.float64] | None = None
    error: str | None = None

    def distribution(self, labels: Sequence[str]) -> NDArray[np.float64] | None:
        """Probabilities from log-probs, else a one-hot on the text's label."""
        if self.probs is not None:
            return self.probs
        if self.label is None:
            return None
        onehot = np.zeros(len(labels))
        onehot[list(labels).index(self.label)] = 1.0
        return onehot


def _match_label(text: str, labels: Sequence[str]) -> str | None:
    """The label ``text`` is made of, with decorations and trailing punctuation."""
    core = text.strip(_DECOR)
    # longest first, so "10" wins over "1"
    for label in sorted(labels, key=len, reverse=True):
        if core.lower() == label.lower():
            return label
    for label in sorted(labels, key=len, reverse=True):
        if core.lower().startswith(label.lower()):
            rest = core[len(label) :]
            if _TAIL.match(rest):
                return label
    return None


def find_label(
    text: str, labels: Sequence[str], evidence: bool
) -> tuple[str, int] | str:
    """The label and its character offset in ``text``, or a failure reason."""
    if not text.strip():
        return "empty reply"
    if evidence:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        last = lines[-1]
        m = re.match(r"^[\s*_#]*verdict[\s*_]*:[\s*_]*(.+?)\s*$", last, re.IGNORECASE)
        if m is None:
            return f"no 'Verdict:' line at the end (last line: {last[:60]!r})"
        label = _match_label(m.group(1), labels)
        if label is None:
            return f"verdict {m.group(1)[:40]!r} is not one of {', '.join(labels)}"
        start = text.rfind(last) + m.start(1)
        return label, start + _lead(m.group(1))
    head = text.lstrip()
    first = head.split(None, 1)[0] if head.split() else head
    label = _match_label(first, labels)
    if label is None:
        return f"reply does not start with one of {', '.join(labels)}: {text[:60]!r}"
    return label, len(text) - len(head) + _lead(first)


def _lead(fragment: str) -> int:
    """Characters of decoration before the label in ``fragment``."""
    return len(fragment) - len(fragment.lstrip(_DECOR))


def _token_at(tokens: Sequence[str], text: str, offset: int) -> int | None:
    """Index of the token covering character ``offset`` of ``text``."""
    joined = "".join(tokens)
    if not tokens or not (text.startswith(joined) or joined.startswith(text)):
        return None
    position = 0
    for i, token in enumerate(tokens):
        if position <= offset < position + len(token):
            return i
        position += len(token)
    return None


def label_probabilities(
    completion: Completion, labels: Sequence[str], offset: int
) -> NDArray[np.float64] | None:
    """Label probabilities at the token where the label starts, renormalised.

    Returns None when the backend gave no log-probabilities, the tokens do
    not line up with the text, or no allowed label is among the alternatives.
    """
    i = _token_at(completion.tokens, completion.text, offset)
    if i is None or i >= len(completion.top_logprobs):
        return None
    mass = np.zeros(len(labels))
    index = {label.lower(): k for k, label in enumerate(labels)}
    for token, logprob in completion.top_logprobs[i].items():
        core = token.strip(_DECOR).lower()
        if core in index:
            mass[index[core]] += math.exp(logprob)
    mass = _split_two_digit(completion, labels, i, mass)
    total = mass.sum()
    return None if total <= 0 else mass / total


def _split_two_digit(
    completion: Completion, labels: Sequence[str], i: int, mass: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Move the "1" -> "10" share when the tokeniser split "10" in two."""
    if "10" not in labels or "1" not in labels:
        return mass
    if completion.tokens[i].strip(_DECOR) != "1" or i + 1 >= len(
        completion.top_logprobs
    ):
        return mass
    following = completion.top_logprobs[i + 1]
    p_zero = sum(math.exp(lp) for t, lp in following.items() if t.strip() == "0")
    one, ten = list(labels).index("1"), list(labels).index("10")
    moved = mass[one] * p_zero
    mass = mass.copy()
    mass[one] -= moved
    mass[ten] += moved
    return mass


#: Least probability the allowed labels must hold at the first token for a
#: constrained verdict; below it the reply is a failure, not a verdict.
MIN_LABEL_MASS = 0.05


def constrained_verdict(completion: Completion, labels: Sequence[str]) -> Parsed:
    """The verdict read from the first token's distribution over the labels.

    For small local models (constrained decoding over the verdict tokens):
    the label probabilities at the answer's first position are renormalised
    over the allowed labels and the most probable label is the verdict,
    whatever text greedy decoding went on to write. When the labels hold
    less than ``MIN_LABEL_MASS`` of that position's probability (or no
    log-probabilities came back) the reply is a failure, never a verdict.
    """
    if not completion.top_logprobs:
        return Parsed(label=None, error="parse failure: no log-probabilities")
    mass = np.zeros(len(labels))
    index = {label.lower(): k for k, label in enumerate(labels)}
    for token, logprob in completion.top_logprobs[0].items():
        core = token.strip(_DECOR).lower()
        if core in index:
            mass[index[core]] += math.exp(logprob)
    if mass.sum() < MIN_LABEL_MASS:
        return Parsed(
            label=None,
            error=(
                f"parse failure: the labels {', '.join(labels)} hold only "
                f"{mass.sum():.3f} of the first token's probability "
                f"(reply {completion.text[:40]!r})"
            ),
        )
    probs = mass / mass.sum()
    return Parsed(label=list(labels)[int(np.argmax(probs))], probs=probs)


def parse_reply(
    completion: Completion,
    labels: Sequence[str],
    evidence: bool,
    constrained: bool = False,
) -> Parsed:
    """Parse a reply strictly and read label probabilities where available.

    ``constrained=True`` (direct replies only) reads the verdict from the
    first token's label distribution (:func:`constrained_verdict`).
    """
    if constrained and not evidence:
        return constrained_verdict(completion, labels)
    found = find_label(completion.text, labels, evidence)
    if isinstance(found, str):
        return Parsed(label=None, error=f"parse failure: {found}")
    label, offset = found
    probs = label_probabilities(completion, labels, offset)
    return Parsed(label=label, probs=probs)


def entropy_bits(counts: Sequence[float]) -> float:
    """Shannon entropy (bits) of a vector of counts or probabilities.

    .. math:: H = -\\sum_k q_k \\log_2 q_k, \\quad q_k = c_k / \\sum_j c_j
    """
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0:
        return float("nan")
    q = c[c > 0] / total
    return float(-(q * np.log2(q)).sum())
