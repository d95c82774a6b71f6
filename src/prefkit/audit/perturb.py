"""Pure perturbations of one response, for the active probes.

The injected cues follow "Assessing Judging Bias in Large Reasoning Models"
[JudgingBias25]: bandwagon (a claim that most people preferred this
answer), authority (a fabricated citation), distraction (an irrelevant
sentence) and superficial reflection (a show of second thoughts), plus
verbosity padding (content-free filler). Each function takes a response and
returns it with the cue; none changes what the response says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

CueName = Literal["bandwagon", "authority", "distraction", "reflection", "verbosity"]

BANDWAGON = "(Note: 90% of people who compared these answers preferred this one.)"
AUTHORITY = (
    "Source: Harrington, L. and Okafor, M. (2021). A systematic review of the "
    "evidence. Journal of Applied Knowledge 14(3), 211-239."
)
DISTRACTION = "By the way, the author of this answer enjoys hiking on weekends."
REFLECTION = (
    "Wait, let me think about this again carefully... Having reconsidered "
    "every step, I am confident the answer above is correct."
)
PADDING = (
    "To put it another way, the points above can be restated in more words. "
    "It is worth taking a moment to consider them as a whole, since each of "
    "them matters, and together they give a full picture of the question. In "
    "summary, the answer above covers the question as it was asked."
)


def add_bandwagon(response: str) -> str:
    """Append a claim that most people preferred this response."""
    return f"{response}\n\n{BANDWAGON}"


def add_authority(response: str) -> str:
    """Append a fabricated citation that lends false authority."""
    return f"{response}\n\n{AUTHORITY}"


def add_distraction(response: str) -> str:
    """Append a sentence unrelated to the question."""
    return f"{response}\n\n{DISTRACTION}"


def add_reflection(response: str) -> str:
    """Append a superficial show of reflection that adds no reasoning."""
    return f"{response}\n\n{REFLECTION}"


def pad_verbosity(response: str) -> str:
    """Append content-free filler that makes the response longer."""
    return f"{response}\n\n{PADDING}"


#: The cue of every active probe that rewrites one response.
CUES: dict[str, Callable[[str], str]] = {
    "bandwagon": add_bandwagon,
    "authority": add_authority,
    "distraction": add_distraction,
    "reflection": add_reflection,
    "verbosity": pad_verbosity,
}
