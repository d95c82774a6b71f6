"""Tests of the compact preference trainer on a tiny random model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig, TrainerError

FAST = {"progress": False, "learning_rate": 1e-2, "threads": 1}


@pytest.mark.slow
def test_training_reduces_loss_on_fixed_batch(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame
) -> None:
    """A few DPO steps on two pairs lower the loss from ln 2 and rank both."""
    config = TrainConfig(max_steps=5, loss_params={"beta": 0.5}, **FAST)
    trainer = PreferenceTrainer(tiny_model, tokenizer, config).fit(toy_pairs)
    history = trainer.history_
    assert history["loss"].iloc[0] == pytest.approx(math.log(2), abs=1e-6)
    assert history["loss"].iloc[-1] < 0.5 * math.log(2)
    assert history["reward_accuracy"].iloc[-1] == 1.0
    assert trainer.n_steps_ == 5
    after = trainer.score(trainer.encode(toy_pairs))
    assert bool(
        (
            (after[:, 0] - after[:, 1])
            > (trainer.reference_[:, 0] - trainer.reference_[:, 1])
        ).all()
    )


@pytest.mark.slow
def test_training_is_seeded(tokenizer: Any, toy_pairs: pd.DataFrame) -> None:
    """The same seed gives the same losses."""
    from tests.optimize.conftest import make_tiny_model

    config = TrainConfig(max_steps=2, batch_size=1, **FAST)
    runs = [
        PreferenceTrainer(make_tiny_model(tokenizer), tokenizer, config)
        .fit(toy_pairs)
        .history_["loss"]
        .tolist()
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_lora_trains_adapters_and_saves_merged(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame, tmp_path: Path
) -> None:
    """With LoRA only adapters train; the saved folder loads as a plain model."""
    from transformers import AutoModelForCausalLM

    embed = tiny_model.model.embed_tokens.weight.detach().clone()
    config = TrainConfig(
        max_steps=2, lora=True, lora_r=2, save_every=2, output_dir=str(tmp_path), **FAST
    )
    trainer = PreferenceTrainer(tiny_model, tokenizer, config).fit(toy_pairs)
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert torch.equal(embed, tiny_model.model.embed_tokens.weight)
    folder = tmp_path / "step-2"
    assert (folder / "config.json").is_file()
    loaded = AutoModelForCausalLM.from_pretrained(folder)
    assert not any("lora" in n for n, _ in loaded.named_parameters())


@pytest.mark.slow
def test_smpo_uses_comparisons_soft_labels(tokenizer: Any, tiny_model: Any) -> None:
    """A comparisons table with p_a trains SmPO (labels from p_a)."""
    table = pd.DataFrame(
        {
            "prompt": ["Q?", "R?"],
            "model_a": ["x", "x"], "model_b": ["y", "y"],
            "response_a": ["yes", "no"], "response_b": ["no", "yes"],
            "winner": ["a", "b"], "p_a": [0.9, 0.2],
        }
    )  # fmt: skip
    config = TrainConfig(max_steps=1, loss="smpo", **FAST)
    history = PreferenceTrainer(tiny_model, tokenizer, config).fit(table).history_
    assert history["loss"].iloc[0] == pytest.approx(math.log(2), abs=1e-6)


def test_smpo_without_labels_is_refused(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame
) -> None:
    """SmPO on pairs without a label column says what is missing."""
    trainer = PreferenceTrainer(tiny_model, tokenizer, TrainConfig(loss="smpo"))
    with pytest.raises(TrainerError, match="needs a `label` column"):
        trainer.fit(toy_pairs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "kto"}, "expected one of dpo"),
        ({"loss_params": {"gamma": 1.0}}, "does not take"),
        ({"batch_size": 0}, "`batch_size` must be >= 1"),
        ({"max_steps": 0}, "`max_steps` must be >= 1"),
        ({"learning_rate": 0.0}, "`learning_rate` must be > 0"),
        ({"max_prompt_length": 300}, "must be below `max_length`"),
        ({"save_every": 5}, "`output_dir` is None"),
        ({"n_degrees": 1}, "`n_degrees` must be >= 2"),
        ({"degree_unit": "letters"}, "expected one of words, sentences"),
        ({"degree_head_lr": 0.0}, "`degree_head_lr` must be > 0"),
        ({"max_prompt_length": 0}, "`max_prompt_length` must be >= 1"),
        ({"loss_params": {"beta": 0.0}}, r"beta=0.0: must be > 0 and finite"),
        ({"loss_params": {"beta": float("inf")}}, "beta=inf: must be > 0 and"),
        (
            {"loss": "cdpo", "loss_params": {"epsilon": float("nan")}},
            "epsilon=nan: must be finite; pass e.g. epsilon=0.1",
        ),
    ],
)
def test_config_validation(kwargs: dict[str, Any], message: str) -> None:
    """Each invalid setting is refused with a message naming it."""
    with pytest.raises(TrainerError, match=message):
        TrainConfig(**kwargs)


def test_rationale_without_column_is_refused(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame
) -> None:
    """Rationale DPO on pairs without rationales says what is missing."""
    trainer = PreferenceTrainer(tiny_model, tokenizer, TrainConfig(loss="rationale"))
    with pytest.raises(TrainerError, match="needs a `rationale` column"):
        trainer.fit(toy_pairs)


@pytest.mark.slow
def test_rationale_loss_adds_rationale_likelihood(
    tokenizer: Any, toy_pairs: pd.DataFrame
) -> None:
    """Step 1 of rationale DPO is ln 2 - gamma * mean log p(rationale | pair)."""
    from prefkit.optimize.sequences import completion_logps
    from tests.optimize.conftest import make_tiny_model

    pairs = toy_pairs.assign(rationale=["It is correct.", "Blue is a colour."])
    config = TrainConfig(
        max_steps=1, loss="rationale", loss_params={"gamma": 0.5}, **FAST
    )
    trainer = PreferenceTrainer(make_tiny_model(tokenizer), tokenizer, config)
    encoded = trainer.encode_rationales(pairs)
    fresh = make_tiny_model(tokenizer)
    with torch.no_grad():
        logps = [completion_logps(fresh, r.prompt_ids, [r.chosen_ids]) for r in encoded]
    expected = math.log(2) - 0.5 * float(torch.cat(logps).mean())
    history = trainer.fit(pairs).history_
    assert history["loss"].iloc[0] == pytest.approx(expected, rel=1e-5)
    assert tokenizer.decode(encoded[0].chosen_ids) == "It is correct.<|im_end|>\n"
