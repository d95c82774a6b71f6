"""The steps of an evaluation, each usable on its own.

``generate_step`` (prompts -> candidates) -> ``pair_step`` (candidates ->
unjudged comparisons) -> ``judge_step`` (-> judged comparisons, one block per
judge plus the jury) -> ``rank_step`` (-> leaderboards, win rates) ->
``audit_step`` (-> audit table). :func:`prefkit.evaluate.evaluate` only
composes them; each is a thin call into ``prefkit.judge``, ``prefkit.rank``
or ``prefkit.audit``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prefkit.data import load, read_table
from prefkit.errors import PrefkitDataError
from prefkit.evaluate.config import ConfigError, SystemSpec
from prefkit.report.effects import expand_orders

logger = logging.getLogger("prefkit.evaluate")

#: Columns a judge writes that a table of recorded verdicts must lose before
#: it is judged again.
VERDICT_COLUMNS = (
    "winner",
    "p_a",
    "judge",
    "uncertainty",
    "winner_ab",
    "winner_ba",
    "p_a_ab",
    "p_a_ba",
    "verdicts",
    "failures",
    "swapped",
)
DEMO_INSTRUCTIONS = Path(__file__).with_name("demo_instructions.jsonl")

Progress = bool | Callable[[Any], None]


def read_prompts(source: str | os.PathLike[str]) -> pd.DataFrame:
    """``prompt_id, prompt`` from a file, or the built-in set for ``"demo[:N]"``."""
    name, _, count = str(source).partition(":")
    is_demo = name == "demo" and (not count or count.isdigit())
    path = DEMO_INSTRUCTIONS if is_demo else Path(source)
    raw = read_table(path)
    if is_demo and count:
        raw = raw.head(int(count))
    if "prompt" not in raw.columns:
        raise PrefkitDataError.single(
            str(path),
            None,
            "prompt",
            f"the prompts file has no 'prompt' column (it has "
            f"{', '.join(map(str, raw.columns))}); give one prompt per line",
        )
    ids = (
        raw["prompt_id"].astype(str)
        if "prompt_id" in raw.columns
        else pd.Series([str(i) for i in range(len(raw))])
    )
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise PrefkitDataError.single(
            str(path),
            None,
            "prompt_id",
            f"prompt_id {dup!r} occurs more than once; ids must be unique",
        )
    return pd.DataFrame(
        {"prompt_id": ids.to_numpy(), "prompt": raw["prompt"].astype(str)}
    )


def truncate_words(text: str, n: int) -> str:
    """The first ``n`` words of ``text`` (whitespace-separated)."""
    return " ".join(str(text).split()[:n])


def generate_step(
    prompts: pd.DataFrame,
    systems: Sequence[SystemSpec],
    *,
    cache: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: Progress = True,
) -> pd.DataFrame:
    """Every system's response to every prompt: a candidates table.

    Systems that differ only by ``truncate_words`` share their generations
    through the cache (the truncation is applied afterwards).
    """
    from prefkit.judge import generate

    parts = []
    for system in systems:
        logger.info("generating with system %s (%s)", system.name, system.backend)
        part = generate(
            prompts,
            system.backend,
            system_prompt=system.system_prompt,
            max_tokens=system.max_tokens,
            temperature=system.temperature,
            cache=cache,
            seed=seed,
            progress=progress,
            model_name=system.name,
        )
        if system.truncate_words is not None:
            cut = [truncate_words(t, system.truncate_words) for t in part["response"]]
            part = part.assign(response=cut)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def pair_step(
    candidates: pd.DataFrame, plan: str = "all", seed: int = 0
) -> pd.DataFrame:
    """The unjudged pairs of a candidates table under a pairing plan."""
    from prefkit.judge import make_pairs

    return require_pairs(make_pairs(candidates, plan=plan, seed=seed), candidates)


def require_pairs(pairs: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """``pairs``, or a clear error when no prompt has two models to compare."""
    if len(pairs):
        return pairs
    models = sorted(set(candidates["model"].astype(str))) if len(candidates) else []
    raise ConfigError(
        f"nothing to compare: no prompt has responses from two models "
        f"({len(candidates)} responses from {len(models)} model(s)"
        f"{': ' + ', '.join(models[:5]) if models else ''}); give every prompt "
        "responses from at least two models"
    )


def adaptive_judge_step(
    candidates: pd.DataFrame,
    budget: int,
    judge: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    stages: int = 5,
    seed: int = 0,
) -> tuple[pd.DataFrame, Any]:
    """Judge ``budget`` pairs of the candidates under the ``adaptive:N`` plan.

    :func:`prefkit.judge.adaptive.judge_adaptive` picks each stage's pairs
    from the verdicts so far (the jury's when there is one) and calls
    ``judge`` (:func:`judge_step` with the run's settings bound) once per
    stage; with a cache a re-run replays the same stages. Returns the judged
    comparisons and the plan (stage sizes and rules).
    """
    from prefkit.judge import make_pairs
    from prefkit.judge.adaptive import judge_adaptive

    def fit_rows(judged: pd.DataFrame) -> pd.DataFrame:
        main = main_judge(judged)
        if main is None:
            return judged
        return judged[judged["judge"].astype(str) == main]

    pool = require_pairs(make_pairs(candidates, plan="all", seed=seed), candidates)
    return judge_adaptive(
        pool, budget, judge, stages=stages, seed=seed, fit_rows=fit_rows
    )


def unjudged(comparisons: pd.DataFrame) -> pd.DataFrame:
    """A comparisons table without any recorded verdict columns."""
    return comparisons.drop(columns=[c for c in VERDICT_COLUMNS if c in comparisons])


def jury_name(judges: Sequence[str], method: str) -> str:
    """The ``judge`` id of a jury's combined verdicts."""
    return f"jury:{method}({','.join(judges)})"


def judge_step(
    pairs: pd.DataFrame,
    judges: Sequence[str],
    *,
    jury: str = "mean",
    dual_order: bool = True,
    disagreement: str = "tie",
    cache: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: Progress = True,
) -> pd.DataFrame:
    """Judge ``pairs`` with every judge; with several, add the jury's verdicts.

    Returns the judges' tables stacked (``judge`` tells them apart), then,
    when there are at least two judges, one more block whose ``judge`` is
    :func:`jury_name` with the combined ``winner``, ``p_a`` and
    ``uncertainty`` (:func:`prefkit.judge.jury_verdicts`). A pair a judge
    gave no verdict keeps an empty ``winner`` and its ``failures``
    (:func:`split_failed` sets it apart).
    """
    from prefkit.judge import judge_pairs, jury_verdicts

    tables = []
    for spec in judges:
        logger.info("judging %d pairs with %s", len(pairs), spec)
        tables.append(
            judge_pairs(
                pairs,
                spec,
                dual_order=dual_order,
                disagreement=disagreement,  # type: ignore[arg-type]
                cache=cache,
                seed=seed,
                progress=progress,
            )
        )
    if len(tables) > 1:
        combined = jury_verdicts(tables, method=jury)  # type: ignore[arg-type]
        names = [
            str(t["judge"].iloc[0]) if len(t) else s
            for t, s in zip(tables, judges, strict=True)
        ]
        block = tables[0][
            [c for c in tables[0].columns if c not in VERDICT_COLUMNS]
        ].copy()
        for column in ("winner", "p_a", "uncertainty"):
            block[column] = combined[column].to_numpy()
        # the jury saw what its first juror saw (both orders, or one)
        if "swapped" in tables[0].columns:
            block["swapped"] = tables[0]["swapped"].to_numpy()
        block["judge"] = jury_name(names, jury)
        tables.append(block)
    return pd.concat(tables, ignore_index=True)


def split_failed(judged: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows with a verdict, and the rows a judge gave none (with why).

    A judge that fails on a pair after its retries leaves ``winner`` empty
    and the reason of each attempt in ``failures``; such a row is kept out
    of the ranking and audit but not dropped: the run lists it in
    ``failures.jsonl``.
    """
    if "winner" not in judged.columns:
        return judged, judged.iloc[:0]
    ok = judged["winner"].notna()
    return (
        judged[ok].reset_index(drop=True),
        judged[~ok].reset_index(drop=True),
    )


def main_judge(comparisons: pd.DataFrame) -> str | None:
    """The judge whose verdicts make the main leaderboard: the jury if any."""
    if "judge" not in comparisons.columns:
        return None
    names = list(dict.fromkeys(comparisons["judge"].astype(str)))
    juries = [n for n in names if n.startswith("jury:")]
    if juries:
        return juries[0]
    return names[0] if len(names) == 1 else None


@dataclass
class RankResult:
    """What :func:`rank_step` returns.

    Attributes
    ----------
    board : Leaderboard
        The main fit (jury or single judge, or all rows).
    table : DataFrame
        ``board.table``, with ``win_rate``/``lc_win_rate`` columns and their
        CIs merged in when there is a baseline.
    per_judge : dict of str to DataFrame
        Each judge's own leaderboard table (when there are several).
    win_rates, lc_win_rates : DataFrame or None
        Win rates against the baseline [Dubois24], every judge.
    """

    board: Any
    table: pd.DataFrame
    per_judge: dict[str, pd.DataFrame] = field(default_factory=dict)
    win_rates: pd.DataFrame | None = None
    lc_win_rates: pd.DataFrame | None = None


def _fit(comparisons: pd.DataFrame, **options: Any) -> Any:
    from prefkit.rank import leaderboard

    return leaderboard(comparisons, model="bt", **options)


def _merge_rates(
    table: pd.DataFrame, rates: pd.DataFrame | None, prefix: str, value: str, se: str
) -> pd.DataFrame:
    """Add a judge's win-rate columns (value, se, lower, upper) to a leaderboard."""
    if rates is None or rates.empty:
        return table
    cols = rates[["model", value, se, "lower", "upper"]].rename(
        columns={"lower": f"{prefix}_lower", "upper": f"{prefix}_upper"}
    )
    return table.merge(cols, on="model", how="left")


def rank_step(
    comparisons: pd.DataFrame,
    *,
    ties: str = "half",
    ci: str = "sandwich",
    control: Sequence[str] = (),
    rounds: int = 1000,
    baseline: str | None = None,
    seed: int = 0,
) -> RankResult:
    """Bradley-Terry leaderboards with CIs, and win rates when there is a baseline.

    The main leaderboard is fitted on the jury's verdicts when there is a
    jury, on the only judge's otherwise, and on every row when the table
    mixes judges without a jury. With several judges each also gets its own
    leaderboard. With ``baseline``, AlpacaEval's win rate and its
    length-controlled version [Dubois24] are computed for every judge and
    the main judge's are merged into the leaderboard table.
    """
    from prefkit.audit import lc_win_rate, win_rate

    options: dict[str, Any] = {
        "ties": ties,
        "ci": ci,
        # the rank bootstrap needs 2 rounds at least; 0 only turns off audit CIs
        "rounds": max(rounds, 2),
        "seed": seed,
        "control": list(control) or None,
    }
    main = main_judge(comparisons)
    judges = (
        comparisons["judge"].astype(str) if "judge" in comparisons.columns else None
    )
    rows = (
        comparisons if main is None or judges is None else comparisons[judges == main]
    )
    board = _fit(rows, **options)
    per_judge: dict[str, pd.DataFrame] = {}
    if judges is not None and judges.nunique() > 1:
        for name in dict.fromkeys(judges):
            logger.info("ranking by judge %s", name)
            per_judge[name] = _fit(comparisons[judges == name], **options).table
    table = board.table.copy()
    result = RankResult(board=board, table=table, per_judge=per_judge)
    if baseline is None:
        return result

    result.win_rates = win_rate(comparisons, baseline)
    try:
        result.lc_win_rates = lc_win_rate(comparisons, baseline)
    except PrefkitDataError as exc:
        logger.warning("no length-controlled win rates: %s", exc)
    pick = main if main is not None else str(result.win_rates["judge"].iloc[0])
    wr = result.win_rates[result.win_rates["judge"].astype(str) == pick]
    table = _merge_rates(table, wr, "win_rate", "win_rate", "standard_error")
    if result.lc_win_rates is not None:
        lc = result.lc_win_rates[result.lc_win_rates["judge"].astype(str) == pick]
        table = _merge_rates(table, lc, "lc", "lc_win_rate", "lc_standard_error")
    result.table = table
    return result


def audit_step(
    comparisons: pd.DataFrame,
    *,
    gold: pd.DataFrame | None = None,
    baseline: str | None = None,
    rounds: int = 1000,
    seed: int = 0,
) -> Any:
    """Every passive audit of every judge (the jury left out), per shown order.

    Dual-order rows are split into their two orders first
    (:func:`prefkit.report.effects.expand_orders`) so that position figures
    see what each judge saw.
    """
    from prefkit.audit import audit

    table = comparisons
    if "judge" in table.columns:
        table = table[~table["judge"].astype(str).str.startswith("jury:")]
    table = expand_orders(table)
    keep = [c for c in table.columns if c not in ("verdicts", "failures")]
    return audit(table[keep], gold=gold, baseline=baseline, rounds=rounds, seed=seed)


def load_comparisons(
    path: str, format: str = "auto", require_winner: bool = True
) -> pd.DataFrame:
    """A comparisons table from a file (any registered format)."""
    table = load(path, format=format, require_winner=require_winner)
    kind = table.attrs.get("prefkit_kind")
    if kind != "comparisons":
        raise PrefkitDataError.single(
            path,
            None,
            "-",
            f"the file holds a {kind} table; expected comparisons (pairs of "
            "responses) or pass it as candidates",
        )
    return table


#: Why a judge of a run is left out of the active probes.
NOT_PROBED_REPLAY = (
    "replayed verdicts cannot be re-judged on rewritten responses; probe the "
    "judge that produced them live"
)
NOT_PROBED_ORDER = (
    "a response scorer scores each response on its own, so the display order "
    "cannot change its verdict"
)


def probe_sample(comparisons: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of ``n`` of the run's distinct pairs, without verdicts."""
    table = comparisons
    if "judge" in table.columns and len(table):
        first = str(table["judge"].iloc[0])
        table = table[table["judge"].astype(str) == first]
    pairs = unjudged(table)
    key = [c for c in ("prompt_id", "model_a", "model_b") if c in pairs.columns]
    pairs = pairs.drop_duplicates(subset=key).reset_index(drop=True)
    size = min(n, len(pairs))
    picked = np.random.default_rng(seed).choice(len(pairs), size=size, replace=False)
    return pairs.iloc[np.sort(picked)].reset_index(drop=True)


def _skipped_probe_rows(names: Sequence[str], judge: str, why: str) -> list[Any]:
    """One skipped audit row per probe, saying why."""
    from prefkit.audit.result import make_row

    return [
        make_row(
            "probe",
            "first_slot_rate" if name == "position" else f"{name}_shift",
            judge,
            None,
            note=f"skipped: {why}",
        )
        for name in names
    ]


@dataclass
class ProbeResult:
    """What :func:`probe_step` returns.

    Attributes
    ----------
    table : DataFrame
        Audit rows of the probes (``audit="probe"``), skipped ones with the
        reason in ``note``.
    n_pairs : int
        Pairs the probes re-judged.
    probed : list of str
        Judges probed live.
    skipped : dict of str to str
        Judges (or probes) left out, and why.
    """

    table: pd.DataFrame
    n_pairs: int
    probed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The run.json record of the probes."""
        return {
            "pairs": self.n_pairs,
            "probed": list(self.probed),
            "skipped": dict(self.skipped),
        }


def probe_step(
    comparisons: pd.DataFrame,
    judges: Sequence[str],
    probes: Sequence[str],
    *,
    n_pairs: int = 40,
    dual_order: bool = True,
    cache: str | os.PathLike[str] | None = None,
    rounds: int = 1000,
    seed: int = 0,
    progress: Progress = True,
) -> ProbeResult:
    """Active bias probes with every live judge of a run, on a sample of its pairs.

    Each judge spec is probed with :func:`prefkit.audit.probes.probe` on the
    same seeded sample of ``n_pairs`` pairs (:func:`probe_sample`), through
    the run's cache (a re-run is served from it, and the unperturbed
    verdicts are those of the judge step). Replayed verdicts (``replay:``)
    are not probed, nor is the jury (its verdicts combine its jurors', which
    are probed each); a response scorer (``likelihood``) takes every cue
    probe but not ``position``, which cannot move it. The position probe's
    rows are labelled ``audit="probe"`` so they stand apart from the passive
    position audit.
    """
    from prefkit.audit.probes import probe
    from prefkit.audit.result import build_table
    from prefkit.judge.backends import ResponseScorer, judge_id, make_backend

    pairs = probe_sample(comparisons, n_pairs, seed)
    result = ProbeResult(table=build_table([], warn=False), n_pairs=len(pairs))
    tables: list[pd.DataFrame] = []
    if len(judges) > 1:
        logger.info(
            "the jury is not probed: its verdicts combine its jurors', each "
            "probed on its own"
        )
    for spec in judges:
        backend = make_backend(spec)
        label = judge_id(backend)
        if hasattr(backend, "verdicts"):
            logger.info("not probing %s: %s", label, NOT_PROBED_REPLAY)
            result.skipped[label] = NOT_PROBED_REPLAY
            tables.append(
                build_table(_skipped_probe_rows(probes, label, NOT_PROBED_REPLAY))
            )
            continue
        names = list(probes)
        if isinstance(backend, ResponseScorer) and "position" in names:
            logger.info("no position probe for %s: %s", label, NOT_PROBED_ORDER)
            result.skipped[f"{label} position"] = NOT_PROBED_ORDER
            tables.append(
                build_table(_skipped_probe_rows(["position"], label, NOT_PROBED_ORDER))
            )
            names.remove("position")
        if not names:
            continue
        logger.info("probing %s with %s on %d pairs", label, names, len(pairs))
        found = probe(
            pairs,
            backend,
            probes=names,
            dual_order=dual_order,
            rounds=rounds,
            seed=seed,
            cache=cache,
            progress=progress,
        ).table
        found["audit"] = "probe"
        tables.append(found)
        result.probed.append(label)
    if tables:
        result.table = pd.concat(tables, ignore_index=True)
    return result
