"""Preference optimization: the DPO family as pure losses, a trainer, diagnostics.

- :mod:`prefkit.optimize.losses`: the loss registry :data:`LOSSES`.
- :mod:`prefkit.optimize.trainer`: :class:`PreferenceTrainer` and
  :class:`TrainConfig`.
- :mod:`prefkit.optimize.trl_adapter`: any registry loss inside TRL's
  ``DPOTrainer`` (imported on demand: it loads TRL).
- :mod:`prefkit.optimize.diagnostics`: ranking accuracy, idealized ranking
  accuracy, alignment gap, per-pair difficulty.
- :mod:`prefkit.optimize.pairs`: training pairs from tables and HH files.
- :mod:`prefkit.optimize.lists`: ranked lists of k responses per prompt
  (listwise DPO).
- :mod:`prefkit.optimize.degrees`: SPO's degraded copies and degree head.
"""

from prefkit.optimize.degrees import DegreeHead, degrade, degree_copies
from prefkit.optimize.diagnostics import (
    alignment_gap,
    idealized_ranking_accuracy,
    pair_difficulty,
    ranking_accuracy,
    ranking_report,
)
from prefkit.optimize.lists import ranked_lists
from prefkit.optimize.losses import (
    LOSSES,
    LossOutput,
    PreferenceLogps,
    compute_loss,
)
from prefkit.optimize.pairs import preference_pairs, read_hh
from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

__all__ = [
    "LOSSES",
    "DegreeHead",
    "LossOutput",
    "PreferenceLogps",
    "PreferenceTrainer",
    "TrainConfig",
    "alignment_gap",
    "compute_loss",
    "degrade",
    "degree_copies",
    "idealized_ranking_accuracy",
    "pair_difficulty",
    "preference_pairs",
    "ranked_lists",
    "ranking_accuracy",
    "ranking_report",
    "read_hh",
]
