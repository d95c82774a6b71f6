"""Step time and peak memory: prefkit's PreferenceTrainer vs TRL's DPOTrainer.

Both train the embedded SmolLM2-135M on the same two HH-helpful pairs (batch
2, chosen/rejected each ~200-256 tokens with the prompt), with precomputed
reference log-probabilities, AdamW at a constant learning rate, gradient
clipping at 1.0, 2 torch threads. Each trainer runs in its own subprocess so
that its peak resident memory is its own. The batch is the same at every
step, so the losses of the two runs must agree step by step.

Usage::

    .venv/bin/python bench/dpo.py --steps 5

Prints one table: seconds per step (median over steps 2..n), peak RSS, the
ratios prefkit / TRL, and the per-step losses with their largest difference.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HH = Path(__file__).resolve().parents[2] / "shared" / "data" / "hh_rlhf"
SYSTEM = "You are a helpful AI assistant."
LR = 1e-5
BETA = 0.1
#: TRL settings that match prefkit's fp32 step without recomputation.
MATCHED = {"bf16": False, "gradient_checkpointing": False}


def pick_pairs(tokenizer: Any, n: int, low: int, high: int) -> list[dict[str, Any]]:
    """The first ``n`` HH pairs whose longer sequence has low..high tokens."""
    from prefkit.optimize.pairs import read_hh
    from prefkit.optimize.sequences import encode_pair

    table = read_hh(HH / "helpful-base_test.jsonl.gz", limit=400)
    chosen = []
    for row in table.itertuples(index=False):
        pair = encode_pair(
            tokenizer, row.prompt, row.chosen, row.rejected, system_prompt=SYSTEM,
            max_length=10_000, max_prompt_length=10_000,
        )  # fmt: skip
        longest = len(pair.prompt_ids) + max(
            len(pair.chosen_ids), len(pair.rejected_ids)
        )
        if low <= longest <= high:
            chosen.append(
                {"prompt": row.prompt, "chosen": row.chosen, "rejected": row.rejected}
            )
        if len(chosen) == n:
            break
    return chosen


def peak_rss_gb() -> float:
    """Peak resident memory of this process in GB (Linux: ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def run_prefkit(pairs: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    """prefkit's trainer: returns step seconds, losses, peak RSS."""
    import pandas as pd

    from prefkit.models.hf import load_smollm2
    from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

    model, tokenizer = load_smollm2()
    config = TrainConfig(
        loss_params={"beta": BETA}, learning_rate=LR, batch_size=2, max_steps=steps,
        max_length=1024, max_prompt_length=1000, system_prompt=SYSTEM, threads=2,
        progress=False,
    )  # fmt: skip
    start = time.perf_counter()
    trainer = PreferenceTrainer(model, tokenizer, config)
    trainer.fit(pd.DataFrame(pairs))
    total = time.perf_counter() - start
    history = trainer.history_
    return {
        "seconds": history["seconds"].tolist(),
        "losses": history["loss"].tolist(),
        "total_seconds": total,
        "peak_rss_gb": peak_rss_gb(),
    }


def run_trl(
    pairs: list[dict[str, Any]], steps: int, out: str, defaults: bool = False
) -> dict[str, Any]:
    """TRL's DPOTrainer (precomputed reference log-probs), same settings.

    TRL 1.x's DPOConfig turns on bf16 autocast and gradient checkpointing by
    default; the matched run turns both off so that both trainers compute
    in fp32 without recomputation (the losses can then agree). ``defaults``
    keeps TRL's own defaults: what a user gets without setting them.
    """
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import DPOConfig, DPOTrainer

    from prefkit.models.hf import load_smollm2

    torch.set_num_threads(2)
    model, tokenizer = load_smollm2()
    system = {"role": "system", "content": SYSTEM}
    data = Dataset.from_list(
        [
            {
                "prompt": [system, *p["prompt"]],
                "chosen": [{"role": "assistant", "content": p["chosen"]}],
                "rejected": [{"role": "assistant", "content": p["rejected"]}],
            }
            for p in pairs
        ]
    )
    times: list[float] = []

    class Clock(TrainerCallback):  # type: ignore[misc]
        def on_step_begin(self, *args: Any, **kwargs: Any) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            times.append(time.perf_counter() - self.start)

    args = DPOConfig(
        output_dir=out, per_device_train_batch_size=2, max_steps=steps,
        learning_rate=LR, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.0, max_grad_norm=1.0, beta=BETA, logging_steps=1,
        report_to=[], save_strategy="no", use_cpu=True, max_length=1024,
        precompute_ref_log_probs=True, disable_tqdm=True, optim="adamw_torch",
        seed=0, **({} if defaults else MATCHED),
    )  # fmt: skip
    start = time.perf_counter()
    trainer = DPOTrainer(
        model=model, args=args, train_dataset=data, processing_class=tokenizer,
        callbacks=[Clock()],
    )  # fmt: skip
    trainer.train()
    total = time.perf_counter() - start
    losses = [row["loss"] for row in trainer.state.log_history if "loss" in row]
    return {
        "seconds": times,
        "losses": losses,
        "total_seconds": total,
        "peak_rss_gb": peak_rss_gb(),
    }


def child(which: str, steps: int, pairs_file: str, out: str) -> None:
    """Run one trainer and print its figures as JSON on the last line."""
    pairs = json.loads(Path(pairs_file).read_text())
    if which == "prefkit":
        result = run_prefkit(pairs, steps)
    else:
        result = run_trl(pairs, steps, out, defaults=which == "trl-defaults")
    sys.stdout.write("\n" + json.dumps(result) + "\n")


def main() -> None:
    """Pick the batch, run both trainers in subprocesses, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--child", choices=["prefkit", "trl", "trl-defaults"])
    parser.add_argument(
        "--trl-defaults",
        action="store_true",
        help="also run TRL with its own DPOConfig defaults (bf16 autocast and "
        "gradient checkpointing on; slow on CPU)",
    )
    parser.add_argument("--pairs-file", default="/tmp/prefkit_bench_pairs.json")
    parser.add_argument("--out", default="/tmp/prefkit_bench_trl")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.pairs_file, args.out)
        return

    from transformers import AutoTokenizer

    from prefkit.models.hf import smollm2_hf_dir

    tokenizer = AutoTokenizer.from_pretrained(smollm2_hf_dir())
    pairs = pick_pairs(tokenizer, 2, 200, 256)
    Path(args.pairs_file).write_text(json.dumps(pairs))
    results = {}
    runs = ["prefkit", "trl"] + (["trl-defaults"] if args.trl_defaults else [])
    for which in runs:
        command = [
            sys.executable, __file__, "--child", which, "--steps", str(args.steps),
            "--pairs-file", args.pairs_file, "--out", args.out,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-3000:])
            raise SystemExit(f"{which} run failed")
        results[which] = json.loads(done.stdout.strip().splitlines()[-1])

    pk, trl = results["prefkit"], results["trl"]
    step_pk = statistics.median(pk["seconds"][1:] or pk["seconds"])
    step_trl = statistics.median(trl["seconds"][1:] or trl["seconds"])
    diffs = [abs(a - b) for a, b in zip(pk["losses"], trl["losses"], strict=False)]
    print(
        f"SmolLM2-135M, batch 2, {args.steps} steps, precomputed reference, "
        "fp32 without gradient checkpointing in both"
    )
    print(f"{'':24}{'prefkit':>12}{'TRL':>12}{'ratio':>8}")
    print(
        f"{'s/step (median 2..n)':24}{step_pk:12.2f}{step_trl:12.2f}"
        f"{step_pk / step_trl:8.2f}"
    )
    print(
        f"{'peak RSS (GB)':24}{pk['peak_rss_gb']:12.2f}{trl['peak_rss_gb']:12.2f}"
        f"{pk['peak_rss_gb'] / trl['peak_rss_gb']:8.2f}"
    )
    print(
        f"{'total incl. setup (s)':24}{pk['total_seconds']:12.1f}"
        f"{trl['total_seconds']:12.1f}{pk['total_seconds'] / trl['total_seconds']:8.2f}"
    )
    print("step seconds prefkit:", [round(s, 2) for s in pk["seconds"]])
    print("step seconds TRL:    ", [round(s, 2) for s in trl["seconds"]])
    for i, (a, b) in enumerate(zip(pk["losses"], trl["losses"], strict=False), start=1):
        print(f"loss step {i}: prefkit {a:.7f}  TRL {b:.7f}  |diff| {abs(a - b):.2e}")
    print(f"largest loss difference: {max(diffs):.2e} (target <= 1e-5)")
    if "trl-defaults" in results:
        d = results["trl-defaults"]
        step_d = statistics.median(d["seconds"][1:] or d["seconds"])
        print(
            f"TRL with its DPOConfig defaults (bf16 autocast, gradient "
            f"checkpointing): {step_d:.2f} s/step, peak RSS {d['peak_rss_gb']:.2f} "
            f"GB; prefkit / that: {step_pk / step_d:.2f} time, "
            f"{pk['peak_rss_gb'] / d['peak_rss_gb']:.2f} memory"
        )


if __name__ == "__main__":
    main()
