"""Listwise judging: rank k candidates at once, in two opposite orders.

The answers are listed in a seeded random order and again reversed (the
listwise analogue of dual-order judging); the reply's last line must be
``Ranking: i > j > ...`` naming every answer number exactly once. The two
rankings are merged by Borda count (mean position), ties broken by the first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from prefkit.judge.backends import GenerativeBackend, judge_id, make_backend
from prefkit.judge.cache import Cache, open_cache
from prefkit.judge.candidates import validate_candidates
from prefkit.judge.prompts import load_prompt, render
from prefkit.judge.runner import ProgressCallback, run_requests
from prefkit.judge.types import JudgeError, Request, RetryPolicy


def parse_ranking(text: str, k: int) -> list[int] | str:
    """The 1-based answer numbers of a ``Ranking: ...`` last line, or a reason."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "empty reply"
    m = re.match(r"^[\s*_#]*ranking[\s*_]*:\s*(.+?)\s*$", lines[-1], re.IGNORECASE)
    if m is None:
        return f"no 'Ranking:' line at the end (last line: {lines[-1][:60]!r})"
    parts = [p.strip(" []*_.") for p in m.group(1).split(">")]
    if not all(p.isdigit() for p in parts):
        return f"ranking {m.group(1)[:60]!r} is not numbers separated by '>'"
    order = [int(p) for p in parts]
    if sorted(order) != list(range(1, k + 1)):
        return f"ranking {m.group(1)[:60]!r} does not name 1..{k} once each"
    return order


def borda(rankings: Sequence[Sequence[str]]) -> list[str]:
    """Merge rankings of the same items by mean position (stable on ties).

    .. math:: \\bar r_i = \\frac{1}{m}\\sum_{j=1}^m \\operatorname{pos}_j(i)
    """
    first = list(rankings[0])
    mean = {item: np.mean([list(r).index(item) for r in rankings]) for item in first}
    return sorted(first, key=lambda item: (mean[item], first.index(item)))


def rank_candidates(
    candidates: pd.DataFrame,
    judge: str | Any,
    *,
    both_orders: bool = True,
    concurrency: int = 4,
    cache: str | os.PathLike[str] | Cache | None = None,
    progress: bool | ProgressCallback = True,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    prompts_dir: str | os.PathLike[str] | None = None,
    max_tokens: int = 48,
) -> pd.DataFrame:
    """Rank each prompt's candidate responses with a generative judge.

    Parameters
    ----------
    candidates : DataFrame
        ``prompt_id, prompt, model, response`` (at least two models a prompt).
    judge : str or GenerativeBackend
        The ranking judge.
    both_orders : bool, default=True
        Also judge the reversed listing and merge by Borda count.
    concurrency, cache, progress, seed, retry, prompts_dir
        As in :func:`prefkit.judge.judge_pairs`.
    max_tokens : int, default=48
        Reply length.

    Returns
    -------
    DataFrame
        A rankings table ``prompt_id, prompt, ranked, judge`` plus
        ``rankings`` (each order's ranking) and ``failures``; prompts whose
        every order failed have ``ranked`` missing.
    """
    backend = make_backend(judge)
    if not isinstance(backend, GenerativeBackend):
        raise JudgeError(
            f"listwise ranking needs a generative judge ({judge!r} is not)"
        )
    cands = validate_candidates(candidates)
    template = load_prompt("listwise", prompts_dir)
    system = load_prompt("system", prompts_dir).strip()
    rng = np.random.default_rng(seed)
    jobs: list[tuple[str, str, list[str]]] = []
    requests: list[Request] = []
    groups = list(cands.groupby("prompt_id", sort=False))
    for pid, group in groups:
        if len(group) < 2:
            raise JudgeError(f"prompt_id {pid!r} has one candidate; ranking needs two")
        listing = list(rng.permutation(len(group)))
        for order in [listing, listing[::-1]] if both_orders else [listing]:
            models = [str(group["model"].iloc[i]) for i in order]
            answers = "\n\n".join(
                f"[Answer {n + 1}]\n{group['response'].iloc[i]}"
                for n, i in enumerate(order)
            )
            example = " > ".join(str(n + 1) for n in range(len(order)))
            user = render(
                template,
                k=str(len(order)),
                prompt=str(group["prompt"].iloc[0]),
                answers=answers,
                example=example,
            )
            jobs.append((str(pid), str(group["prompt"].iloc[0]), models))
            requests.append(
                Request(
                    (("system", system), ("user", user)),
                    max_tokens=max_tokens,
                    top_logprobs=0,
                    seed=seed,
                )
            )
    outcomes = run_requests(
        backend,
        requests,
        concurrency=concurrency,
        cache=open_cache(cache),
        retry=retry,
        progress=progress,
        seed=seed,
        what="ranking",
    )
    per_prompt: dict[str, dict[str, Any]] = {}
    for (pid, prompt, models), o in zip(jobs, outcomes, strict=True):
        entry = per_prompt.setdefault(
            pid, {"prompt": prompt, "rankings": [], "failures": []}
        )
        entry["failures"] += list(o.failures)
        if o.completion is None:
            continue
        parsed = parse_ranking(o.completion.text, len(models))
        if isinstance(parsed, str):
            entry["failures"].append(f"parse failure: {parsed}")
        else:
            entry["rankings"].append([models[n - 1] for n in parsed])
    rows = [
        {
            "prompt_id": pid,
            "prompt": e["prompt"],
            "ranked": borda(e["rankings"]) if e["rankings"] else None,
            "judge": judge_id(backend),
            "rankings": e["rankings"],
            "failures": e["failures"],
        }
        for pid, e in per_prompt.items()
    ]
    return pd.DataFrame(rows)
