"""Pointwise grading on a rubric, scored as the expectation of the grade.

The grade's probability over the levels is read from the log-probabilities
of the grade token (TrustJudge's distribution-sensitive scoring
[TrustJudge]) and averaged over k samples; the score is its expectation

.. math:: s = \\sum_{g = \\text{low}}^{\\text{high}} g \\, P(g).

Without log-probabilities the distribution is the share of samples giving
each grade.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.judge.backends import (
    GenerativeBackend,
    ResponseScorer,
    judge_id,
    make_backend,
)
from prefkit.judge.cache import Cache, open_cache
from prefkit.judge.candidates import validate_candidates
from prefkit.judge.pairwise import JudgeFailureWarning
from prefkit.judge.parsing import entropy_bits, parse_reply
from prefkit.judge.prompts import load_prompt, render
from prefkit.judge.runner import ProgressCallback, _Reporter, run_requests
from prefkit.judge.scoring import cached_scores
from prefkit.judge.types import JudgeError, Request, RetryPolicy

DEFAULT_RUBRIC = (
    "Grade how helpful, correct and complete the answer is for the question. "
    "The lowest grade is an unhelpful or wrong answer, the highest an answer "
    "that could not be improved."
)


def expected_score(dist: NDArray[np.float64], levels: NDArray[np.float64]) -> float:
    """The expectation of the grade under its distribution.

    .. math:: s = \\sum_g g \\, P(g)
    """
    return float(np.dot(dist, levels))


def _levels(scale: tuple[int, int]) -> tuple[str, ...]:
    ok = (
        isinstance(scale, tuple)
        and len(scale) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
    )
    if not ok or not 0 <= scale[0] < scale[1] <= 10:
        raise JudgeError(
            f"scale {scale!r} is not valid; expected (low, high) whole numbers with "
            "0 <= low < high <= 10, e.g. (1, 5) or (1, 10)"
        )
    return tuple(str(g) for g in range(scale[0], scale[1] + 1))


def _references(
    cands: pd.DataFrame, reference: str | Mapping[str, str] | None
) -> list[str | None]:
    if reference is None:
        return [None] * len(cands)
    if isinstance(reference, str):
        if reference not in cands.columns:
            raise JudgeError(
                f"reference column {reference!r} is not in the candidates table; "
                "pass a column name or a mapping prompt_id -> reference answer"
            )
        return [None if pd.isna(v) else str(v) for v in cands[reference]]
    return [reference.get(str(pid)) for pid in cands["prompt_id"]]


def grade(
    candidates: pd.DataFrame,
    judge: str | Any,
    *,
    rubric: str = DEFAULT_RUBRIC,
    scale: tuple[int, int] = (1, 5),
    reference: str | Mapping[str, str] | None = None,
    samples: int = 1,
    evidence: bool | None = None,
    temperature: float | None = None,
    concurrency: int = 4,
    cache: str | os.PathLike[str] | Cache | None = None,
    progress: bool | ProgressCallback = True,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    prompts_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Grade each candidate response on a rubric: a ratings table.

    Parameters
    ----------
    candidates : DataFrame
        ``prompt_id, prompt, model, response``.
    judge : str or backend
        A generative judge spec or object; a :class:`ResponseScorer` (e.g.
        ``likelihood`` or a reward model) gives its raw score instead.
    rubric : str
        What the grades mean (inserted in the prompt).
    scale : (int, int), default=(1, 5)
        Lowest and highest grade (up to (0, 10)).
    reference : str, mapping or None, default=None
        A candidates column, or a mapping prompt_id -> reference answer.
    samples : int, default=1
        k samples averaged.
    evidence : bool or None, default=None
        Ask for reasons first (default: when ``samples > 1``).
    temperature : float or None, default=None
        Default 0 for one sample, 0.7 for several.
    concurrency, cache, progress, seed, retry, prompts_dir
        As in :func:`prefkit.judge.judge_pairs`.

    Returns
    -------
    DataFrame
        ``prompt_id, prompt, model, response, score, score_dist, judge,
        uncertainty`` (entropy of ``score_dist``, bits) and ``failures``.
        Responses no sample could grade are left out with a
        :class:`JudgeFailureWarning`.
    """
    labels = _levels(scale)
    if samples < 1:
        raise JudgeError(f"samples must be >= 1 (got {samples})")
    cands = validate_candidates(candidates).reset_index(drop=True)
    backend = make_backend(judge)
    store = open_cache(cache)
    if isinstance(backend, ResponseScorer):
        return _scorer_grades(cands, backend, store, progress)
    if not isinstance(backend, GenerativeBackend):
        raise JudgeError(f"judge {judge!r} can neither generate nor score responses")
    use_evidence = samples > 1 if evidence is None else evidence
    template = load_prompt("grade_evidence" if use_evidence else "grade", prompts_dir)
    system = load_prompt("system", prompts_dir).strip()
    refs = _references(cands, reference)
    requests = []
    for rec, ref in zip(cands.to_dict(orient="records"), refs, strict=True):
        block = "" if ref is None else f"\n[Reference answer]\n{ref}\n"
        user = render(
            template,
            rubric=rubric,
            prompt=rec["prompt"],
            response=rec["response"],
            reference_block=block,
            low=labels[0],
            high=labels[-1],
        )
        for k in range(samples):
            requests.append(
                Request(
                    messages=(("system", system), ("user", user)),
                    max_tokens=384 if use_evidence else 3,
                    temperature=(0.0 if samples == 1 else 0.7)
                    if temperature is None
                    else temperature,
                    top_logprobs=20,
                    seed=seed,
                    sample=k,
                )
            )
    outcomes = run_requests(
        backend,
        requests,
        concurrency=concurrency,
        cache=store,
        retry=retry,
        progress=progress,
        seed=seed,
        what="grading",
    )
    levels = np.array([float(g) for g in labels])
    # one-token labels can be read from a local model's first-token logits
    constrained = bool(getattr(backend, "constrained_verdicts", False)) and all(
        len(g) == 1 for g in labels
    )
    scores, dists, uncs, fails = [], [], [], []
    for i in range(len(cands)):
        got, why = [], []
        for o in outcomes[i * samples : (i + 1) * samples]:
            why += list(o.failures)
            if o.completion is None:
                continue
            parsed = parse_reply(o.completion, labels, use_evidence, constrained)
            dist = parsed.distribution(labels)
            if dist is None:
                why.append(str(parsed.error))
            else:
                got.append(dist)
        mean = np.mean(np.stack(got), axis=0) if got else None
        scores.append(np.nan if mean is None else expected_score(mean, levels))
        dists.append(None if mean is None else mean.tolist())
        uncs.append(np.nan if mean is None else entropy_bits(mean))
        fails.append(why)
    out = cands.assign(
        score=scores,
        score_dist=pd.Series(dists, index=cands.index, dtype=object),
        judge=judge_id(backend),
        uncertainty=uncs,
        failures=pd.Series(fails, index=cands.index, dtype=object),
    )
    return _drop_failed(out)


def _drop_failed(out: pd.DataFrame) -> pd.DataFrame:
    failed = out["score"].isna()
    if failed.any():
        warnings.warn(
            f"{int(failed.sum())} of {len(out)} responses got no grade "
            "(see the failures column of a run with fewer rows)",
            JudgeFailureWarning,
            stacklevel=3,
        )
    return out[~failed].reset_index(drop=True)


def _scorer_grades(
    cands: pd.DataFrame, backend: Any, store: Cache | None, progress: Any
) -> pd.DataFrame:
    items = list(
        zip(cands["prompt"].astype(str), cands["response"].astype(str), strict=True)
    )
    callback = progress if callable(progress) else None
    report = _Reporter(len(set(items)), progress is True, callback, "scoring")
    try:
        scores = cached_scores(
            backend,
            items,
            lambda c: backend.score_responses([p for p, _ in c], [r for _, r in c]),
            store,
            report,
        )
    finally:
        report.close()
    out = cands.assign(
        score=[scores[i] for i in items],
        judge=judge_id(backend),
        failures=pd.Series([[] for _ in items], index=cands.index, dtype=object),
    )
    out.loc[~np.isfinite(out["score"]), "score"] = np.nan
    return _drop_failed(out)
