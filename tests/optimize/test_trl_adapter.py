"""Tests of the adapter that runs registry losses inside TRL's DPOTrainer."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest


def dataset() -> Any:
    """Two conversational pairs with a system prompt."""
    from datasets import Dataset

    system = {"role": "system", "content": "You are helpful."}
    rows = [
        ("What is 2+2?", "4.", "Five."),
        ("Colour?", "Blue.", "A dog."),
    ]
    return Dataset.from_list(
        [
            {
                "prompt": [system, {"role": "user", "content": q}],
                "chosen": [{"role": "assistant", "content": c}],
                "rejected": [{"role": "assistant", "content": r}],
            }
            for q, c, r in rows
        ]
    )


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["ipo"])
def test_registry_loss_runs_two_steps_in_trl(
    tokenizer: Any, tiny_model: Any, tmp_path: Path, loss: str
) -> None:
    """Two TRL steps with a prefkit loss: step 1 at its closed form, then lower."""
    from trl import DPOConfig

    from prefkit.optimize.trl_adapter import RegistryDPOTrainer

    args = DPOConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=2, max_steps=2,
        learning_rate=1e-2, logging_steps=1, report_to=[], save_strategy="no",
        use_cpu=True, precompute_ref_log_probs=True, beta=0.5, disable_tqdm=True,
    )  # fmt: skip
    trainer = RegistryDPOTrainer(
        model=tiny_model, args=args, train_dataset=dataset(),
        processing_class=tokenizer, prefkit_loss=loss, loss_params={"beta": 0.5},
    )  # fmt: skip
    trainer.train()
    logs = [row for row in trainer.state.log_history if "loss" in row]
    first = math.log(2) if loss == "rdpo" else 1 / (4 * 0.5**2)
    assert logs[0]["loss"] == pytest.approx(first, abs=1e-5)
    assert logs[1]["loss"] < logs[0]["loss"]
    assert logs[1]["rewards/margins"] > 0


def test_untrainable_loss_refused_before_trl_starts() -> None:
    """A loss whose inputs TRL batches lack is refused at construction."""
    from prefkit.optimize.trainer import TrainerError
    from prefkit.optimize.trl_adapter import RegistryDPOTrainer

    with pytest.raises(TrainerError, match="'spo' needs degraded copies"):
        RegistryDPOTrainer(prefkit_loss="spo")
    with pytest.raises(TrainerError, match="'smpo' needs soft labels"):
        RegistryDPOTrainer(prefkit_loss="smpo")
