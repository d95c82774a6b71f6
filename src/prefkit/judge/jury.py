"""Juries of judges and debate between judges.

A jury runs several judges (backends, models or prompts) on the same pairs
and aggregates: ``majority`` vote, ``mean`` probability, or a vote
``weighted`` by each judge's agreement with human labels (the ``gold``
column) where those exist (juries of diverse judges [Verga24]). A debate
has two judges argue for each side and a third decide ("The Fellowship of
the LLMs" [Arif24]).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.judge.aggregate import DISAGREEMENTS, Disagreement, diversity_entropy
from prefkit.judge.backends import GenerativeBackend, judge_id, make_backend
from prefkit.judge.cache import Cache, open_cache
from prefkit.judge.pairwise import (
    SCALES,
    _check_pairs,
    _orders,
    _rows,
    generative_samples,
    judge_pairs,
)
from prefkit.judge.prompts import load_prompt, render
from prefkit.judge.runner import ProgressCallback, run_requests
from prefkit.judge.types import JudgeError, Request, RetryPolicy

JuryMethod = Literal["majority", "mean", "weighted"]
JURY_METHODS: tuple[JuryMethod, ...] = ("majority", "mean", "weighted")
_LABELS = ("a", "b", "tie")


def weighted_vote(votes: Sequence[object], weights: NDArray[np.float64]) -> str | None:
    """The label with the largest total weight; a tie between labels is "tie".

    Missing votes (not a/b/tie) are skipped; None when no vote remains.
    """
    totals = np.zeros(3)
    for vote, w in zip(votes, weights, strict=True):
        if isinstance(vote, str) and vote in _LABELS:
            totals[_LABELS.index(vote)] += w
    if totals.sum() <= 0:
        return None
    best = np.flatnonzero(np.isclose(totals, totals.max()))
    return _LABELS[int(best[0])] if len(best) == 1 else "tie"


def agreement_weights(
    winners: NDArray[np.object_], gold: Sequence[object]
) -> NDArray[np.float64]:
    """Each judge's agreement rate with the gold labels (rows with both).

    Parameters
    ----------
    winners : array of shape (n_judges, n_items)
        Each judge's verdicts.
    gold : sequence of length n_items
        Human labels (a/b/tie, missing where unknown).
    """
    has_gold = np.array([isinstance(g, str) and g in _LABELS for g in gold])
    if not has_gold.any():
        raise JudgeError(
            "method 'weighted' needs human labels: the gold column holds no a/b/tie "
            "value; add gold labels or use method='majority' or 'mean'"
        )
    weights = []
    for row in winners:
        both = has_gold & np.array([isinstance(w, str) for w in row])
        agree = [row[i] == gold[int(i)] for i in np.flatnonzero(both)]
        weights.append(float(np.mean(agree)) if agree else 0.0)
    return np.array(weights)


def jury_verdicts(
    tables: Sequence[pd.DataFrame],
    method: JuryMethod = "majority",
    gold: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Aggregate several judges' outputs on the same pairs (same row order).

    .. math:: \\hat y = \\arg\\max_{o} \\sum_j w_j [y_j = o], \\qquad
              p_a = \\frac{\\sum_j w_j p_{a,j}}{\\sum_j w_j}

    with :math:`w_j = 1` (``majority``), :math:`w_j` the agreement of judge
    j with ``gold`` (``weighted``); ``mean`` takes the verdict from
    :math:`p_a` (a above 1/2, b below, tie at 1/2).

    Returns
    -------
    DataFrame
        ``winner, p_a, uncertainty, jury_votes, jury_weights`` per row.
    """
    if method not in JURY_METHODS:
        raise JudgeError(
            f"jury method {method!r} is not known; "
            f"expected one of {', '.join(JURY_METHODS)}"
        )
    if not tables or len({len(t) for t in tables}) != 1:
        raise JudgeError("jury needs at least one judge table, all of the same length")
    winners = np.array(
        [t["winner"].astype(object).tolist() for t in tables], dtype=object
    )
    p = np.array([pd.to_numeric(t["p_a"], errors="coerce").to_numpy() for t in tables])
    if method == "weighted":
        weights = agreement_weights(winners, list(gold) if gold is not None else [])
    else:
        weights = np.ones(len(tables))
    rows: dict[str, list[Any]] = {
        k: [] for k in ("winner", "p_a", "uncertainty", "jury_votes")
    }
    for i in range(winners.shape[1]):
        ok = np.isfinite(p[:, i]) & (weights > 0)
        p_a = float(np.average(p[ok, i], weights=weights[ok])) if ok.any() else np.nan
        if method == "mean":
            winner = (
                None
                if np.isnan(p_a)
                else ("tie" if np.isclose(p_a, 0.5) else "a" if p_a > 0.5 else "b")
            )
        else:
            winner = weighted_vote(winners[:, i].tolist(), weights)
        votes = [str(w) for w in winners[:, i] if isinstance(w, str)]
        rows["winner"].append(winner)
        rows["p_a"].append(p_a)
        rows["uncertainty"].append(diversity_entropy(votes))
        rows["jury_votes"].append(winners[:, i].tolist())
    out = pd.DataFrame(rows)
    out["jury_weights"] = [weights.tolist()] * len(out)
    return out


