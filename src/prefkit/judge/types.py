"""Requests, completions and failures shared by every judge backend."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from prefkit.errors import PrefkitError


class JudgeError(PrefkitError):
    """A judge was misconfigured or could not be used (bad spec, bad file)."""


class TransientError(Exception):
    """A request failed in a way worth retrying (timeout, 429, 5xx, reset)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentError(Exception):
    """A request failed in a way that retrying cannot fix (4xx, bad reply)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """One chat request to a generative backend.

    Attributes
    ----------
    messages : tuple of (role, content) pairs
        The conversation, system prompt first.
    max_tokens : int
        Most tokens to generate.
    temperature : float
        Sampling temperature (0 is greedy).
    top_logprobs : int
        How many alternatives to return per generated token (0: none).
    seed : int
        Sampling seed sent to the server.
    sample : int
        Index of this sample among the k drawn for one item; part of the
        cache key so k samples are k entries.
    """

    messages: tuple[tuple[str, str], ...]
    max_tokens: int = 16
    temperature: float = 0.0
    top_logprobs: int = 20
    seed: int = 0
    sample: int = 0

    def key(self, backend: str, model: str) -> str:
        """Cache key: a hash of backend, model, prompt, sampling and sample index."""
        # built by hand: dataclasses.asdict is slow on the cache-hit path
        payload = {
            "backend": backend,
            "model": model,
            "messages": [list(m) for m in self.messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_logprobs": self.top_logprobs,
            "seed": self.seed,
            "sample": self.sample,
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Completion:
    """A backend's reply.

    Attributes
    ----------
    text : str
        The generated text.
    tokens : list of str
        The generated tokens (empty when the backend does not say).
    top_logprobs : list of dict
        For each generated token, its alternatives as ``{token: logprob}``
        (empty when the backend gives no log-probabilities).
    """

    text: str
    tokens: list[str] = field(default_factory=list)
    top_logprobs: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> str:
        """The completion as JSON text (for the cache)."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Completion:
        """A completion back from :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        return cls(
            text=str(data["text"]),
            tokens=list(data.get("tokens", [])),
            top_logprobs=[dict(d) for d in data.get("top_logprobs", [])],
        )


def merge_alternatives(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Alternatives ``(token text, logprob)`` as ``{text: logprob}``.

    Different tokens can decode to the same text (and llama.cpp may list an
    empty one); their probabilities add: :math:`\\log(e^a + e^b)`.
    """
    out: dict[str, float] = {}
    for token, value in pairs:
        value = float(value)
        old = out.get(token)
        if old is None:
            out[token] = value
        else:
            high, low = max(old, value), min(old, value)
            out[token] = high + math.log1p(math.exp(low - high))
    return out


@dataclass(frozen=True)
class Outcome:
    """What became of one request: a completion or a failure, with history.

    Attributes
    ----------
    completion : Completion or None
        The reply, None when every attempt failed.
    failures : tuple of str
        The reason of each failed attempt, in order (empty when the first
        attempt succeeded).
    cached : bool
        True when the reply came from the cache (no request was sent).
    """

    completion: Completion | None
    failures: tuple[str, ...] = ()
    cached: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    Attributes
    ----------
    max_retries : int, default=5
        Retries after the first attempt (transient failures only).
    base_delay : float, default=0.5
        Seconds before the first retry; doubles each retry.
    max_delay : float, default=30.0
        Cap of one delay.
    jitter : float, default=0.5
        Each delay is multiplied by a uniform draw in ``[1 - jitter, 1 + jitter]``.
    timeout : float, default=120.0
        Seconds one attempt may take before it counts as a timeout.
    max_rate : float or None, default=None
        Most attempts started per second (a rate limit shared by all
        requests in flight); None for no limit.
    """

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    timeout: float = 120.0
    max_rate: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise JudgeError(f"max_retries must be >= 0 (got {self.max_retries})")
        if self.base_delay < 0 or self.max_delay < 0:
            raise JudgeError("base_delay and max_delay must be >= 0")
        if not 0 <= self.jitter <= 1:
            raise JudgeError(f"jitter must be in [0, 1] (got {self.jitter})")
        if self.timeout <= 0:
            raise JudgeError(f"timeout must be > 0 seconds (got {self.timeout})")
        if self.max_rate is not None and not self.max_rate > 0:
            raise JudgeError(f"max_rate must be > 0 or None (got {self.max_rate})")

    def delay(self, attempt: int, u: float) -> float:
        """Seconds to wait before retry ``attempt`` (0-based), given ``u`` in [0, 1)."""
        raw = min(self.max_delay, self.base_delay * 2.0**attempt)
        return raw * (1.0 - self.jitter + 2.0 * self.jitter * u)
