"""Reward-model benchmark on Anthropic HH (and the other human-labelled sets).

Prints, for the embedding-head reward model (frozen all-MiniLM-L6-v2, BT head):

1. HH helpful, 5-fold: accuracy with a 95% Wilson CI beside pick-longer and
   random, and the paired difference to pick-longer with a bootstrap CI;
2. HH harmless, trained on all of HH helpful;
3. each noise-robust option of "Secrets of RLHF II" against plain training on
   the same folds, with the clean labels and with a share of the training
   labels flipped on purpose;
4. training time on this machine.

Usage (from the repo root; embeddings are cached in --cache-dir, so a second
run skips the embedding pass):

    .venv/bin/python bench/reward.py --data-dir ../shared/data \
        --cache-dir ~/.cache/prefkit/reward-embeddings

Measured on the 2-core shared machine (2026-12-03, seed 0):

- ``--skip noise gpm ablation --others faireval --limit 400`` (defaults:
  hidden 64, dropout 0.3, lr 3e-4, batch 128): HH helpful 5-fold 0.610
  [0.590, 0.630] vs pick-longer 0.594 [0.574, 0.614], paired difference
  +0.016 [-0.006, +0.038]; HH harmless (400-pair sample) trained on helpful
  0.405 [0.358, 0.454] vs pick-longer 0.445; FairEval 0.424 (66 decided)
  vs 0.591; 24 s per fit on 1,883 pairs (embedding excluded).
- ``--skip kfold harmless gpm ablation others --noise 0.0 0.2 --noise-folds 3
  --batch-size 256 --hidden 256 --dropout 0.1 --lr 1e-3``: every option
  within +-0.015 of plain, no paired CI excludes 0 (see the closing note of
  issue 7).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from prefkit.errors import ConvergenceWarning
from prefkit.reward.crossval import kfold_arrays
from prefkit.reward.datasets import load_benchmark
from prefkit.reward.evaluate import (
    accuracy_table,
    longer_logits,
    pair_credit,
    paired_difference,
    wilson_interval,
)
from prefkit.reward.features import FeatureSpec, get_encoder
from prefkit.reward.model import pair_features, pair_inputs
from prefkit.reward.strength import RobustConfig, preference_strength, robust_targets
from prefkit.reward.train import RewardConfig, fit_head


def embed(
    name: str, args: argparse.Namespace, spec: FeatureSpec, limit: int | None = None
) -> tuple:
    """Features, gold labels and responses of one benchmark (a seeded sample)."""
    table = load_benchmark(name, args.data_dir)
    if limit is not None and limit < len(table):
        table = table.sample(n=limit, random_state=args.seed).reset_index(drop=True)
    inputs = pair_inputs(table, need_winner=True)
    start = time.perf_counter()
    x_a, x_b = pair_features(inputs, spec, get_encoder(spec.encoder, args.cache_dir))
    print(f"[{name}] {len(table)} pairs embedded in {time.perf_counter() - start:.1f}s")
    subsets = table["subset"].astype(str).tolist()
    return x_a, x_b, inputs.y, inputs, subsets


def report(title: str, logits, y, inputs, subsets=None) -> dict:
    """Accuracy table beside pick-longer, plus random and the paired difference."""
    longer = longer_logits(inputs.response_a, inputs.response_b)
    table = accuracy_table(logits, y, baseline=longer, subsets=subsets)
    decided = y != 0.5
    diff = paired_difference(
        pair_credit(logits[decided], y[decided]),
        pair_credit(longer[decided], y[decided]),
    )
    n = int(decided.sum())
    # a fair coin's accuracy: 0.5, and the 95% range of its observed share
    coin = wilson_interval(n / 2, n)
    print(f"\n== {title}")
    shown = table.rename(columns=lambda c: c.replace("baseline_", "longer_"))
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"random: 0.500 (95% range of a coin on {n} pairs: {coin[0]:.3f}-{coin[1]:.3f})"
    )
    print(
        f"RM - pick-longer: {diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}]"
        " (paired bootstrap)"
    )
    return {
        "table": shown.to_dict(orient="records"),
        "diff_vs_longer": diff,
        "random_range": coin,
    }


def quiet(fn, *a, **k):
    """Run ``fn`` with convergence warnings shown once as a count."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        out = fn(*a, **k)
    if caught:
        print(f"  ({len(caught)} fits hit max_epochs)")
    return out


def predict(fit, x_a, x_b) -> np.ndarray:
    with torch.no_grad():
        return fit.head.pair_score(torch.as_tensor(x_a), torch.as_tensor(x_b)).numpy()


