"""LLM judges: backends, protocols, calibrations, juries and resumable runs.

Entry points
------------
:func:`make_pairs`, :func:`judge_pairs` (pairwise, dual order, soft labels),
:func:`grade` (pointwise), :func:`rank_candidates` (listwise),
:func:`judge_jury` and :func:`debate_pairs`, :func:`route_to_humans`,
:func:`generate` (candidate responses through the same backends and cache).

Backends
--------
A judge is a spec string ``NAME[:ARG]`` resolved by the registry in
:mod:`prefkit.judge.backends` (``local``, ``likelihood``,
``openai:MODEL@URL`` with the key in ``$OPENAI_API_KEY``, ``replay:FILE``)
or a backend object. Other packages add backends with
:func:`register_backend`; a non-generative *pair scorer* (a reward model)
implements either

- ``score_responses(prompts, responses) -> array (n,)`` (higher is better)
  with an attribute ``scale > 0``; prefkit sets
  ``p_a = sigmoid((s_a - s_b) / scale)``, or
- ``score_pairs(prompts, first, second) -> array (n,)`` of the probability
  that the response shown first wins (judged in both orders),

plus the attributes ``name`` and ``model``. See
:mod:`prefkit.judge.backends` for the generative protocol.
"""

from prefkit.judge.aggregate import positional_consistency
from prefkit.judge.backends import (
    BACKENDS,
    GenerativeBackend,
    OpenAIBackend,
    PairScorer,
    ResponseScorer,
    make_backend,
    register_backend,
)
from prefkit.judge.cache import Cache
from prefkit.judge.generate import generate
from prefkit.judge.jury import debate_pairs, judge_jury, jury_verdicts
from prefkit.judge.listwise import rank_candidates
from prefkit.judge.pairwise import SCALES, JudgeFailureWarning, judge_pairs, make_pairs
from prefkit.judge.pointwise import grade
from prefkit.judge.route import route_to_humans, write_queue
from prefkit.judge.runner import ProgressEvent
from prefkit.judge.types import (
    Completion,
    JudgeError,
    Request,
    RetryPolicy,
)

__all__ = [
    "BACKENDS",
    "SCALES",
    "Cache",
    "Completion",
    "GenerativeBackend",
    "JudgeError",
    "JudgeFailureWarning",
    "OpenAIBackend",
    "PairScorer",
    "ProgressEvent",
    "Request",
    "ResponseScorer",
    "RetryPolicy",
    "debate_pairs",
    "generate",
    "grade",
    "judge_jury",
    "judge_pairs",
    "jury_verdicts",
    "make_backend",
    "make_pairs",
    "positional_consistency",
    "rank_candidates",
    "register_backend",
    "route_to_humans",
    "write_queue",
]
