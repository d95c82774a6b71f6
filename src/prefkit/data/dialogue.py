"""Dialogues as text (Anthropic HH style) and as chat messages.

HH transcripts read ``"\\n\\nHuman: ...\\n\\nAssistant: ..."``. The prompt of a
preference pair is the shared dialogue prefix up to and including the last
``"\\n\\nAssistant:"`` marker both transcripts share; chosen and rejected are
what follows it, so ``prompt + chosen`` gives back the chosen transcript
exactly. The same split on message lists keeps the shared leading messages
as the prompt.
"""

from __future__ import annotations

import re
from typing import Any

Message = dict[str, str]

ASSISTANT = "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant|System):")
_ROLES = {"Human": "user", "Assistant": "assistant", "System": "system"}
_SPEAKERS = {role: speaker for speaker, role in _ROLES.items()}


def parse_transcript(text: str) -> list[Message] | None:
    """HH text as messages; None when it does not start with a turn marker."""
    parts = _TURN.split(text)
    if parts[0].strip() or len(parts) < 3:
        return None
    speakers, contents = parts[1::2], parts[2::2]
    return [
        {"role": _ROLES[s], "content": c.strip()}
        for s, c in zip(speakers, contents, strict=True)
    ]


def render_messages(messages: list[Message], *, continuation: bool = False) -> str:
    """Messages as HH text; ``continuation`` drops the first marker's speaker.

    A continuation (chosen/rejected after a prompt ending in ``Assistant:``)
    starts with the first message's content after one space.
    """
    pieces = []
    for k, m in enumerate(messages):
        speaker = _SPEAKERS.get(m["role"], m["role"].capitalize())
        if continuation and k == 0:
            pieces.append(f" {m['content']}")
        else:
            pieces.append(f"\n\n{speaker}: {m['content']}")
    return "".join(pieces)


def common_prefix_length(a: str, b: str) -> int:
    """Number of leading characters ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def split_text_pair(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """(prompt, chosen, rejected) of two HH transcripts; None if no shared turn."""
    shared = common_prefix_length(chosen, rejected)
    end = chosen.rfind(ASSISTANT, 0, shared)
    if end < 0:
        return None
    cut = end + len(ASSISTANT)
    return chosen[:cut], chosen[cut:], rejected[cut:]


def split_message_pair(
    chosen: list[Any], rejected: list[Any]
) -> tuple[list[Message], list[Message], list[Message]] | None:
    """(prompt, chosen, rejected) messages: the shared leading messages first.

    The prompt is cut back so that both continuations start with an
    assistant message. None when nothing is shared.
    """
    k = 0
    while k < min(len(chosen), len(rejected)) and chosen[k] == rejected[k]:
        k += 1
    # the continuation must start at an assistant turn, even when the two
    # transcripts are identical or share part of the last answer's turns
    while k > 0 and (k >= len(chosen) or chosen[k].get("role") != "assistant"):
        k -= 1
    if k == 0:
        return None
    return list(chosen[:k]), list(chosen[k:]), list(rejected[k:])
