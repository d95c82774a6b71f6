"""A language-model reward model: SmolLM2-135M with a scalar head.

The embedded SmolLM2-135M-Instruct (through transformers, see
:func:`prefkit.models.hf.load_smollm2`) reads the chat ``system, user =
prompt, assistant = response``; the hidden state of the last token goes
through a linear head to a scalar reward. Training uses the same
Bradley-Terry loss as the embedding heads [BT52]_, fine-tuning either every
weight or low-rank adapters (LoRA through peft). On 2 CPU cores one step of
four pairs takes seconds: this model is for users with more time or a GPU;
the embedding head is the default.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from prefkit.errors import PrefkitError
from prefkit.reward.losses import bt_loss
from prefkit.reward.model import pair_inputs

logger = logging.getLogger("prefkit.reward")

FORMAT_NAME = "prefkit-reward-lm"
SYSTEM_PROMPT = "You are a helpful AI assistant."


@dataclass(frozen=True)
class LMConfig:
    """Fine-tuning settings of the SmolLM2 reward model.

    Attributes
    ----------
    lora : bool
        Train LoRA adapters on the attention projections (else every weight).
    lora_r : int
        LoRA rank.
    lora_alpha : int
        LoRA scaling numerator.
    lr : float
        AdamW learning rate.
    epochs : int
        Passes over the pairs.
    batch_size : int
        Pairs per step.
    max_length : int
        Tokens kept per (prompt, response) chat, from the end.
    seed : int
        Seed of the head initialisation and the batch order.
    """

    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lr: float = 2e-4
    epochs: int = 1
    batch_size: int = 4
    max_length: int = 384
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("lora_r", "lora_alpha", "epochs", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise PrefkitError(
                    f"LMConfig.{name} is {getattr(self, name)!r}; expected an "
                    "integer >= 1"
                )
        if not self.lr > 0:
            raise PrefkitError(f"LMConfig.lr is {self.lr!r}; expected a float > 0")


class LMRewardModel(nn.Module):
    """SmolLM2 backbone plus a scalar head on the last token's hidden state."""

    def __init__(self, backbone: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Reward per sequence, shape ``(batch,)`` (right padding assumed)."""
        hidden = self.backbone(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state
        # (batch, seq, hidden) -> (batch, hidden) at the last real token
        last = attention_mask.sum(dim=1) - 1
        pooled = hidden[torch.arange(len(last)), last]
        return self.head(pooled).squeeze(-1)


def _chat(tokenizer: Any, prompt: str, response: str) -> str:
    """The chat text of one (prompt, response) with prefkit's system prompt."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": prompt},
        {"role": "assistant", "content": response},
    ]
    return str(tokenizer.apply_chat_template(messages, tokenize=False))


def _batch(tokenizer: Any, texts: list[str], max_length: int) -> dict[str, Tensor]:
    tokenizer.truncation_side = "left"
    tokenizer.padding_side = "right"
    return dict(
        tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        )
    )


def _build(config: LMConfig) -> tuple[LMRewardModel, Any]:
    """Load SmolLM2 and wrap it (with LoRA adapters when asked)."""
    from prefkit.models.hf import load_smollm2

    causal, tokenizer = load_smollm2()
    backbone = causal.model
    if config.lora:
        from peft import LoraConfig, get_peft_model

        backbone = get_peft_model(
            backbone,
            LoraConfig(
                r=config.lora_r,
                lora_alpha=config.lora_alpha,
                lora_dropout=0.0,
                target_modules=["q_proj", "v_proj"],
            ),
        )
    torch.manual_seed(config.seed)
    model = LMRewardModel(backbone, causal.config.hidden_size)
    return model, tokenizer


def _trainable_state(model: LMRewardModel, config: LMConfig) -> dict[str, Tensor]:
    """What a saved LM reward model stores: adapters (or all weights) + head."""
    if config.lora:
        from peft import get_peft_model_state_dict

        state = {
            f"adapter.{k}": v
            for k, v in get_peft_model_state_dict(model.backbone).items()
        }
    else:
        state = {f"backbone.{k}": v for k, v in model.backbone.state_dict().items()}
    state.update({f"head.{k}": v for k, v in model.head.state_dict().items()})
    return {k: v.detach().contiguous() for k, v in state.items()}


