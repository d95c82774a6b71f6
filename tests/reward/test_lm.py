"""The SmolLM2 scalar-head reward model on a tiny run (slow: loads the model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitError
from prefkit.reward.lm import LMConfig, LMReward, train_lm_reward

PAIRS = pd.DataFrame(
    {
        "prompt": ["What is 2 + 2?", "Name a colour."] * 2,
        "response_a": ["2 + 2 = 4.", "Blue.", "4", "Red is a colour."],
        "response_b": ["I refuse.", "No.", "Five, maybe.", "I don't know."],
        "winner": ["a", "a", "a", "a"],
    }
)


def test_lm_config_validation():
    """Bad LMConfig values name the field and the received value."""
    with pytest.raises(PrefkitError, match=r"LMConfig.lora_r is 0"):
        LMConfig(lora_r=0)
    with pytest.raises(PrefkitError, match=r"LMConfig.lr is 0"):
        LMConfig(lr=0)


@pytest.mark.slow
def test_lora_reward_model_trains_and_round_trips(tmp_path):
    """Two LoRA steps lower the BT loss; a saved model reloads with equal scores."""
    pytest.importorskip("peft")
    config = LMConfig(lora=True, lr=5e-3, epochs=2, batch_size=4, max_length=64)
    rm = train_lm_reward(PAIRS, config)
    losses = rm.history["loss"].to_numpy()
    assert len(losses) == 2 and np.isfinite(losses).all()
    assert losses[1] < losses[0]
    before = rm.pair_logits(PAIRS)
    again = LMReward.load(rm.save(tmp_path / "lm"))
    assert np.allclose(again.pair_logits(PAIRS), before, atol=1e-4)
