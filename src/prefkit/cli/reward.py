"""``prefkit reward train|eval|score``: reward models from comparisons files."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    SeedOption,
    clean_errors,
    console,
    print_frame,
    print_json,
)

reward_app = typer.Typer(
    name="reward",
    help="Reward and preference models: train, evaluate, score.",
    no_args_is_help=True,
)

HeadOption = Annotated[
    str,
    typer.Option("--head", help="bt (scalar reward) or gpm (preference embedding)."),
]
EncoderOption = Annotated[
    str, typer.Option("--encoder", help="minilm (embedded MiniLM) or hashing.")
]
CacheOption = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Folder of the on-disk embedding cache."),
]


def _gold(y: Any) -> Any:
    """The targets of a labelled table (never None once a winner was required)."""
    if y is None:
        raise CliError("the pairs have no winner column")
    return y


def _read_pairs(data: Path | None, benchmark: str | None, data_dir: Path) -> Any:
    from prefkit.reward.datasets import load_benchmark, read_pairs

    if (data is None) == (benchmark is None):
        raise CliError("give either a DATA file or --benchmark NAME (not both)")
    if benchmark is not None:
        return load_benchmark(benchmark, data_dir)
    return read_pairs(data)  # type: ignore[arg-type]


def _recipe(
    head: str,
    hidden: int,
    max_epochs: int,
    lr: float,
    label_smoothing: float,
    margin: float,
    contrastive: float,
    seed: int,
    encoder: str,
    length: bool,
    n_models: int,
    flip_share: float,
    drop_share: float,
    adaptive_margin: float,
) -> tuple[Any, Any, Any]:
    from prefkit.reward import FeatureSpec, RewardConfig, RobustConfig

    config = RewardConfig(
        head=head,  # type: ignore[arg-type]
        hidden=hidden,
        max_epochs=max_epochs,
        lr=lr,
        label_smoothing=label_smoothing,
        margin=margin,
        contrastive=contrastive,
        seed=seed,
    )
    spec = FeatureSpec(encoder=encoder, length_feature=length)  # type: ignore[arg-type]
    robust = RobustConfig(
        n_models=n_models,
        flip_share=flip_share,
        drop_share=drop_share,
        adaptive_margin=adaptive_margin,
    )
    return config, spec, robust


# Options shared by train and eval (the training recipe).
Hidden = Annotated[int, typer.Option("--hidden", help="Hidden units (0: linear).")]
MaxEpochs = Annotated[int, typer.Option("--max-epochs", help="Most epochs.")]
Lr = Annotated[float, typer.Option("--lr", help="AdamW learning rate.")]
Smooth = Annotated[
    float, typer.Option("--label-smoothing", help="Label smoothing epsilon.")
]
Margin = Annotated[float, typer.Option("--margin", help="Constant BT margin.")]
Contrastive = Annotated[
    float, typer.Option("--contrastive", help="Weight of the contrastive term.")
]
Length = Annotated[
    bool,
    typer.Option("--length/--no-length", help="Include the log-length feature."),
]
NModels = Annotated[
    int, typer.Option("--n-models", help="Ensemble size for preference strength.")
]
Flip = Annotated[
    float, typer.Option("--flip-share", help="Flip up to this share of labels.")
]
Drop = Annotated[
    float, typer.Option("--drop-share", help="Drop this share of ambiguous pairs.")
]
Adaptive = Annotated[
    float, typer.Option("--adaptive-margin", help="Margin per unit of strength.")
]
Benchmark = Annotated[
    str | None,
    typer.Option(
        "--benchmark",
        help="hh-helpful, hh-harmless, pandalm, llmbar or faireval (from --data-dir).",
    ),
]
DataDir = Annotated[
    Path,
    typer.Option("--data-dir", help="The shared data folder holding the benchmarks."),
]


@clean_errors
def train(
    data: Annotated[
        Path | None, typer.Argument(help="Labelled pairs: comparisons or HH/TRL file.")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to save the model in.")
    ] = Path("reward-model"),
    benchmark: Benchmark = None,
    data_dir: DataDir = Path("../shared/data"),
    head: HeadOption = "bt",
    hidden: Hidden = 64,
    max_epochs: MaxEpochs = 60,
    lr: Lr = 3e-4,
    label_smoothing: Smooth = 0.0,
    margin: Margin = 0.0,
    contrastive: Contrastive = 0.0,
    encoder: EncoderOption = "minilm",
    length: Length = True,
    n_models: NModels = 4,
    flip_share: Flip = 0.0,
    drop_share: Drop = 0.0,
    adaptive_margin: Adaptive = 0.0,
    cache_dir: CacheOption = None,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Train an embedding-head reward model and save it as a folder.

    Example: prefkit reward train pairs.jsonl --out rm/ --head bt --flip-share 0.1
    """
    from prefkit.reward.features import get_encoder
    from prefkit.reward.model import RewardModel, pair_features, pair_inputs
    from prefkit.reward.strength import fit_robust

    table = _read_pairs(data, benchmark, data_dir)
    config, spec, robust = _recipe(
        head,
        hidden,
        max_epochs,
        lr,
        label_smoothing,
        margin,
        contrastive,
        seed,
        encoder,
        length,
        n_models,
        flip_share,
        drop_share,
        adaptive_margin,
    )
    start = time.perf_counter()
    inputs = pair_inputs(table, need_winner=True)
    cache = str(cache_dir) if cache_dir else None
    x_a, x_b = pair_features(inputs, spec, get_encoder(spec.encoder, cache))
    embedded = time.perf_counter()
    fit, targets = fit_robust(
        x_a,
        x_b,
        _gold(inputs.y),
        config,
        robust,
        progress=not as_json,
    )
    model = RewardModel(
        fit.head, config, spec, fit.history, fit.converged_, fit.n_iter_, cache
    )
    model.save(out)
    last = fit.history.iloc[fit.best_epoch_ - 1]
    summary = {
        "out": str(out),
        "n_pairs": len(table),
        "head": config.head,
        "epochs": fit.n_iter_,
        "best_epoch": fit.best_epoch_,
        "converged": fit.converged_,
        "val_accuracy": float(last["val_accuracy"]),
        "val_loss": float(last["val_loss"]),
        "n_flipped": targets.n_flipped if targets else 0,
        "n_dropped": targets.n_dropped if targets else 0,
        "embed_seconds": round(embedded - start, 2),
        "train_seconds": round(time.perf_counter() - embedded, 2),
    }
    if as_json:
        print_json(summary)
    else:
        for key, value in summary.items():
            console.print(f"{key}: {value}")


