"""Judging pairs with non-generative scorers (likelihood, reward models).

Scores are cached one by one under (backend, model, prompt, response(s)), so
a scorer's run resumes and re-runs for free like a generative judge's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.judge.aggregate import Sample
from prefkit.judge.backends import ResponseScorer
from prefkit.judge.cache import Cache
from prefkit.judge.runner import ProgressCallback, _Reporter

#: Scores computed between two cache commits.
CHUNK = 16


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function, stable for large ``|x|`` (NaN stays NaN, quietly)."""
    with np.errstate(invalid="ignore"):
        return np.exp(-np.logaddexp(0.0, -x))


def p_a_from_scores(
    s_a: NDArray[np.float64], s_b: NDArray[np.float64], scale: float
) -> NDArray[np.float64]:
    """Bradley-Terry probability that a wins from two scores [BT52].

    .. math:: p_a = \\sigma\\bigl((s_a - s_b) / \\text{scale}\\bigr)
    """
    return sigmoid((np.asarray(s_a, float) - np.asarray(s_b, float)) / scale)


def _key(backend: Any, *texts: str) -> str:
    payload = json.dumps(
        ["score", backend.name, backend.model, *texts], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cached_scores(
    backend: Any,
    items: Sequence[tuple[str, ...]],
    score: Any,
    cache: Cache | None,
    report: _Reporter,
) -> dict[tuple[str, ...], float]:
    """Score each distinct item once: from the cache, else ``score`` in chunks."""
    unique = list(dict.fromkeys(items))
    found: dict[tuple[str, ...], float] = {}
    todo: list[tuple[str, ...]] = []
    for item in unique:
        hit = cache.get(_key(backend, *item)) if cache is not None else None
        if hit is None:
            todo.append(item)
        else:
            found[item] = float(json.loads(hit))
            report.step(cached=True, failed=False)
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        values = np.asarray(score(chunk), dtype=float)
        for item, value in zip(chunk, values, strict=True):
            found[item] = float(value)
            if cache is not None and np.isfinite(value):
                cache.put(
                    _key(backend, *item),
                    backend.name,
                    backend.model,
                    json.dumps(item, ensure_ascii=False),
                    json.dumps(float(value)),
                )
            report.step(cached=False, failed=not np.isfinite(value))
    return found


def _sample(p_a: float) -> Sample:
    if not np.isfinite(p_a):
        return Sample(None, None, "score is not finite")
    verdict = "a" if p_a > 0.5 else "b" if p_a < 0.5 else "tie"
    return Sample(np.array([p_a, 1.0 - p_a, 0.0]), verdict)


def scored_pairs(
    table: pd.DataFrame,
    backend: Any,
    orders: list[NDArray[np.bool_]],
    cache: Cache | None,
    progress: bool | ProgressCallback,
) -> list[list[list[Sample]]]:
    """Samples per order and row (one each) from a scorer backend."""
    prompts = table["prompt"].astype(str).tolist()
    resp_a = table["response_a"].astype(str).tolist()
    resp_b = table["response_b"].astype(str).tolist()
    callback = progress if callable(progress) else None
    if isinstance(backend, ResponseScorer):
        items: list[tuple[str, ...]] = [
            *zip(prompts, resp_a, strict=True),
            *zip(prompts, resp_b, strict=True),
        ]
        report = _Reporter(len(set(items)), progress is True, callback, "scoring")
        try:
            scores = cached_scores(
                backend,
                items,
                lambda c: backend.score_responses([p for p, _ in c], [r for _, r in c]),
                cache,
                report,
            )
        finally:
            report.close()
        s_a = np.array([scores[(p, r)] for p, r in zip(prompts, resp_a, strict=True)])
        s_b = np.array([scores[(p, r)] for p, r in zip(prompts, resp_b, strict=True)])
        p = p_a_from_scores(s_a, s_b, backend.scale)
        # a scorer sees no position: both orders hold the same score
        return [[[_sample(float(v))] for v in p] for _ in orders]
    out: list[list[list[Sample]]] = []
    for shown in orders:
        items = [
            (p, b, a) if s else (p, a, b)
            for p, a, b, s in zip(prompts, resp_a, resp_b, shown, strict=True)
        ]
        report = _Reporter(len(set(items)), progress is True, callback, "scoring")
        try:
            scores = cached_scores(
                backend,
                items,
                lambda c: backend.score_pairs(
                    [x[0] for x in c], [x[1] for x in c], [x[2] for x in c]
                ),
                cache,
                report,
            )
        finally:
            report.close()
        p_first = np.array([scores[i] for i in items])
        p_a = np.where(shown, 1.0 - p_first, p_first)
        out.append([[_sample(float(v))] for v in p_a])
    return out
