"""In-process fake judges for the judge tests."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from prefkit.judge.types import Completion, Request


def _answers(user: str) -> tuple[str, str]:
    m = re.search(r"\[Answer A\]\n(.*?)\n\n\[Answer B\]\n(.*?)\n\n", user, re.S)
    assert m is not None, user
    return m.group(1), m.group(2)


class FirstSlotJudge:
    """Always says "A" with P(A)=0.6, P(B)=0.3, P(C)=0.1: pure position bias."""

    name, model, max_concurrency = "fake", "first-slot", None

    def __init__(self) -> None:
        self.calls: list[Request] = []

    async def complete(self, request: Request) -> Completion:
        self.calls.append(request)
        tops = {"A": math.log(0.6), " B": math.log(0.3), "C": math.log(0.1)}
        return Completion("A", ["A"], [tops])


class LongerJudge:
    """Prefers the longer answer whatever its position (no log-probs)."""

    name, model, max_concurrency = "fake", "longer", None

    def __init__(self, evidence: bool = False) -> None:
        self.calls: list[Request] = []
        self.evidence = evidence

    async def complete(self, request: Request) -> Completion:
        self.calls.append(request)
        a, b = _answers(request.messages[-1][1])
        label = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "C"
        if self.evidence:
            # the k samples disagree on every third sample index
            if request.sample % 3 == 2:
                label = {"A": "B", "B": "A", "C": "C"}[label]
            return Completion(f"Both answers were read.\nVerdict: {label}")
        return Completion(label)


class GarbageJudge:
    """Answers text that is no verdict."""

    name, model, max_concurrency = "fake", "garbage", None

    async def complete(self, request: Request) -> Completion:
        return Completion("I think the first one, probably.")


class LengthScorer:
    """A response scorer: the score is the response's length in characters."""

    name, model, scale = "fakerm", "length", 1.0

    def __init__(self) -> None:
        self.scored = 0

    def score_responses(self, prompts, responses):
        self.scored += len(responses)
        return np.array([float(len(r)) for r in responses])


def candidates() -> pd.DataFrame:
    """Three models on two prompts; the longer response is meant to win."""
    return pd.DataFrame(
        {
            "prompt_id": ["p1"] * 3 + ["p2"] * 3,
            "prompt": ["Name a colour."] * 3 + ["Count to three."] * 3,
            "model": ["x", "y", "z"] * 2,
            "response": [
                "Red.",
                "Blue is one.",
                "Green is a colour.",
                "1 2 3",
                "1, 2, 3.",
                "One, two, three!",
            ],
        }
    )
