"""Fixtures of the optimize tests: a tiny random Llama with SmolLM2's tokenizer."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import torch


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """SmolLM2's tokenizer from the local safetensors copy (skips if absent)."""
    from prefkit.models import MissingModelError
    from prefkit.models.hf import smollm2_hf_dir

    try:
        folder = smollm2_hf_dir()
    except MissingModelError as exc:
        pytest.skip(str(exc))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder)


def make_tiny_model(tokenizer: Any, seed: int = 0) -> Any:
    """A 2-layer random Llama over SmolLM2's vocabulary (no download)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture
def tiny_model(tokenizer: Any) -> Any:
    """A fresh tiny random model."""
    return make_tiny_model(tokenizer)


@pytest.fixture
def toy_pairs() -> pd.DataFrame:
    """Two fixed preference pairs in TRL format."""
    return pd.DataFrame(
        {
            "prompt": ["What is 2 + 2?", "Name a colour."],
            "chosen": ["4.", "Blue."],
            "rejected": ["Five, I think.", "A dog."],
        }
    )
