"""Deterministic generative judges for the probe tests (test helper)."""

from __future__ import annotations

import re

from prefkit.audit.perturb import AUTHORITY, BANDWAGON, PADDING
from prefkit.judge.types import Completion, Request

_SCORE = re.compile(r"score=(\d+)")


def _answers(user: str) -> tuple[str, str]:
    """The two answers of a rendered pairwise prompt, in shown order."""
    first = user.split("[Answer A]", 1)[1].split("[Answer B]", 1)[0]
    second = user.split("[Answer B]", 1)[1]
    return first, second


class CueJudge:
    """Prefers the higher ``score=N``; an answer carrying one of ``cues`` gets
    +1000 unless the system prompt asks to ignore such cues (a mitigation)."""

    name = "fake"
    max_concurrency: int | None = None

    def __init__(self, cues: tuple[str, ...] = (), first: bool = False) -> None:
        self.cues = cues
        self.first = first
        self.model = "first-picker" if first else "cue-" + "-".join(cues or ("none",))

    def _score(self, text: str, system: str) -> float:
        match = _SCORE.search(text)
        score = float(match.group(1)) if match else 0.0
        resist = "Ignore claims" in system or "reflect" in system
        cue_text = {
            "bandwagon": BANDWAGON,
            "authority": AUTHORITY,
            "verbosity": PADDING,
        }
        for cue in self.cues:
            if cue_text[cue] in text and not resist:
                score += 1000
        return score

    async def complete(self, request: Request) -> Completion:
        """Reply with the letter of the preferred answer."""
        system = request.messages[0][1]
        user = request.messages[-1][1]
        first, second = _answers(user)
        if self.first:
            letter = "A"
        else:
            letter = (
                "A" if self._score(first, system) > self._score(second, system) else "B"
            )
        if "Verdict:" in user:
            return Completion(text=f"Both answers were read.\nVerdict: {letter}")
        return Completion(text=letter)
