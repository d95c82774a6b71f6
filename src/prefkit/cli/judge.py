"""``prefkit judge``: judge candidate responses with an LLM, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    SeedOption,
    clean_errors,
    err_console,
    print_frame,
    print_json,
)

DEFAULT_CACHE = Path.home() / ".cache" / "prefkit" / "judge.sqlite"


def _read_input(path: Path) -> tuple[Any, bool]:
    """The table and whether it already holds pairs (a comparisons table)."""
    from prefkit.data import read_table

    table = read_table(path)
    is_pairs = {"model_a", "model_b"} <= set(table.columns)
    return table, is_pairs


def _grade_scale(text: str) -> tuple[int, int]:
    low, sep, high = text.partition(",")
    if not sep or not low.strip().isdigit() or not high.strip().isdigit():
        raise CliError(f"--grade-scale {text!r} must be LOW,HIGH, e.g. 1,5 or 1,10")
    return int(low), int(high)


def _summary(out: Any, protocol: str) -> dict[str, Any]:
    from prefkit.judge import positional_consistency

    if protocol == "pointwise":
        return {"responses": len(out), "mean_score": float(out["score"].mean())}
    if protocol == "listwise":
        return {"prompts": len(out), "ranked": int(out["ranked"].notna().sum())}
    counts = out["winner"].value_counts().to_dict()
    if "winner_ab" not in out.columns:
        # a jury: no per-order verdicts of its own
        out = out.assign(winner_ab=None, winner_ba=None)
    return {
        "pairs": len(out),
        "a": int(counts.get("a", 0)),
        "b": int(counts.get("b", 0)),
        "tie": int(counts.get("tie", 0)),
        "no_verdict": int(out["winner"].isna().sum()),
        "positional_consistency": positional_consistency(
            out["winner_ab"].tolist(), out["winner_ba"].tolist()
        ),
        "first_slot_rate_ab": float((out["winner_ab"] == "a").mean()),
        "mean_uncertainty": float(out["uncertainty"].mean()),
        "judge": str(out["judge"].iloc[0]) if len(out) else None,
    }


@clean_errors
def judge(
    candidates: Annotated[
        Path,
        typer.Argument(
            help="Candidates (prompt_id, prompt, model, response) or unjudged "
            "pairs (model_a, model_b, ...): JSONL, CSV or Parquet."
        ),
    ],
    judge_spec: Annotated[
        str,
        typer.Option(
            "--judge",
            help="local, likelihood, openai:MODEL@URL (key in $OPENAI_API_KEY), "
            "replay:FILE or replay:FILE#JUDGE, or a registered backend.",
        ),
    ] = "local",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the judged table here.")
    ] = None,
    protocol: Annotated[
        str, typer.Option("--protocol", help="pairwise, pointwise or listwise.")
    ] = "pairwise",
    pairs: Annotated[
        str, typer.Option("--pairs", help="all, baseline:MODEL or sample:N.")
    ] = "all",
    scale: Annotated[str, typer.Option("--scale", help="ab or 5level.")] = "ab",
    samples: Annotated[
        int, typer.Option("--samples", help="k samples per order (FairEval).")
    ] = 1,
    single_order: Annotated[
        bool,
        typer.Option("--single-order", help="Judge one random order, not both."),
    ] = False,
    disagreement: Annotated[
        str, typer.Option("--disagreement", help="tie, average or drop.")
    ] = "tie",
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Requests in flight.")
    ] = 4,
    cache: Annotated[
        Path, typer.Option("--cache", help="SQLite cache (resumable runs).")
    ] = DEFAULT_CACHE,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Send every request again.")
    ] = False,
    jury: Annotated[
        str | None,
        typer.Option(
            "--jury", help="Comma-separated judges aggregated as a jury (pairwise)."
        ),
    ] = None,
    jury_method: Annotated[
        str,
        typer.Option("--jury-method", help="majority, mean or weighted (by gold)."),
    ] = "majority",
    route: Annotated[
        int | None,
        typer.Option("--route-to-humans", help="Export the N most uncertain pairs."),
    ] = None,
    queue_out: Annotated[
        Path | None,
        typer.Option("--queue-out", help="Human-review queue file (JSONL)."),
    ] = None,
    rubric: Annotated[
        str | None, typer.Option("--rubric", help="Rubric text (pointwise).")
    ] = None,
    grade_scale: Annotated[
        str, typer.Option("--grade-scale", help="LOW,HIGH grades (pointwise).")
    ] = "1,5",
    prompts_dir: Annotated[
        Path | None,
        typer.Option("--prompts-dir", help="Folder of prompt files to use instead."),
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", help="Retries of a failed request.")
    ] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before a request times out.")
    ] = 120.0,
    max_rate: Annotated[
        float | None,
        typer.Option("--max-rate", help="Most requests started per second."),
    ] = None,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Hide the progress bar.")
    ] = False,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Judge model responses pairwise (both orders), pointwise or listwise.

    Writes a comparisons table (p_a, per-order verdicts, uncertainty), a
    ratings table (pointwise) or a rankings table (listwise). Every reply is
    cached, so an interrupted run resumes and a re-run costs no request.

    Example: prefkit judge cands.jsonl --judge openai:smollm2@http://127.0.0.1:8000/v1
    --pairs baseline:gpt4 --out judged.jsonl --route-to-humans 50 --queue-out q.jsonl
    """
    from prefkit.data import write_table
    from prefkit.judge import (
        RetryPolicy,
        grade,
        judge_jury,
        judge_pairs,
        make_pairs,
        rank_candidates,
        route_to_humans,
        write_queue,
    )

    if protocol not in ("pairwise", "pointwise", "listwise"):
        raise CliError(
            f"--protocol {protocol!r} is not known; expected pairwise, pointwise "
            "or listwise"
        )
    if (route is None) != (queue_out is None):
        raise CliError("--route-to-humans N and --queue-out FILE go together")
    if route is not None and protocol != "pairwise":
        raise CliError("--route-to-humans needs --protocol pairwise")
    table, is_pairs = _read_input(candidates)
    store = None if no_cache else cache
    common: dict[str, Any] = {
        "concurrency": concurrency,
        "cache": store,
        "progress": not no_progress,
        "seed": seed,
        "prompts_dir": prompts_dir,
        "retry": RetryPolicy(max_retries=retries, timeout=timeout, max_rate=max_rate),
    }
    if protocol == "pairwise":
        todo = table if is_pairs else make_pairs(table, pairs, seed=seed)
        specs = [s.strip() for s in (jury or "").split(",") if s.strip()]

        def run(todo: Any, spec: str, **kw: Any) -> Any:
            if not specs:
                return judge_pairs(todo, spec, **kw)
            return judge_jury(todo, specs, method=jury_method, **kw)  # type: ignore[arg-type]

        result = run(
            todo,
            judge_spec,
            scale=scale,  # type: ignore[arg-type]
            dual_order=not single_order,
            disagreement=disagreement,  # type: ignore[arg-type]
            samples=samples,
            **common,
        )
    elif is_pairs:
        raise CliError(
            f"--protocol {protocol} needs candidates (prompt_id, prompt, model, "
            "response), not pairs"
        )
    elif protocol == "pointwise":
        from prefkit.judge.pointwise import DEFAULT_RUBRIC

        result = grade(
            table,
            judge_spec,
            rubric=rubric or DEFAULT_RUBRIC,
            scale=_grade_scale(grade_scale),
            samples=samples,
            **common,
        )
    else:
        result = rank_candidates(table, judge_spec, **common)
    if out is not None:
        write_table(result, out)
    if route is not None and queue_out is not None:
        write_queue(route_to_humans(result, route), queue_out)
        err_console.print(f"wrote {min(route, len(result))} pairs to {queue_out}")
    summary = _summary(result, protocol)
    if as_json:
        print_json(summary)
    else:
        import pandas as pd

        print_frame(
            pd.DataFrame({"figure": list(summary), "value": list(summary.values())})
        )


def register(app: typer.Typer) -> None:
    """Add ``prefkit judge`` to ``app``."""
    app.command("judge")(judge)