def judge_jury(
    pairs: pd.DataFrame,
    judges: Sequence[str | Any],
    *,
    method: JuryMethod = "majority",
    gold_column: str = "gold",
    **judge_kwargs: Any,
) -> pd.DataFrame:
    """Judge pairs with each judge of a jury, then aggregate.

    Parameters
    ----------
    pairs : DataFrame
        Unjudged comparisons (with ``gold`` labels for ``weighted``).
    judges : sequence of str or backend
        The jurors (at least two).
    method : {"majority", "mean", "weighted"}, default="majority"
        See :func:`jury_verdicts`.
    gold_column : str, default="gold"
        Column of human labels used by ``weighted``.
    **judge_kwargs
        Passed to :func:`prefkit.judge.judge_pairs` for every juror
        (``disagreement="drop"`` is not allowed: rows must line up).

    Returns
    -------
    DataFrame
        The pairs (without the jurors' per-order columns) with the jury's
        ``winner, p_a, uncertainty``,
        ``jury_votes`` (each juror's winner, in ``judge`` order),
        ``jury_weights`` and ``judge`` = ``jury:METHOD(j1,j2,...)``.
    """
    if len(judges) < 2:
        raise JudgeError(f"a jury needs at least two judges (got {len(judges)})")
    if method not in JURY_METHODS:
        raise JudgeError(
            f"jury method {method!r} is not known; "
            f"expected one of {', '.join(JURY_METHODS)}"
        )
    if judge_kwargs.get("disagreement") == "drop":
        raise JudgeError(
            "a jury cannot use disagreement='drop'; use 'tie' or 'average'"
        )
    if method == "weighted" and gold_column not in pairs.columns:
        raise JudgeError(
            f"method 'weighted' needs human labels in column {gold_column!r}, "
            "which the pairs lack"
        )
    tables = [judge_pairs(pairs, j, **judge_kwargs) for j in judges]
    gold = pairs[gold_column].tolist() if gold_column in pairs.columns else None
    verdicts = jury_verdicts(tables, method, gold)
    # the jurors' own per-order columns would read as the jury's: keep the pairs
    juror_columns = [
        "winner",
        "p_a",
        "uncertainty",
        "judge",
        "winner_ab",
        "winner_ba",
        "p_a_ab",
        "p_a_ba",
        "verdicts",
        "failures",
        "swapped",
    ]
    base = tables[0].drop(columns=[c for c in juror_columns if c in tables[0].columns])
    names = ",".join(str(t["judge"].iloc[0]) if len(t) else "?" for t in tables)
    out = pd.concat([base, verdicts], axis=1)
    out["judge"] = f"jury:{method}({names})"
    out["winner"] = pd.Categorical(out["winner"], categories=list(_LABELS))
    return out


