"""``prefkit optimize``: preference losses, training, ranking diagnostics, curricula."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    clean_errors,
    print_frame,
    print_json,
)

optimize_app = typer.Typer(
    help="Preference optimization: DPO-family losses, training, ranking accuracy.",
    no_args_is_help=True,
)

PairsArg = Annotated[
    Path,
    typer.Argument(
        help="Pairs file: prompt/chosen/rejected, a comparisons table, or HH "
        "transcripts (.jsonl.gz with chosen/rejected dialogues).",
    ),
]
TrainArg = Annotated[
    Path,
    typer.Argument(
        help="Pairs file: prompt/chosen/rejected, a comparisons table, or HH "
        "transcripts (.jsonl.gz with chosen/rejected dialogues). For --loss "
        "listwise also a ranked table (prompt, response and rank, score or "
        "rating per row) or a candidates table (prompt, model, response) "
        "with --scores.",
    ),
]
SkipOption = Annotated[int, typer.Option("--skip", help="Pairs to skip first.")]
LimitOption = Annotated[
    int | None, typer.Option("--limit", help="Pairs to use (all if absent).")
]


def _read_pairs(path: Path, skip: int, limit: int | None) -> pd.DataFrame:
    """Pairs from a file, HH transcripts detected by their fields."""
    from prefkit.data.io import read_table
    from prefkit.optimize.pairs import preference_pairs, read_hh

    if skip < 0 or (limit is not None and limit < 1):
        raise CliError(f"--skip must be >= 0 and --limit >= 1 (got {skip}, {limit})")
    want = None if limit is None else skip + limit
    if path.name.endswith((".jsonl.gz", ".jsonl")) and _is_hh(path):
        table = read_hh(path, limit=want)
    else:
        table = read_table(path)
    return preference_pairs(_rows(table, path, skip, want), source=path.name)


def _rows(
    table: pd.DataFrame, path: Path, skip: int, want: int | None, unit: str = "rows"
) -> pd.DataFrame:
    """Rows ``skip:want`` of a table with their file lines; --skip within it."""
    from prefkit.data.schema import LINES_ATTR

    if skip and skip >= len(table):
        raise CliError(
            f"{path.name}: --skip {skip} passes the end of the file "
            f"({len(table)} {unit}); skip fewer"
        )
    lines = table.attrs.get(LINES_ATTR)
    out = table.iloc[skip:want]
    if lines is not None and len(lines) == len(table):
        out.attrs[LINES_ATTR] = lines[skip:want]
    return out


def _read_training(
    path: Path, loss: str, skip: int, limit: int | None, scores: Path | None
) -> tuple[pd.DataFrame, str]:
    """The training table and what its rows are ("pairs" or "lists")."""
    from prefkit.data.io import read_table
    from prefkit.optimize.lists import is_ranked_table, ranked_lists

    if loss != "listwise" or (
        scores is None and path.name.endswith((".jsonl.gz", ".jsonl")) and _is_hh(path)
    ):
        if scores is not None:
            raise CliError(
                "--scores is only for --loss listwise (a candidates table and "
                "the scores that rank its responses)"
            )
        return _read_pairs(path, skip, limit), "pairs"
    if skip < 0 or (limit is not None and limit < 1):
        raise CliError(f"--skip must be >= 0 and --limit >= 1 (got {skip}, {limit})")
    table = read_table(path)
    if scores is not None:
        lists = ranked_lists(
            table, path.name, scores=read_table(scores), scores_source=scores.name
        )
    elif is_ranked_table(table):
        lists = ranked_lists(table, path.name)
    elif {"chosen", "rejected"} <= set(table.columns) or "winner" in table.columns:
        return _read_pairs(path, skip, limit), "pairs"
    else:
        raise CliError(
            f"{path.name}: --loss listwise needs a ranked table (prompt, "
            "response and rank, score or rating), a candidates table (prompt, "
            "model, response) with --scores, or pairs (prompt, chosen, "
            f"rejected); got columns {sorted(map(str, table.columns))}"
        )
    want = None if limit is None else skip + limit
    lists = _rows(lists, path, skip, want, "ranked lists")
    return lists.reset_index(drop=True), "lists"


def _is_hh(path: Path) -> bool:
    """Whether the first record looks like an HH transcript (never raises).

    A file this cannot read (blank, not JSON, not gzip, not UTF-8) is left to
    the table reader, which reports the file and line.
    """
    import gzip
    import json

    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            # the first non-blank line (readers skip blank lines)
            line = next((text for text in handle if text.strip()), "{}")
        first = json.loads(line)
    except (OSError, EOFError, ValueError):
        # ValueError covers JSONDecodeError and UnicodeDecodeError;
        # OSError covers gzip.BadGzipFile
        return False
    if not isinstance(first, dict):
        return False
    chosen = str(first.get("chosen", ""))
    return "prompt" not in first and "\n\nAssistant:" in chosen


def _load_model(folder: Path | None) -> tuple[Any, Any]:
    """A model and its tokenizer (a folder already checked by _check_model_folder)."""
    from prefkit.models.hf import load_smollm2, quiet_loading

    if folder is None:
        return load_smollm2()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(folder)
    model.eval()
    return model, tokenizer


def _check_model_folder(folder: Path | None, option: str) -> None:
    """A model folder given on the command line exists and has a config.json."""
    if folder is None:
        return
    if not folder.is_dir():
        raise CliError(f"{option} {folder}: no such folder; give a HF model folder")
    if not (folder / "config.json").is_file():
        raise CliError(
            f"{option} {folder}: not a model folder (no config.json); give the "
            "folder `optimize train --out` wrote or a HF model folder"
        )


def _params(values: list[str]) -> dict[str, float]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise CliError(f"--param {item!r}: expected NAME=NUMBER, e.g. beta=0.1")
    return out


@optimize_app.command("losses")
@clean_errors
def losses_command(json_out: JsonOption = False) -> None:
    """List the registry losses and their hyper-parameters.

    Example: prefkit optimize losses --json
    """
    from prefkit.optimize.losses import LOSSES, NEEDS, get_loss, hyper_parameters

    rows = [
        {
            "loss": name,
            "hyper_parameters": ", ".join(
                f"{k}={v}" for k, v in hyper_parameters(name).items()
            ),
            "needs": ", ".join(NEEDS[name]),
            "summary": (get_loss(name).__doc__ or "").strip().splitlines()[0],
        }
        for name in LOSSES
    ]
    if json_out:
        print_json(rows)
    else:
        print_frame(pd.DataFrame(rows), title="preference losses")


@optimize_app.command("train")
@clean_errors
def train_command(
    pairs: TrainArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for the trained model.")],
    loss: Annotated[str, typer.Option("--loss", help="Registry loss.")] = "dpo",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Loss hyper-parameter NAME=VALUE (repeatable)."),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", help="Optimizer steps.")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 2,
    grad_accum: Annotated[int, typer.Option("--grad-accum")] = 1,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 5e-6,
    max_length: Annotated[int, typer.Option("--max-length")] = 256,
    max_prompt_length: Annotated[int, typer.Option("--max-prompt-length")] = 128,
    lora: Annotated[bool, typer.Option("--lora", help="Train LoRA adapters.")] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder (embedded SmolLM2).")
    ] = None,
    scores: Annotated[
        Path | None,
        typer.Option(
            "--scores",
            help="listwise: scores of a candidates table (prompt_id or prompt, "
            "model, and rank, score or rating).",
        ),
    ] = None,
    degrees: Annotated[
        int, typer.Option("--degrees", help="spo: degree classes of the copies.")
    ] = 4,
    skip: SkipOption = 0,
    limit: LimitOption = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonOption = False,
) -> None:
    """Train a policy on preference pairs and save it as a HF model folder.

    With --loss listwise it also trains on k ranked responses per prompt;
    with --loss spo it trains a degree head too (saved as degree_head.pt).
    --skip and --limit count pairs, or prompts for ranked lists.

    Example: prefkit optimize train helpful-base_test.jsonl.gz --limit 300
    --steps 30 --lr 5e-6 --param beta=0.1 --out runs/dpo
    """
    from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

    # settings first: a bad one fails before any reading or model work
    _check_model_folder(model, "--model")
    config = TrainConfig(
        loss=loss,  # type: ignore[arg-type]
        loss_params=_params(param or []),
        learning_rate=lr,
        batch_size=batch_size,
        grad_accum=grad_accum,
        max_steps=steps,
        max_length=max_length,
        max_prompt_length=max_prompt_length,
        lora=lora,
        seed=seed,
        progress=not json_out,
        n_degrees=degrees,
    )
    table, kind = _read_training(pairs, loss, skip, limit, scores)
    policy, tokenizer = _load_model(model)
    trainer = PreferenceTrainer(policy, tokenizer, config).fit(table)
    trainer.save(out)
    if json_out:
        print_json({"out": str(out), "history": trainer.history_})
    else:
        print_frame(trainer.history_, title=f"training ({len(table)} {kind}) -> {out}")


@optimize_app.command("ranking")
@clean_errors
def ranking_command(
    pairs: PairsArg,
    model: Annotated[
        Path | None, typer.Option("--model", help="Policy folder (embedded SmolLM2).")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="Reference folder (embedded SmolLM2)."),
    ] = None,
    beta: Annotated[float, typer.Option("--beta", help="KL strength.")] = 0.1,
    preference: Annotated[
        float,
        typer.Option("--preference", help="P(chosen preferred) for idealized acc."),
    ] = 1.0,
    max_length: Annotated[int, typer.Option("--max-length")] = 256,
    max_prompt_length: Annotated[
        int | None,
        typer.Option("--max-prompt-length", help="Default: 2/3 of --max-length."),
    ] = None,
    skip: SkipOption = 0,
    limit: LimitOption = None,
    json_out: JsonOption = False,
) -> None:
    """Ranking accuracy of a policy, of its reference, and the idealized one.

    Example: prefkit optimize ranking pairs.jsonl --model runs/dpo --json
    """
    from prefkit.optimize.diagnostics import ranking_report
    from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

    # settings first: a bad one fails before any reading or model work
    if max_length < 2:
        raise CliError(
            f"--max-length must be >= 2 (got {max_length}): it holds at least one "
            "prompt token and one completion token"
        )
    if not (math.isfinite(beta) and beta > 0):
        raise CliError(f"--beta must be > 0 and finite (got {beta}); e.g. 0.1")
    if not 0.0 <= preference <= 1.0:
        raise CliError(
            f"--preference must be in [0, 1] (got {preference}): it is the "
            "probability that chosen is preferred"
        )
    _check_model_folder(model, "--model")
    _check_model_folder(reference, "--reference")
    config = TrainConfig(
        max_length=max_length,
        max_prompt_length=(
            max_length * 2 // 3 if max_prompt_length is None else max_prompt_length
        ),
        progress=not json_out,
    )
    table = _read_pairs(pairs, skip, limit)
    scores: list[Any] = []
    for folder in (reference, model):
        if scores and folder == reference:
            # the policy is the reference (both the embedded model): score once
            scores.append(scores[0])
            continue
        net, tokenizer = _load_model(folder)
        scorer = PreferenceTrainer(net, tokenizer, config)
        scores.append(scorer.score(scorer.encode(table), progress=not json_out))
    ref, pol = scores
    report = ranking_report(
        pol[:, 0], pol[:, 1], ref[:, 0], ref[:, 1], preference, beta
    )
    gap = report.attrs["alignment_gap"]
    if json_out:
        print_json({"figures": report, "alignment_gap": gap})
    else:
        print_frame(report, title=f"ranking accuracy (alignment gap {gap:.3f})")


@optimize_app.command("curriculum")
@clean_errors
def curriculum_command(
    ratings: Annotated[Path, typer.Argument(help="Ratings table with texts.")],
    out: Annotated[Path, typer.Option("--out", help="Pairs file to write.")],
    pairs: Annotated[str, typer.Option("--pairs", help="all | best_vs_rest")] = "all",
    order: Annotated[str, typer.Option("--order", help="global | staged")] = "global",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonOption = False,
) -> None:
    """Curry-DPO pairs from rated responses, ordered easy to hard.

    Example: prefkit optimize curriculum ratings.jsonl --out pairs.jsonl
    """
    from prefkit.curate.curriculum import curriculum_pairs
    from prefkit.data.io import read_table, write_table

    table = curriculum_pairs(
        read_table(ratings),
        pairs=pairs,  # type: ignore[arg-type]
        order=order,  # type: ignore[arg-type]
        seed=seed,
    )
    write_table(table, out)
    summary = {"pairs": len(table), "out": str(out)}
    if json_out:
        print_json(summary)
    else:
        print_frame(pd.DataFrame([summary]), title="Curry-DPO pairs")


def register(app: typer.Typer) -> None:
    """Add ``prefkit optimize ...`` to ``app``."""
    app.add_typer(optimize_app, name="optimize")