@clean_errors
def evaluate(
    data: Annotated[
        Path | None, typer.Argument(help="Labelled pairs to evaluate on.")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="A saved model folder (else --kfold)."),
    ] = None,
    kfold: Annotated[
        int, typer.Option("--kfold", help="K-fold train/test on DATA (no --model).")
    ] = 5,
    benchmark: Benchmark = None,
    data_dir: DataDir = Path("../shared/data"),
    ties: Annotated[
        str, typer.Option("--ties", help="Model ties: wrong (RewardBench) or half.")
    ] = "wrong",
    ci: Annotated[str, typer.Option("--ci", help="wilson or bootstrap.")] = "wilson",
    level: Annotated[float, typer.Option("--level", help="CI level.")] = 0.95,
    head: HeadOption = "bt",
    hidden: Hidden = 64,
    max_epochs: MaxEpochs = 60,
    lr: Lr = 3e-4,
    label_smoothing: Smooth = 0.0,
    margin: Margin = 0.0,
    contrastive: Contrastive = 0.0,
    encoder: EncoderOption = "minilm",
    length: Length = True,
    n_models: NModels = 4,
    flip_share: Flip = 0.0,
    drop_share: Drop = 0.0,
    adaptive_margin: Adaptive = 0.0,
    cache_dir: CacheOption = None,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Pairwise accuracy with CIs per subset, beside the pick-longer baseline.

    With --model, evaluates a saved model; otherwise trains and tests the
    recipe by k-fold cross-validation on the same pairs.

    Example: prefkit reward eval --benchmark hh-helpful --data-dir ../shared/data
    """
    from prefkit.reward.crossval import kfold_logits
    from prefkit.reward.evaluate import accuracy_table, longer_logits
    from prefkit.reward.model import RewardModel, pair_inputs

    table = _read_pairs(data, benchmark, data_dir)
    cache = str(cache_dir) if cache_dir else None
    inputs = pair_inputs(table, need_winner=True)
    if model is not None:
        rm = RewardModel.load(model, cache)
        logits = rm.pair_logits(table)
    else:
        config, spec, robust = _recipe(
            head,
            hidden,
            max_epochs,
            lr,
            label_smoothing,
            margin,
            contrastive,
            seed,
            encoder,
            length,
            n_models,
            flip_share,
            drop_share,
            adaptive_margin,
        )
        logits = kfold_logits(
            table, config, spec, robust, k=kfold, seed=seed, cache_dir=cache
        ).logits
    subsets = table["subset"].astype(str).tolist() if "subset" in table else None
    result = accuracy_table(
        logits,
        _gold(inputs.y),
        baseline=longer_logits(inputs.response_a, inputs.response_b),
        subsets=subsets,
        ties=ties,  # type: ignore[arg-type]
        level=level,
        ci=ci,  # type: ignore[arg-type]
        seed=seed,
    )
    result = result.rename(columns=lambda c: c.replace("baseline_", "longer_"))
    if as_json:
        print_json(result)
    else:
        print_frame(result, title="pairwise accuracy (longer_* = pick-longer baseline)")


@clean_errors
def score(
    model: Annotated[Path, typer.Argument(help="A saved reward-model folder.")],
    data: Annotated[
        Path, typer.Argument(help="Pairs (response_a/response_b) or responses.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the scored table here.")
    ] = None,
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score a table: p_a and a verdict per pair, or a score per response.

    Pairs become comparisons with p_a = sigmoid(r_a - r_b); a table with a
    `response` column becomes ratings with a `score`.

    Example: prefkit reward score rm/ pairs.jsonl --out judged.jsonl
    """
    from prefkit.data import read_table, write_table
    from prefkit.reward.model import RewardModel
    from prefkit.reward.scoring import judge_pairs, score_ratings

    table = read_table(data)
    rm = RewardModel.load(model, str(cache_dir) if cache_dir else None)
    judge = f"rm:{model.name}"
    if {"response_a", "response_b"} <= set(table.columns):
        result = judge_pairs(rm, table, judge)
        shown = ["p_a", "winner"]
    elif "response" in table.columns:
        result = score_ratings(rm, table, judge)
        shown = ["score"]
    else:
        raise CliError(
            f"{data} has neither response_a/response_b (pairs) nor response "
            f"(responses); columns: {', '.join(map(str, table.columns))}"
        )
    if out is not None:
        write_table(result, out)
    if as_json:
        print_json(result)
    elif out is None:
        keep = [c for c in ("prompt_id", "model", "model_a", "model_b") if c in result]
        print_frame(result[keep + shown])
    else:
        console.print(f"wrote {len(result)} rows to {out}")


def register(app: typer.Typer) -> None:
    """Add ``prefkit reward train|eval|score`` to ``app``."""
    reward_app.command("train")(train)
    reward_app.command("eval")(evaluate)
    reward_app.command("score")(score)
    app.add_typer(reward_app, name="reward")
    # make `rm:PATH` judge specs available wherever the CLI runs
    with contextlib.suppress(ImportError):
        import prefkit.reward.backend  # noqa: F401