def debate_pairs(
    pairs: pd.DataFrame,
    debaters: Sequence[str | Any],
    decider: str | Any,
    *,
    dual_order: bool = True,
    disagreement: Disagreement = "tie",
    max_tokens: int = 200,
    concurrency: int = 4,
    cache: str | os.PathLike[str] | Cache | None = None,
    progress: bool | ProgressCallback = True,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    prompts_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Two judges argue for each side, a third decides (in both orders).

    Parameters
    ----------
    pairs : DataFrame
        Unjudged comparisons with ``prompt, response_a, response_b``.
    debaters : sequence of one or two specs/backends
        The advocate of the answer shown first, then of the second (one
        backend argues both sides).
    decider : str or backend
        The generative judge that reads both arguments and decides (A/B/C).
    dual_order, disagreement, concurrency, cache, progress, seed, retry, prompts_dir
        As in :func:`prefkit.judge.judge_pairs`.
    max_tokens : int, default=200
        Length of each argument.

    Returns
    -------
    DataFrame
        As :func:`prefkit.judge.judge_pairs` (the decider's verdicts); ``judge``
        is ``debate(DEBATERS)->DECIDER``.
    """
    if not 1 <= len(debaters) <= 2:
        raise JudgeError(f"debate needs one or two debaters (got {len(debaters)})")
    if disagreement not in DISAGREEMENTS:
        raise JudgeError(f"disagreement {disagreement!r} is not known")
    backs = [make_backend(d) for d in debaters]
    backs = backs * 2 if len(backs) == 1 else backs
    judge = make_backend(decider)
    for b in [*backs, judge]:
        if not isinstance(b, GenerativeBackend):
            raise JudgeError(
                f"debate needs generative judges; {judge_id(b)} is not one"
            )
    table = _check_pairs(pairs, need_text=True)
    orders = _orders(len(table), dual_order, seed)
    store = open_cache(cache)
    system = load_prompt("system", prompts_dir).strip()
    argue = load_prompt("debate_argue", prompts_dir)
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]

    def shown(rec: dict[str, Any], swapped: bool) -> tuple[str, str]:
        a, b = rec["response_a"], rec["response_b"]
        return (b, a) if swapped else (a, b)

    # the arguments: per side, per order, per row
    arguments: dict[tuple[str, int, bool], str] = {}
    for side, backend in zip(("A", "B"), backs, strict=True):
        keys, requests = [], []
        for i, rec in enumerate(records):
            for swapped in sorted({bool(o[i]) for o in orders}):
                first, second = shown(rec, swapped)
                user = render(
                    argue, side=side, prompt=rec["prompt"], first=first, second=second
                )
                keys.append((side, i, swapped))
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
            cache=store,
            retry=retry,
            progress=progress,
            seed=seed,
            what=f"arguing {side}",
        )
        for key, o in zip(keys, outcomes, strict=True):
            arguments[key] = (
                o.completion.text.strip() if o.completion else "(no argument)"
            )

    decide = load_prompt("debate_decide", prompts_dir)

    def build(rec: dict[str, Any], swapped: bool) -> str:
        i = int(rec["_row"])
        first, second = shown(rec, swapped)
        return render(
            decide,
            prompt=rec["prompt"],
            first=first,
            second=second,
            argument_a=arguments[("A", i, swapped)],
            argument_b=arguments[("B", i, swapped)],
        )

    run = {
        "concurrency": concurrency,
        "cache": store,
        "retry": retry,
        "progress": progress,
        "seed": seed,
    }
    per_order = generative_samples(
        table.assign(_row=range(len(table))),
        judge,
        orders,
        build,
        SCALES["ab"],
        evidence=False,
        samples=1,
        temperature=0.0,
        max_tokens=4,
        system_prompt=system,
        run=run,
    )
    rows = _rows(table, per_order, orders, disagreement, False)
    out = pd.concat([table, rows], axis=1)
    out["judge"] = f"debate({','.join(judge_id(b) for b in backs)})->{judge_id(judge)}"
    out = out[out["keep"]].drop(columns="keep").reset_index(drop=True)
    out["winner"] = pd.Categorical(out["winner"], categories=list(_LABELS))
    return out
