"""Reward and preference models: train, evaluate, and use them as judges.

- :func:`train_reward_model` trains an embedding-head model (frozen
  all-MiniLM-L6-v2 features, a Bradley-Terry [BT52]_ or GPM [GPM]_ head) on a
  ``comparisons`` table; :class:`RewardModel` scores, compares, saves, loads.
- :mod:`prefkit.reward.strength`: preference strength and the noise-robust
  options of [RLHF2]_.
- :mod:`prefkit.reward.evaluate`: RewardBench-style accuracy with CIs beside
  the pick-longer baseline, and calibration.
- :mod:`prefkit.reward.lm`: a SmolLM2-135M scalar-head reward model (full or
  LoRA fine-tuning).

The package imports torch lazily: ``import prefkit.reward`` is cheap, the
names below load their module on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefkit.reward.evaluate import (
        accuracy_table,
        calibration,
        longer_logits,
        pair_credit,
        paired_difference,
        wilson_interval,
    )
    from prefkit.reward.features import FeatureSpec, HashingEncoder, MiniLMEncoder
    from prefkit.reward.heads import PreferenceHead, ScalarHead, skew_form
    from prefkit.reward.losses import bt_loss, simcse_loss, smooth_targets
    from prefkit.reward.model import RewardModel, pair_inputs, train_reward_model
    from prefkit.reward.strength import (
        RobustConfig,
        fit_robust,
        preference_strength,
        robust_targets,
    )
    from prefkit.reward.train import FitResult, RewardConfig, fit_head

_LAZY = {
    "FeatureSpec": "prefkit.reward.features",
    "FitResult": "prefkit.reward.train",
    "HashingEncoder": "prefkit.reward.features",
    "MiniLMEncoder": "prefkit.reward.features",
    "PreferenceHead": "prefkit.reward.heads",
    "RewardConfig": "prefkit.reward.train",
    "RewardModel": "prefkit.reward.model",
    "RobustConfig": "prefkit.reward.strength",
    "ScalarHead": "prefkit.reward.heads",
    "accuracy_table": "prefkit.reward.evaluate",
    "bt_loss": "prefkit.reward.losses",
    "calibration": "prefkit.reward.evaluate",
    "fit_head": "prefkit.reward.train",
    "fit_robust": "prefkit.reward.strength",
    "longer_logits": "prefkit.reward.evaluate",
    "pair_credit": "prefkit.reward.evaluate",
    "pair_inputs": "prefkit.reward.model",
    "paired_difference": "prefkit.reward.evaluate",
    "preference_strength": "prefkit.reward.strength",
    "robust_targets": "prefkit.reward.strength",
    "simcse_loss": "prefkit.reward.losses",
    "skew_form": "prefkit.reward.heads",
    "smooth_targets": "prefkit.reward.losses",
    "train_reward_model": "prefkit.reward.model",
    "wilson_interval": "prefkit.reward.evaluate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'prefkit.reward' has no attribute {name!r}")


__all__ = [
    "FeatureSpec",
    "FitResult",
    "HashingEncoder",
    "MiniLMEncoder",
    "PreferenceHead",
    "RewardConfig",
    "RewardModel",
    "RobustConfig",
    "ScalarHead",
    "accuracy_table",
    "bt_loss",
    "calibration",
    "fit_head",
    "fit_robust",
    "longer_logits",
    "pair_credit",
    "pair_inputs",
    "paired_difference",
    "preference_strength",
    "robust_targets",
    "simcse_loss",
    "skew_form",
    "smooth_targets",
    "train_reward_model",
    "wilson_interval",
]
