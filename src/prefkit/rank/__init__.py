"""Leaderboards from preferences: Bradley-Terry (ties, style control, CIs),
Elo, Plackett-Luce and an intransitive (general preference) model.

The entry point is :func:`leaderboard`; the fitters and the pure likelihood
functions are the building blocks.
"""

from prefkit.rank.aggregate import Aggregated, aggregate
from prefkit.rank.bradley_terry import BTFit, NotConvergedError, NoTiesError, fit_bt
from prefkit.rank.elo import EloResult, fit_elo
from prefkit.rank.gpm import GPMFit, compare_heldout, fit_gpm
from prefkit.rank.graph import DisconnectedGraphError, check_connected, components
from prefkit.rank.intervals import (
    bootstrap_params,
    model_covariance,
    rank_intervals,
    sandwich_covariance,
)
from prefkit.rank.leaderboard import Leaderboard, LeaderboardError, leaderboard
from prefkit.rank.likelihood import Penalty, bt_gradient, bt_hessian, bt_loglik
from prefkit.rank.matrices import battle_counts, win_rate_matrix
from prefkit.rank.plackett_luce import PLFit, fit_pl, pl_gradient, pl_hessian, pl_loglik
from prefkit.rank.style import ControlError, style_features
from prefkit.rank.ties import TIES, UnknownNameError

__all__ = [
    "TIES",
    "Aggregated",
    "BTFit",
    "ControlError",
    "DisconnectedGraphError",
    "EloResult",
    "GPMFit",
    "Leaderboard",
    "LeaderboardError",
    "NoTiesError",
    "NotConvergedError",
    "PLFit",
    "Penalty",
    "UnknownNameError",
    "aggregate",
    "battle_counts",
    "bootstrap_params",
    "bt_gradient",
    "bt_hessian",
    "bt_loglik",
    "check_connected",
    "compare_heldout",
    "components",
    "fit_bt",
    "fit_elo",
    "fit_gpm",
    "fit_pl",
    "leaderboard",
    "model_covariance",
    "pl_gradient",
    "pl_hessian",
    "pl_loglik",
    "rank_intervals",
    "sandwich_covariance",
    "style_features",
    "win_rate_matrix",
]