@dataclass
class LMReward:
    """A trained SmolLM2 reward model, its tokenizer and training log."""

    model: LMRewardModel
    tokenizer: Any
    config: LMConfig
    history: pd.DataFrame

    @torch.no_grad()
    def score(self, prompts: list[str], responses: list[str]) -> NDArray[np.float64]:
        """Reward of each (prompt, response)."""
        self.model.eval()
        out = []
        for lo in range(0, len(responses), self.config.batch_size):
            texts = [
                _chat(self.tokenizer, p, r)
                for p, r in zip(
                    prompts[lo : lo + self.config.batch_size],
                    responses[lo : lo + self.config.batch_size],
                    strict=True,
                )
            ]
            out.append(
                self.model(**_batch(self.tokenizer, texts, self.config.max_length))
            )
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    def pair_logits(self, comparisons: pd.DataFrame) -> NDArray[np.float64]:
        """``r_a - r_b`` of each pair."""
        inputs = pair_inputs(comparisons, need_winner=False)
        return self.score(inputs.prompts, inputs.response_a) - self.score(
            inputs.prompts, inputs.response_b
        )

    def save(self, path: str | Path) -> Path:
        """Write ``model.safetensors`` (adapters or weights, head) + ``config.json``."""
        from safetensors.torch import save_file

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            _trainable_state(self.model, self.config), str(folder / "model.safetensors")
        )
        (folder / "config.json").write_text(
            json.dumps(
                {
                    "format": FORMAT_NAME,
                    "version": 1,
                    "config": asdict(self.config),
                    "history": self.history.to_dict(orient="list"),
                },
                indent=2,
            )
        )
        return folder

    @classmethod
    def load(cls, path: str | Path) -> LMReward:
        """Read a folder written by :meth:`save`."""
        from safetensors.torch import load_file

        folder = Path(path)
        try:
            meta = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise PrefkitError(
                f"{folder} is not a saved SmolLM2 reward model (expected "
                f"config.json with format {FORMAT_NAME!r})"
            )
        config = LMConfig(**meta["config"])
        model, tokenizer = _build(config)
        state = load_file(str(folder / "model.safetensors"))
        model.head.load_state_dict(
            {k[5:]: v for k, v in state.items() if k.startswith("head.")}
        )
        if config.lora:
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(
                model.backbone,
                {k[8:]: v for k, v in state.items() if k.startswith("adapter.")},
            )
        else:
            model.backbone.load_state_dict(
                {k[9:]: v for k, v in state.items() if k.startswith("backbone.")}
            )
        model.eval()
        return cls(model, tokenizer, config, pd.DataFrame(meta.get("history", {})))


def train_lm_reward(
    comparisons: pd.DataFrame, config: LMConfig | None = None
) -> LMReward:
    r"""Fine-tune SmolLM2-135M with a scalar head on labelled pairs.

    .. math:: \ell = -\log\sigma(r_\theta(x, y_w) - r_\theta(x, y_l))  \quad [BT52]

    Parameters
    ----------
    comparisons : DataFrame
        ``response_a``, ``response_b``, ``winner`` and optional ``prompt``
        (ties train as ``y = 0.5``).
    config : LMConfig or None, default=None
        Fine-tuning settings (LoRA by default).

    Returns
    -------
    LMReward
        The model with a per-step ``history`` (``step, loss, seconds``).
    """
    config = config or LMConfig()
    inputs = pair_inputs(comparisons, need_winner=True)
    y = torch.as_tensor(inputs.y, dtype=torch.float32)
    model, tokenizer = _build(config)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=config.lr)
    rng = np.random.default_rng(config.seed)
    rows: list[dict[str, float]] = []
    model.train()
    for _ in range(config.epochs):
        order = rng.permutation(len(y))
        for lo in range(0, len(order), config.batch_size):
            start = time.perf_counter()
            idx = order[lo : lo + config.batch_size].tolist()
            texts = [
                _chat(tokenizer, inputs.prompts[i], r)
                for side in (inputs.response_a, inputs.response_b)
                for i, r in ((i, side[i]) for i in idx)
            ]
            rewards = model(**_batch(tokenizer, texts, config.max_length))
            # (2 * batch,) -> r_a, r_b of each pair
            r_a, r_b = rewards[: len(idx)], rewards[len(idx) :]
            loss = bt_loss(r_a - r_b, y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            rows.append(
                {
                    "step": len(rows) + 1,
                    "loss": float(loss),
                    "seconds": time.perf_counter() - start,
                }
            )
            logger.info("lm reward step %d: loss=%.4f", len(rows), float(loss))
    model.eval()
    return LMReward(model, tokenizer, config, pd.DataFrame(rows))
