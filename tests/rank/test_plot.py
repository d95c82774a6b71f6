"""The leaderboard picture draws every model, or says how many it shows."""

from __future__ import annotations

import numpy as np

from prefkit.rank import leaderboard
from prefkit.rank.plot import plot_leaderboard

from .helpers import simulate


def test_plot_draws_every_model_and_grows_taller():
    """45 models give 45 rows on both panels and a taller figure than 10."""
    board = leaderboard(simulate(np.linspace(1, -1, 45), 9000, 3), ci="none")
    fig = plot_leaderboard(board)
    left, right = fig.axes[:2]
    assert len(left.get_yticks()) == 45
    assert len(right.get_yticks()) == 45
    assert fig.get_figheight() > 10


def test_plot_of_the_top_models_says_so():
    """max_models=10 draws ten rows and both titles name the cut."""
    board = leaderboard(simulate(np.linspace(1, -1, 45), 9000, 3), ci="none")
    fig = plot_leaderboard(board, max_models=10)
    left, right = fig.axes[:2]
    assert len(left.get_yticks()) == 10
    assert left.get_title().startswith("top 10 of 45 models: ")
    assert right.get_title() == "top 10 of 45 models: P(row beats column)"
