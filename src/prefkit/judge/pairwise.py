"""Pairwise judging: pairs from candidates, dual-order verdicts, soft labels.

Each pair is shown in both orders by default; each order is judged k times
(``samples``); each reply is parsed strictly (:mod:`prefkit.judge.parsing`)
and read as a distribution over (a, b, tie), from the verdict tokens'
probabilities where the backend gives them. :mod:`prefkit.judge.aggregate`
turns the samples into one row.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import validate_comparisons
from prefkit.errors import PrefkitWarning
from prefkit.judge.aggregate import (
    DISAGREEMENTS,
    Disagreement,
    Sample,
    binary_entropy,
    combine_orders,
    diversity_entropy,
    order_verdict,
    swap_dist,
)
from prefkit.judge.backends import (
    GenerativeBackend,
    PairScorer,
    ResponseScorer,
    judge_id,
    make_backend,
)
from prefkit.judge.cache import Cache, open_cache
from prefkit.judge.candidates import validate_candidates
from prefkit.judge.parsing import parse_reply
from prefkit.judge.prompts import load_prompt, render
from prefkit.judge.runner import ProgressCallback, run_requests
from prefkit.judge.scoring import scored_pairs
from prefkit.judge.types import JudgeError, Request, RetryPolicy

logger = logging.getLogger("prefkit.judge")

ScaleName = Literal["ab", "5level"]


class JudgeFailureWarning(PrefkitWarning):
    """Some items got no verdict (every attempt failed or could not be parsed)."""


@dataclass(frozen=True)
class Scale:
    """A verdict scale: the labels a judge may answer and what each means.

    Attributes
    ----------
    labels : tuple of str
        Allowed answers, as the prompt names them.
    outcomes : array of shape (n_labels, 3)
        Row k: the (first wins, second wins, tie) meaning of label k.
    template : str
        Stem of the prompt files (``_evidence`` is appended for evidence).
    """

    labels: tuple[str, ...]
    outcomes: NDArray[np.float64]
    template: str


SCALES: dict[str, Scale] = {
    "ab": Scale(("A", "B", "C"), np.eye(3), "pairwise_ab"),
    "5level": Scale(
        ("1", "2", "3", "4", "5"),
        np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]], float),
        "pairwise_5level",
    ),
}
_FIRST_SECOND = ("first", "second", "tie")


def make_pairs(
    candidates: pd.DataFrame, plan: str = "all", seed: int = 0
) -> pd.DataFrame:
    """An unjudged comparisons table from a candidates table.

    Parameters
    ----------
    candidates : DataFrame
        ``prompt_id, prompt, model, response``, one row per prompt x model.
    plan : str, default="all"
        ``"all"``: every pair of models on each prompt; ``"baseline:MODEL"``:
        each other model against MODEL (which becomes ``model_b``);
        ``"sample:N"``: N pairs drawn without replacement from ``"all"``.
        ``"adaptive:N"`` picks pairs from verdicts as they arrive, so it is
        not a table made up front: run it with
        :func:`prefkit.judge.adaptive.judge_adaptive` (``prefkit evaluate
        --pairs adaptive:N`` does).
    seed : int, default=0
        Seed of ``sample:N``.

    Returns
    -------
    DataFrame
        ``prompt_id, prompt, model_a, model_b, response_a, response_b``.

    Examples
    --------
    >>> c = pd.DataFrame({"prompt_id": ["1"] * 3, "prompt": ["q"] * 3,
    ...                   "model": ["x", "y", "z"], "response": ["1", "2", "3"]})
    >>> len(make_pairs(c)), len(make_pairs(c, "baseline:z"))
    (3, 2)
    """
    cands = validate_candidates(candidates)
    kind, _, arg = plan.partition(":")
    if kind == "adaptive":
        raise JudgeError(
            f"pairing plan {plan!r} picks pairs from verdicts as they arrive, "
            "so it cannot be made up front; use prefkit evaluate --pairs "
            f"{plan} or prefkit.judge.adaptive.judge_adaptive"
        )
    if kind not in ("all", "baseline", "sample") or (kind == "all" and arg):
        raise JudgeError(
            f"pairing plan {plan!r} is not known; "
            "expected all, baseline:MODEL, sample:N or adaptive:N"
        )
    rows: list[dict[str, Any]] = []
    for pid, group in cands.groupby("prompt_id", sort=False):
        recs = group.sort_values("model").to_dict(orient="records")
        if kind == "baseline":
            base = [r for r in recs if r["model"] == arg]
            pairs = [(r, base[0]) for r in recs if base and r["model"] != arg]
        else:
            pairs = list(combinations(recs, 2))
        for a, b in pairs:
            rows.append(
                {
                    "prompt_id": str(pid),
                    "prompt": a["prompt"],
                    "model_a": a["model"],
                    "model_b": b["model"],
                    "response_a": a["response"],
                    "response_b": b["response"],
                }
            )
    out = pd.DataFrame(rows, columns=_PAIR_COLUMNS)
    if kind == "baseline" and out.empty:
        models = ", ".join(sorted(cands["model"].unique())[:8])
        raise JudgeError(
            f"pairing plan {plan!r}: baseline model {arg!r} is not among the "
            f"candidates' models ({models})"
        )
    if kind == "sample":
        if not arg.isdigit() or int(arg) < 1:
            raise JudgeError(f"pairing plan {plan!r}: N must be a positive integer")
        n = min(int(arg), len(out))
        picked = np.random.default_rng(seed).choice(len(out), size=n, replace=False)
        out = out.iloc[np.sort(picked)].reset_index(drop=True)
    return out


_PAIR_COLUMNS = [
    "prompt_id",
    "prompt",
    "model_a",
    "model_b",
    "response_a",
    "response_b",
]


def _check_pairs(pairs: pd.DataFrame, need_text: bool) -> pd.DataFrame:
    table = validate_comparisons(pairs, require_winner=False)
    if "winner" in table.columns and "winner" not in pairs.columns:
        table = table.drop(columns="winner")
    if "prompt_id" not in table.columns:
        table.insert(0, "prompt_id", [str(i) for i in range(len(table))])
    needed = ("prompt", "response_a", "response_b") if need_text else ()
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise JudgeError(
            f"pairs lack the column(s) {', '.join(missing)} that this judge reads; "
            "build them with make_pairs(candidates) or add the texts"
        )
    table = table.reset_index(drop=True)
    # validation is done: the reader's line numbers would only slow concat down
    table.attrs = {}
    return table


def _orders(n: int, dual_order: bool, seed: int) -> list[NDArray[np.bool_]]:
    """Shown orders per row: both, or one random order each (``True`` = b first)."""
    if dual_order:
        return [np.zeros(n, bool), np.ones(n, bool)]
    return [np.random.default_rng(seed).random(n) < 0.5]


def _sample_of(
    completion: Any,
    scale: Scale,
    evidence: bool,
    swapped: bool,
    constrained: bool = False,
) -> Sample:
    parsed = parse_reply(completion, scale.labels, evidence, constrained)
    dist = parsed.distribution(scale.labels)
    if dist is None or parsed.label is None:
        return Sample(None, None, parsed.error)
    # label probabilities -> (first, second, tie) -> (a, b, tie)
    shown = dist @ scale.outcomes
    row = scale.outcomes[scale.labels.index(parsed.label)]
    said = _FIRST_SECOND[int(np.argmax(row))]
    verdict = {"first": "a", "second": "b", "tie": "tie"}[said]
    if swapped:
        shown = swap_dist(shown)
        verdict = {"a": "b", "b": "a", "tie": "tie"}[verdict]
    return Sample(shown, verdict)


MessageBuilder = Callable[[dict[str, Any], bool], str]


def generative_samples(
    table: pd.DataFrame,
    backend: Any,
    orders: list[NDArray[np.bool_]],
    build: MessageBuilder,
    scale: Scale,
    *,
    evidence: bool,
    samples: int,
    temperature: float,
    max_tokens: int,
    system_prompt: str,
    run: dict[str, Any],
) -> list[list[list[Sample]]]:
    """Samples per order, per row, per k: ``out[order][row][k]``."""
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    requests: list[Request] = []
    for shown in orders:
        for rec, swapped in zip(records, shown, strict=True):
            user = build(rec, bool(swapped))
            for k in range(samples):
                requests.append(
                    Request(
                        messages=(("system", system_prompt), ("user", user)),
                        max_tokens=max_tokens,
                        temperature=temperature,
                        top_logprobs=20,
                        seed=run["seed"],
                        sample=k,
                    )
                )
    # local models answer through their first token's label distribution
    constrained = bool(getattr(backend, "constrained_verdicts", False))
    outcomes = run_requests(
        backend,
        requests,
        concurrency=run["concurrency"],
        cache=run["cache"],
        retry=run["retry"],
        progress=run["progress"],
        seed=run["seed"],
    )
    out: list[list[list[Sample]]] = []
    i = 0
    for shown in orders:
        per_row: list[list[Sample]] = []
        for swapped in shown:
            ks: list[Sample] = []
            for _ in range(samples):
                o = outcomes[i]
                i += 1
                if o.completion is None:
                    ks.append(Sample(None, None, attempts=o.failures))
                    continue
                s = _sample_of(
                    o.completion, scale, evidence, bool(swapped), constrained
                )
                ks.append(Sample(s.dist, s.verdict, s.failure, o.failures))
            per_row.append(ks)
        out.append(per_row)
    return out


def _replay_samples(
    table: pd.DataFrame, backend: Any, orders: list[NDArray[np.bool_]]
) -> list[list[list[Sample]]]:
    out: list[list[list[Sample]]] = []
    for shown in orders:
        per_row: list[list[Sample]] = []
        got = {s: backend.verdicts(table, s) for s in (False, True) if s in set(shown)}
        for i, swapped in enumerate(shown):
            winner, p_a, failure = got[bool(swapped)][i]
            if winner is None:
                per_row.append([Sample(None, None, failure)])
                continue
            onehot = np.array([winner == o for o in ("a", "b", "tie")], float)
            dist = onehot if p_a is None else np.array([p_a, 1.0 - p_a, 0.0])
            per_row.append([Sample(dist, winner)])
        out.append(per_row)
    return out


def _rows(
    table: pd.DataFrame,
    per_order: list[list[list[Sample]]],
    orders: list[NDArray[np.bool_]],
    disagreement: Disagreement,
    soft_uncertainty: bool,
) -> pd.DataFrame:
    """One output row per pair from its samples."""
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "winner",
            "p_a",
            "uncertainty",
            "winner_ab",
            "winner_ba",
            "p_a_ab",
            "p_a_ba",
            "verdicts",
            "failures",
            "swapped",
            "keep",
        )
    }
    for i in range(len(table)):
        by_order: dict[str, tuple[str | None, float | None]] = {
            "ab": (None, None),
            "ba": (None, None),
        }
        verdicts: list[str] = []
        failures: list[str] = []
        for shown, samples in zip(orders, per_order, strict=True):
            name = "ba" if shown[i] else "ab"
            by_order[name] = order_verdict(samples[i])
            verdicts += [s.verdict for s in samples[i] if s.verdict is not None]
            for s in samples[i]:
                failures += [f"{name}: {reason}" for reason in s.attempts]
                failures += [f"{name}: {s.failure}"] if s.failure else []
        (w_ab, p_ab), (w_ba, p_ba) = by_order["ab"], by_order["ba"]
        winner, p_a, keep = combine_orders(w_ab, w_ba, p_ab, p_ba, disagreement)
        unc = binary_entropy(p_a) if soft_uncertainty else diversity_entropy(verdicts)
        for key, value in (
            ("winner", winner),
            ("p_a", p_a),
            ("uncertainty", unc),
            ("winner_ab", w_ab),
            ("winner_ba", w_ba),
            ("p_a_ab", p_ab),
            ("p_a_ba", p_ba),
            ("verdicts", verdicts),
            ("failures", failures),
            ("swapped", len(orders) == 1 and bool(orders[0][i])),
            ("keep", keep),
        ):
            cols[key].append(value)
    return pd.DataFrame(cols, index=table.index)


def judge_pairs(
    pairs: pd.DataFrame,
    judge: str | Any,
    *,
    protocol: Literal["pairwise"] = "pairwise",
    scale: ScaleName = "ab",
    dual_order: bool = True,
    disagreement: Disagreement = "tie",
    samples: int = 1,
    evidence: bool | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    concurrency: int = 4,
    cache: str | os.PathLike[str] | Cache | None = None,
    progress: bool | ProgressCallback = True,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    prompts_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Judge pairs with an LLM (or scorer, or recorded) judge.

    Parameters
    ----------
    pairs : DataFrame
        An unjudged comparisons table (``make_pairs`` output); generative
        and scoring judges need ``prompt, response_a, response_b``.
    judge : str or backend
        A spec (``local``, ``likelihood``, ``openai:MODEL@URL``,
        ``replay:FILE[#JUDGE]``, or any registered name) or a backend object.
    protocol : {"pairwise"}, default="pairwise"
        Pointwise grading is :func:`prefkit.judge.grade`, listwise ranking
        :func:`prefkit.judge.rank_candidates`.
    scale : {"ab", "5level"}, default="ab"
        A/B/C(tie) verdicts, or the five levels A>>B, A>B, A=B, B>A, B>>A
        (answered as digits 1-5).
    dual_order : bool, default=True
        Judge each pair as (a, b) and (b, a). False shows one random order
        per pair (recorded in ``swapped``).
    disagreement : {"tie", "average", "drop"}, default="tie"
        What a flip between orders becomes (see ``combine_orders``); rows
        dropped under ``"drop"`` are removed.
    samples : int, default=1
        k samples per order, averaged (multiple-evidence calibration [Wang23]).
    evidence : bool or None, default=None
        Ask for reasons before the verdict (default: when ``samples > 1``).
    temperature : float or None, default=None
        Sampling temperature (default 0 for one sample, 0.7 for several).
    max_tokens : int or None, default=None
        Reply length (default 4 without evidence, 384 with).
    concurrency : int, default=4
        Requests in flight.
    cache : path, Cache or None, default=None
        SQLite cache making the run resumable and re-runs free.
    progress : bool or callable, default=True
        Rich progress bar on stderr, or a callback of ProgressEvent.
    seed : int, default=0
        Seed of the random order, sampling and backoff jitter.
    retry : RetryPolicy or None, default=None
        Retry settings.
    prompts_dir : path or None, default=None
        Folder of prompt files overriding the built-in ones.

    Returns
    -------
    DataFrame
        The pairs with ``winner`` (missing where no order gave a verdict),
        ``p_a``, ``judge``, ``uncertainty`` (diversity entropy of the
        verdicts in bits; binary entropy of ``p_a`` for score-only judges),
        ``winner_ab, winner_ba, p_a_ab, p_a_ba`` (per shown order, a/b
        labelling), ``verdicts`` (every parsed verdict), ``failures``
        (reasons, per order) and ``swapped``.

    Examples
    --------
    A response scorer (here: longer is better) as the judge:

    >>> class Longer:
    ...     name, model, scale = "len", "chars", 1.0
    ...     def score_responses(self, prompts, responses):
    ...         return np.array([len(r) for r in responses], dtype=float)
    >>> pairs = pd.DataFrame({"prompt_id": ["1"], "prompt": ["hi"],
    ...     "model_a": ["x"], "model_b": ["y"],
    ...     "response_a": ["hello!"], "response_b": ["yo"]})
    >>> out = judge_pairs(pairs, Longer(), progress=False)
    >>> out["winner"].tolist(), round(float(out["p_a"].iloc[0]), 3)
    (['a'], 0.982)
    """
    if protocol != "pairwise":
        raise JudgeError(
            f"protocol {protocol!r} is not pairwise; use grade() for pointwise "
            "and rank_candidates() for listwise judging"
        )
    if scale not in SCALES:
        raise JudgeError(
            f"scale {scale!r} is not known; expected one of {', '.join(SCALES)}"
        )
    if disagreement not in DISAGREEMENTS:
        raise JudgeError(
            f"disagreement {disagreement!r} is not known; expected one of "
            f"{', '.join(DISAGREEMENTS)}"
        )
    if samples < 1:
        raise JudgeError(f"samples must be >= 1 (got {samples})")
    backend = make_backend(judge)
    is_replay = hasattr(backend, "verdicts")
    table = _check_pairs(pairs, need_text=not is_replay)
    orders = _orders(len(table), dual_order, seed)
    store = open_cache(cache)
    run = {
        "concurrency": concurrency,
        "cache": store,
        "retry": retry,
        "progress": progress,
        "seed": seed,
    }
    soft = False

    if is_replay:
        per_order = _replay_samples(table, backend, orders)
    elif isinstance(backend, GenerativeBackend):
        spec = SCALES[scale]
        use_evidence = samples > 1 if evidence is None else evidence
        template = load_prompt(
            spec.template + ("_evidence" if use_evidence else ""), prompts_dir
        )

        def build(rec: dict[str, Any], swapped: bool) -> str:
            first, second = (
                ("response_b", "response_a")
                if swapped
                else ("response_a", "response_b")
            )
            return render(
                template, prompt=rec["prompt"], first=rec[first], second=rec[second]
            )

        per_order = generative_samples(
            table,
            backend,
            orders,
            build,
            spec,
            evidence=use_evidence,
            samples=samples,
            temperature=(0.0 if samples == 1 else 0.7)
            if temperature is None
            else temperature,
            max_tokens=max_tokens or (384 if use_evidence else 4),
            system_prompt=load_prompt("system", prompts_dir).strip(),
            run=run,
        )
    elif isinstance(backend, (ResponseScorer, PairScorer)):
        per_order = scored_pairs(table, backend, orders, store, progress)
        soft = isinstance(backend, ResponseScorer)
    else:
        raise JudgeError(f"judge {judge!r} implements no judge protocol")

    rows = _rows(table, per_order, orders, disagreement, soft)
    out = table.drop(
        columns=[c for c in rows.columns if c in table.columns and c != "keep"]
    )
    out = pd.concat([out, rows], axis=1)
    out["judge"] = judge_id(backend)
    n_failed = int(out["winner"].isna().sum() - (~out["keep"]).sum())
    if n_failed:
        warnings.warn(
            f"{n_failed} of {len(out)} pairs got no verdict from {judge_id(backend)} "
            "(their reasons are in the failures column; prefkit evaluate lists "
            "them in failures.jsonl)",
            JudgeFailureWarning,
            stacklevel=2,
        )
    out = out[out["keep"]].drop(columns="keep").reset_index(drop=True)
    out["winner"] = pd.Categorical(out["winner"], categories=["a", "b", "tie"])
    return out
