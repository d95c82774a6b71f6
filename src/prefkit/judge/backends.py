"""Judge backends: one registry, three small protocols.

A judge spec string ``NAME[:ARG]`` picks a factory from :data:`BACKENDS`
(``local``, ``likelihood``, ``openai:MODEL@URL``, ``replay:FILE``); other
packages add theirs with :func:`register_backend` (the reward-model package
adds ``rm:PATH``). A backend implements one of the protocols below; the
protocols and the cache decide everything else.

:class:`GenerativeBackend`
    Answers chat requests: ``async complete(request) -> Completion`` raising
    :class:`~prefkit.judge.types.TransientError` (retried) or
    :class:`~prefkit.judge.types.PermanentError` (recorded). Judges that read
    a verdict from text (and from verdict-token log-probabilities) use it.
:class:`ResponseScorer`
    A non-generative pair scorer that scores each response on its own:
    ``score_responses(prompts, responses) -> array of shape (n,)``, higher is
    better, plus ``scale`` (float > 0). The judge turns two scores into
    :math:`p_a = \\sigma((s_a - s_b) / \\text{scale})` (Bradley-Terry [BT52]),
    caches each score and judges both orders for free (a scorer has no
    position). A reward model implements this.
:class:`PairScorer`
    A non-generative scorer that sees both responses:
    ``score_pairs(prompts, first, second) -> array of p(first wins)``. Judged
    in both orders like a generative judge, each score cached.

Every backend also has ``name`` (the backend id, e.g. ``"openai"``) and
``model`` (the model id); ``f"{name}:{model}"`` becomes the ``judge`` column.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from prefkit.judge.types import (
    Completion,
    JudgeError,
    PermanentError,
    Request,
    TransientError,
    merge_alternatives,
)

logger = logging.getLogger("prefkit.judge")

#: Environment variable holding the API key of ``openai:`` judges (servers
#: that need no key, such as llama.cpp's, get the placeholder ``"EMPTY"``).
API_KEY_ENV = "OPENAI_API_KEY"


@runtime_checkable
class GenerativeBackend(Protocol):
    """A backend that answers chat requests (see the module docstring)."""

    name: str
    model: str
    #: Most requests in flight at once (None: no limit beyond concurrency).
    max_concurrency: int | None

    async def complete(self, request: Request) -> Completion:
        """The reply to ``request``; raises TransientError or PermanentError."""
        ...


@runtime_checkable
class ResponseScorer(Protocol):
    """A backend that scores each response alone (see the module docstring)."""

    name: str
    model: str
    scale: float

    def score_responses(
        self, prompts: Sequence[str], responses: Sequence[str]
    ) -> NDArray[np.float64]:
        """One score per (prompt, response), higher is better."""
        ...


@runtime_checkable
class PairScorer(Protocol):
    """A backend that scores a pair at once (see the module docstring)."""

    name: str
    model: str

    def score_pairs(
        self, prompts: Sequence[str], first: Sequence[str], second: Sequence[str]
    ) -> NDArray[np.float64]:
        """Probability that the response shown first wins, per pair."""
        ...


Factory = Callable[[str], Any]
BACKENDS: dict[str, Factory] = {}

#: Backends registered by other packages, imported the first time their name
#: is used (so ``prefkit judge --judge rm:PATH`` works without an import).
PLUGINS: dict[str, str] = {"rm": "prefkit.reward.backend"}


def register_backend(name: str, factory: Factory) -> None:
    """Make ``NAME[:ARG]`` judge specs build backends with ``factory(ARG)``.

    Parameters
    ----------
    name : str
        The spec prefix (letters, digits, ``_`` and ``-``).
    factory : callable
        ``factory(arg) -> backend``; ``arg`` is the text after the first
        colon (empty when none). It should raise :class:`JudgeError` on a bad
        argument.

    Examples
    --------
    >>> class Const:
    ...     name, model, scale = "const", "one", 1.0
    ...     def score_responses(self, prompts, responses):
    ...         return np.ones(len(responses))
    >>> register_backend("const", lambda arg: Const())
    >>> make_backend("const").model
    'one'
    """
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise JudgeError(
            f"backend name {name!r} is not valid; use letters, digits, _ and -"
        )
    BACKENDS[name] = factory


def make_backend(spec: str | Any) -> Any:
    """The backend for a spec string (a backend object is returned as it is).

    Raises
    ------
    JudgeError
        For an unknown backend name, listing the known ones, or for an object
        that implements none of the protocols.
    """
    if not isinstance(spec, str):
        protocols = (GenerativeBackend, ResponseScorer, PairScorer)
        if not isinstance(spec, protocols) and not hasattr(spec, "verdicts"):
            raise JudgeError(
                f"judge {type(spec).__name__} implements no judge protocol; "
                "give it complete(), score_responses() or score_pairs()"
            )
        return spec
    name, _, arg = spec.partition(":")
    if name not in BACKENDS and name in PLUGINS:
        importlib.import_module(PLUGINS[name])
    try:
        factory = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise JudgeError(
            f"unknown judge {spec!r}: backend {name!r} is not registered; "
            f"expected one of {known} (e.g. local, openai:MODEL@URL, replay:FILE)"
        ) from None
    return factory(arg)


def check_judge_spec(spec: str) -> None:
    """Raise :class:`JudgeError` unless ``spec`` names a known backend.

    Only the name is checked (no model is loaded, no server is called), so a
    misspelled judge is refused before any generation or judging.
    """
    name = spec.partition(":")[0]
    if name in BACKENDS or name in PLUGINS:
        return
    known = ", ".join(sorted({*BACKENDS, *PLUGINS}))
    raise JudgeError(
        f"unknown judge {spec!r}: backend {name!r} is not registered; "
        f"expected one of {known} (e.g. local, openai:MODEL@URL, replay:FILE)"
    )


def judge_id(backend: Any) -> str:
    """The ``judge`` column value of a backend: ``name:model``."""
    return f"{backend.name}:{backend.model}"


class OpenAIBackend:
    """Any OpenAI-compatible chat server through the official client.

    Parameters
    ----------
    model : str
        Model name sent to the server.
    base_url : str or None, default=None
        Server address (e.g. ``http://127.0.0.1:8000/v1``); None is OpenAI's.
    api_key_env : str, default="OPENAI_API_KEY"
        Environment variable holding the key.
    timeout : float, default=120.0
        Seconds one attempt may take.
    """

    name = "openai"
    max_concurrency: int | None = None

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = API_KEY_ENV,
        timeout: float = 120.0,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key = os.environ.get(api_key_env) or "EMPTY"
        self.timeout = timeout
        self._clients: dict[int, Any] = {}

    def _client(self) -> Any:
        # one client per event loop: httpx connections belong to their loop
        from openai import AsyncOpenAI

        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients = {
                loop: AsyncOpenAI(
                    base_url=self.base_url,
                    api_key=self.api_key,
                    timeout=self.timeout,
                    max_retries=0,
                )
            }
        return self._clients[loop]

    async def start(self) -> None:
        """Create this event loop's client before any request is timed."""
        self._client()

    async def stop(self) -> None:
        """Close this event loop's client (its connections die with the loop)."""
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    async def complete(self, request: Request) -> Completion:
        """Send one chat completion; map errors to transient or permanent."""
        import openai

        extra: dict[str, Any] = {}
        if request.top_logprobs > 0:
            extra = {"logprobs": True, "top_logprobs": request.top_logprobs}
        try:
            reply = await self._client().chat.completions.create(
                model=self.model,
                messages=[{"role": r, "content": c} for r, c in request.messages],
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed,
                **extra,
            )
        except openai.APITimeoutError:
            raise TransientError("timeout") from None
        except openai.APIConnectionError as exc:
            raise TransientError(f"connection error: {exc.__cause__ or exc}") from None
        except openai.RateLimitError:
            raise TransientError("429 rate limited") from None
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise TransientError(f"{exc.status_code} server error") from None
            raise PermanentError(f"{exc.status_code} {exc.message}") from None
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise TransientError(f"malformed reply: {exc}") from None
        return _completion_of(reply)


def _completion_of(reply: Any) -> Completion:
    """A :class:`Completion` from an OpenAI chat-completion object."""
    choices = getattr(reply, "choices", None)
    if not choices or choices[0].message is None:
        raise TransientError("malformed reply: no choices")
    choice = choices[0]
    text = choice.message.content or ""
    tokens: list[str] = []
    tops: list[dict[str, float]] = []
    content = getattr(choice.logprobs, "content", None) or []
    for item in content:
        tokens.append(str(item.token))
        alts = item.top_logprobs or [{"token": item.token, "logprob": item.logprob}]
        tops.append(
            merge_alternatives(
                (a["token"], a["logprob"])
                if isinstance(a, dict)
                else (a.token, a.logprob)
                for a in alts
            )
        )
    return Completion(text=text, tokens=tokens, top_logprobs=tops)


def _openai_factory(arg: str) -> OpenAIBackend:
    model, _, url = arg.partition("@")
    if not model:
        raise JudgeError(
            f"judge 'openai:{arg}' names no model; write openai:MODEL@URL, "
            "e.g. openai:smollm2@http://127.0.0.1:8000/v1"
        )
    return OpenAIBackend(model, base_url=url or None)


def _local_factory(arg: str) -> Any:
    from prefkit.judge.local import LocalBackend

    return LocalBackend(runtime=arg or "auto")


def _likelihood_factory(arg: str) -> Any:
    from prefkit.judge.local import LikelihoodScorer

    return LikelihoodScorer(scale=float(arg) if arg else 0.25)


def _replay_factory(arg: str) -> Any:
    from prefkit.judge.replay import ReplayJudge

    return ReplayJudge.from_spec(arg)


register_backend("openai", _openai_factory)
register_backend("local", _local_factory)
register_backend("likelihood", _likelihood_factory)
register_backend("replay", _replay_factory)
