"""``prefkit evaluate``, ``prefkit demo``, ``prefkit generate``, ``prefkit report``.

Thin commands over :mod:`prefkit.evaluate` and :mod:`prefkit.report`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from prefkit.cli.common import (
    JsonOption,
    SeedOption,
    clean_errors,
    console,
    err_console,
    fail,
    print_frame,
    print_json,
)

#: Probes the demo runs: content-free padding tells a length preference from a
#: preference for better answers, which the passive audit cannot without gold.
DEMO_PROBES = "verbosity"

BOARD_COLUMNS = ("rank", "model", "rating", "lower", "upper", "win_rate", "lc_win_rate")


def _announce(total: int) -> Any:
    """A callback printing ``step k/total: name`` to stderr as each step starts."""
    seen: list[str] = []

    def on_step(name: str) -> None:
        seen.append(name)
        err_console.print(f"[bold]step {len(seen)}/{total}[/]: {name}", highlight=False)

    return on_step


def _show(result: Any, as_json: bool, elapsed: float) -> None:
    """Print the leaderboard and where the report is (or all of it as JSON)."""
    board = result.leaderboard
    if as_json:
        print_json(
            {
                "folder": str(result.folder),
                "report": str(result.folder / "report.html"),
                "leaderboard": board,
                "flagged": result.audit.flagged if result.audit is not None else [],
                "timings_seconds": result.timings,
                "seconds": round(elapsed, 2),
            }
        )
        return
    print_frame(
        board[[c for c in BOARD_COLUMNS if c in board.columns]], title="leaderboard"
    )
    if result.audit is not None and len(result.audit.flagged):
        flagged = result.audit.flagged
        print_frame(
            flagged[
                [
                    "audit",
                    "figure",
                    "judge",
                    "value",
                    "lower",
                    "upper",
                    "band_low",
                    "band_high",
                ]
            ],
            title="flagged by the audit",
        )
    console.print(
        f"finished in {elapsed:.1f} s; report written to "
        f"{result.folder / 'report.html'}",
        highlight=False,
    )


def _input_config(path: Path, judges: list[str]) -> Any:
    """An EvaluateConfig from a config file, a candidates or a comparisons table."""
    from prefkit.data import read_table
    from prefkit.evaluate import EvaluateConfig, load_config
    from prefkit.evaluate.config import is_config_file

    if is_config_file(path):
        return load_config(path)
    columns = set(read_table(path).columns)
    if {"model", "response"} <= columns and "model_a" not in columns:
        return EvaluateConfig(
            candidates=str(path), judges=tuple(judges or ["likelihood"])
        )
    return EvaluateConfig(comparisons=str(path), judges=tuple(judges))


@clean_errors
def evaluate(
    source: Annotated[
        Path,
        typer.Argument(
            help="A config file (.yaml/.toml), a candidates table (prompt_id, prompt, "
            "model, response) or a comparisons table (judged or not)."
        ),
    ],
    judge: Annotated[
        list[str] | None,
        typer.Option(
            "--judge",
            "-j",
            help="Judge spec, repeatable: local, likelihood, "
            "replay:FILE, openai:MODEL@URL. Several form a jury.",
        ),
    ] = None,
    pairs: Annotated[
        str | None,
        typer.Option(
            "--pairs",
            help="Pairing plan: all, baseline:MODEL, sample:N (uniform) or "
            "adaptive:N (N pairs judged in stages aimed at unsure neighbouring "
            "ranks).",
        ),
    ] = None,
    stages: Annotated[
        int | None,
        typer.Option("--stages", help="Judging stages of an adaptive:N plan."),
    ] = None,
    probes: Annotated[
        str | None,
        typer.Option(
            "--probes",
            help="Live bias probes after judging, as in prefkit audit: none, all or a "
            "list of bandwagon, authority, distraction, reflection, verbosity, "
            "position.",
        ),
    ] = None,
    probe_pairs: Annotated[
        int | None,
        typer.Option("--probe-pairs", help="Pairs the probes re-judge (sampled)."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Reference model: win rates and LC win rates."),
    ] = None,
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold", help="Human comparisons on the same items: audit agreement."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="Reader of a comparisons input (auto detects it)."
        ),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            "--control", help="Style-control features of the BT fit, e.g. length."
        ),
    ] = None,
    rounds: Annotated[
        int | None,
        typer.Option("--rounds", help="Bootstrap rounds (rank CIs and audit)."),
    ] = None,
    uncertain: Annotated[
        int | None,
        typer.Option("--uncertain", help="Most uncertain items to list and queue."),
    ] = None,
    single_order: Annotated[
        bool,
        typer.Option(
            "--single-order", help="Judge one random order per pair, not both."
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder.")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Report heading.")
    ] = None,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Generate, judge, rank, audit and report in one call, into one folder.

    The folder gets comparisons.parquet, leaderboard.csv/json, audit.json,
    report.html, summary.md and run.json (every setting, versions, seeds),
    and failures.jsonl when a judge gave no verdict on some pairs.
    Options given here override the config file.

    Example:

        prefkit evaluate annotations.jsonl.gz --baseline gpt4_1106_preview -o runs/ae
    """
    from prefkit.evaluate import evaluate as run

    config = _input_config(source, list(judge or []))
    changes: dict[str, Any] = {
        "judges": tuple(judge) if judge else None,
        "pairs": pairs,
        "stages": stages,
        "probes": "" if probes and probes.strip() == "none" else probes,
        "probe_pairs": probe_pairs,
        "baseline": baseline,
        "gold": str(gold) if gold else None,
        "format": fmt,
        "control": tuple(c.strip() for c in control.split(",")) if control else None,
        "rounds": rounds,
        "n_uncertain": uncertain,
        "output": str(out) if out else None,
        "title": title,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if single_order:
        changes["dual_order"] = False
    if seed:
        changes["seed"] = seed
    config = replace(config, **changes)
    start = time.perf_counter()
    steps = 5 if config.prompts else 4 if config.judges else 3
    result = run(config, progress=not as_json, on_step=_announce(steps))
    _show(result, as_json, time.perf_counter() - start)


@clean_errors
def demo(
    out: Annotated[
        Path, typer.Option("--out", "--output", "-o", help="Output folder.")
    ] = Path("prefkit-demo"),
    prompts: Annotated[
        int | None,
        typer.Option("--prompts", help="Use only the first N built-in instructions."),
    ] = None,
    probes: Annotated[
        str,
        typer.Option(
            "--probes",
            help="Live bias probes of both judges (as in prefkit audit); 'none' "
            "for the passive audits only.",
        ),
    ] = DEMO_PROBES,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """The main job on the embedded model: no input, no network.

    About 30 built-in instructions are answered by four systems built from the
    embedded SmolLM2-135M-Instruct, judged in both orders by the A/B judge and
    the likelihood judge (and their jury), ranked, audited and reported. A
    second run reuses the cache (OUT/cache.sqlite) and takes seconds.

    Example:

        prefkit demo --out prefkit-demo
    """
    from prefkit.evaluate import demo_config
    from prefkit.evaluate import evaluate as run

    if prompts is not None and prompts < 1:
        fail(f"--prompts must be at least 1 (got {prompts})")
    config = demo_config(str(out), n_prompts=prompts, seed=seed)
    if probes.strip() != "none":
        config = replace(config, probes=tuple(probes.split(",")))
    start = time.perf_counter()
    result = run(config, progress=not as_json, on_step=_announce(5))
    _show(result, as_json, time.perf_counter() - start)


@clean_errors
def generate(
    prompts: Annotated[
        str,
        typer.Argument(
            help="Prompts file (prompt_id, prompt) or 'demo' for the built-in set."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Candidates file to write (.jsonl, .csv or .parquet).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="The model column.")] = "smollm2",
    backend: Annotated[
        str, typer.Option("--backend", help="local or openai:MODEL@URL.")
    ] = "local",
    system_prompt: Annotated[
        str | None,
        typer.Option("--system-prompt", help="System prompt sent with every prompt."),
    ] = None,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", help="Longest response.")
    ] = 96,
    temperature: Annotated[float, typer.Option("--temperature")] = 0.0,
    cache: Annotated[
        Path | None,
        typer.Option("--cache", help="SQLite cache: resumable, re-runs are free."),
    ] = None,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Answer prompts with one system: the generate step on its own.

    Example:

        prefkit generate demo -o plain.jsonl --name plain --cache cache.sqlite
    """
    from prefkit.data import write_table
    from prefkit.evaluate import SystemSpec, generate_step, read_prompts
    from prefkit.evaluate.config import DEFAULT_SYSTEM_PROMPT

    system = SystemSpec(
        name=name,
        backend=backend,
        max_tokens=max_tokens,
        temperature=temperature,
        system_prompt=system_prompt or DEFAULT_SYSTEM_PROMPT,
    )
    table = generate_step(
        read_prompts(prompts), [system], cache=cache, seed=seed, progress=not as_json
    )
    write_table(table, output)
    if as_json:
        print_json({"output": str(output), "rows": len(table)})
    else:
        console.print(f"wrote {len(table)} responses to {output}", highlight=False)


@clean_errors
def report(
    folder: Annotated[
        Path, typer.Argument(help="An output folder of prefkit evaluate (or demo).")
    ],
    n_uncertain: Annotated[
        int | None, typer.Option("--uncertain", help="Most uncertain items to list.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write report.html and summary.md again from a run's output folder.

    Example:

        prefkit report prefkit-demo
    """
    from prefkit.evaluate.run import report_from_folder
    from prefkit.report import write_report

    data = report_from_folder(folder)
    if n_uncertain is not None:
        data = replace(data, n_uncertain=n_uncertain)
    path = write_report(data, folder)
    if as_json:
        print_json({"report": str(path), "summary": str(folder / "summary.md")})
    else:
        console.print(f"report written to {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``evaluate``, ``demo``, ``generate`` and ``report`` to ``app``."""
    app.command("evaluate")(evaluate)
    app.command("demo")(demo)
    app.command("generate")(generate)
    app.command("report")(report)