def noise_options(x_a, x_b, y, config, args) -> pd.DataFrame:
    """Each robust option vs plain on the same folds, clean and noisy labels."""
    options = {
        "plain": ({}, None),
        "label_smoothing=0.1": ({"label_smoothing": 0.1}, None),
        "contrastive=0.1": ({"contrastive": 0.1}, None),
        "flip_share=0.1": ({}, RobustConfig(args.n_models, flip_share=0.1)),
        "drop_share=0.1": ({}, RobustConfig(args.n_models, drop_share=0.1)),
        "adaptive_margin=0.5": ({}, RobustConfig(args.n_models, adaptive_margin=0.5)),
    }
    rows = []
    n = len(y)
    fold = np.random.default_rng(args.seed).permutation(n) % args.noise_folds
    for noise in args.noise:
        rng = np.random.default_rng(args.seed + 99)
        flipped = rng.random(n) < noise
        y_train = np.where(flipped, 1.0 - y, y)
        logits = {name: np.zeros(n) for name in options}
        seconds = dict.fromkeys(options, 0.0)
        for j in range(args.noise_folds):
            test, train = fold == j, fold != j
            cfg = replace(config, seed=config.seed + j)
            start = time.perf_counter()
            strength = quiet(
                preference_strength,
                x_a[train],
                x_b[train],
                y_train[train],
                cfg,
                args.n_models,
                cfg.seed,
            )
            strength_s = time.perf_counter() - start
            mu = strength["strength_mean"].to_numpy()
            for name, (changes, robust) in options.items():
                start = time.perf_counter()
                yt, keep, margin = y_train[train], np.ones(train.sum(), bool), None
                if robust is not None:
                    t = robust_targets(yt, mu, robust)
                    yt, keep, margin = t.y, t.keep, t.margin[t.keep]
                fit = quiet(
                    fit_head,
                    x_a[train][keep],
                    x_b[train][keep],
                    yt[keep],
                    replace(cfg, **changes),
                    margin=margin,
                )
                logits[name][test] = predict(fit, x_a[test], x_b[test])
                seconds[name] += time.perf_counter() - start
                if robust is not None:
                    seconds[name] += strength_s
        plain = pair_credit(logits["plain"], y)
        for name in options:
            credit = pair_credit(logits[name], y)
            lo, hi = wilson_interval(credit.sum(), n)
            d = paired_difference(credit, plain)
            rows.append(
                {
                    "train_noise": noise,
                    "option": name,
                    "accuracy": credit.mean(),
                    "lower": lo,
                    "upper": hi,
                    "diff_vs_plain": d[0],
                    "diff_lower": d[1],
                    "diff_upper": d[2],
                    "seconds": seconds[name],
                }
            )
        print(f"  noise {noise}: done")
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument(
        "--cache-dir",
        default=str(Path.home() / ".cache" / "prefkit" / "reward-embeddings"),
    )
    parser.add_argument("--encoder", default="minilm", choices=["minilm", "hashing"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--noise-folds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-models", type=int, default=2)
    parser.add_argument(
        "--hidden", type=int, help="Head width (default: RewardConfig's)."
    )
    parser.add_argument("--dropout", type=float, help="Head dropout.")
    parser.add_argument("--lr", type=float, help="Learning rate.")
    parser.add_argument("--noise", type=float, nargs="*", default=[0.0, 0.2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["kfold", "harmless", "noise", "gpm", "ablation", "others"],
    )
    parser.add_argument(
        "--others",
        nargs="*",
        default=["pandalm", "llmbar", "faireval"],
        help="Other human-labelled sets to test the HH-trained RM on.",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="Evaluate on a seeded sample of this many pairs of "
        "each test set (HH harmless and others).",
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = FeatureSpec(encoder=args.encoder)
    head = {
        k: v
        for k, v in (
            ("hidden", args.hidden),
            ("dropout", args.dropout),
            ("lr", args.lr),
        )
        if v is not None
    }
    config = RewardConfig(batch_size=args.batch_size, seed=args.seed, **head)
    results: dict = {"config": str(config), "features": str(spec)}

    # 1. HH helpful, k-fold
    x_a, x_b, y, inputs, _ = embed("hh-helpful", args, spec)
    if "kfold" not in args.skip:
        kf = quiet(kfold_arrays, x_a, x_b, y, config, None, args.folds, args.seed)
        results["helpful_kfold"] = report(
            f"HH helpful, {args.folds}-fold", kf.logits, y, inputs
        )
        per_fit = kf.fit_seconds / args.folds
        print(
            f"training time: {per_fit:.1f}s per fit on {int(len(y) * 0.8)} pairs "
            f"(epochs per fold: {kf.n_iter})"
        )
        results["fit_seconds"] = per_fit

    if "ablation" not in args.skip:
        no_len = np.s_[:, :-1]
        kf2 = quiet(
            kfold_arrays,
            x_a[no_len],
            x_b[no_len],
            y,
            config,
            None,
            args.folds,
            args.seed,
        )
        results["helpful_no_length"] = report(
            "HH helpful, without the length feature", kf2.logits, y, inputs
        )
    if "gpm" not in args.skip:
        kf3 = quiet(
            kfold_arrays,
            x_a,
            x_b,
            y,
            replace(config, head="gpm"),
            None,
            args.folds,
            args.seed,
        )
        results["helpful_gpm"] = report("HH helpful, GPM head", kf3.logits, y, inputs)

    # 2. train on helpful, test on harmless (and the other human-labelled sets)
    targets = ["hh-harmless"] if "harmless" not in args.skip else []
    if "others" not in args.skip:
        targets += args.others
    if targets:
        start = time.perf_counter()
        fit = quiet(fit_head, x_a, x_b, y, config)
        print(
            f"\ntrained on all {len(y)} HH helpful pairs in "
            f"{time.perf_counter() - start:.1f}s ({fit.n_iter_} epochs)"
        )
    for name in targets:
        h_a, h_b, h_y, h_inputs, h_subsets = embed(name, args, spec, args.limit)
        results[f"{name}_from_helpful"] = report(
            f"{name}, trained on HH helpful",
            predict(fit, h_a, h_b),
            h_y,
            h_inputs,
            h_subsets if len(set(h_subsets)) > 1 else None,
        )

    # 3. noise-robust options
    if "noise" not in args.skip:
        print(f"\n== noise-robust options (HH helpful, {args.noise_folds}-fold)")
        table = noise_options(x_a, x_b, y, config, args)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        results["noise_options"] = table.to_dict(orient="records")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
