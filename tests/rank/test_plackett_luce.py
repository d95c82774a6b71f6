"""Plackett-Luce: choix's published cases, derivative checks, agreement of methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitDataError, PrefkitError
from prefkit.rank import (
    UnknownNameError,
    fit_pl,
    leaderboard,
    pl_gradient,
    pl_hessian,
    pl_loglik,
)
from prefkit.rank.plackett_luce import build_stages

from .helpers import simulate


def test_choix_cyclic_rankings():
    """Condorcet-style cyclic rankings: ML and LSR both give zeros."""
    data = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
    for method in ("ml", "lsr", "mm"):
        np.testing.assert_allclose(fit_pl(data, method=method).theta, 0.0, atol=1e-8)


def test_choix_partial_rankings_of_variable_length():
    """choix's partial-rankings case: published ML and one-step LSR estimates."""
    data = [[0, 1, 2], [3, 2, 0], [1, 3]]
    ml = [-0.44328117, 0.69506219, -0.67061442, 0.4188334]
    lsr = [0.04196238, 0.77020088, -0.80533547, -0.00682779]
    np.testing.assert_allclose(fit_pl(data, method="ml").theta, ml, atol=1e-4)
    np.testing.assert_allclose(fit_pl(data, method="mm").theta, ml, atol=1e-4)
    np.testing.assert_allclose(fit_pl(data, method="ilsr").theta, ml, atol=1e-4)
    np.testing.assert_allclose(fit_pl(data, method="lsr").theta, lsr, atol=1e-6)


def test_choix_top1_cases():
    """choix's top-1 cases: each item chosen once, and lists of different sizes."""
    once = [(0, [1, 2]), (1, [0, 2]), (2, [0, 1])]
    np.testing.assert_allclose(fit_pl([], choices=once).theta, 0.0, atol=1e-8)
    sizes = [(0, [1]), (1, [2]), (2, [0, 1])]
    ml = [0.16040395, -0.32080789, 0.16040394]
    lsr = [0.10003486, -0.30543024, 0.20539538]
    np.testing.assert_allclose(
        fit_pl([], choices=sizes, method="ml").theta, ml, atol=1e-5
    )
    np.testing.assert_allclose(
        fit_pl([], choices=sizes, method="lsr").theta, lsr, atol=1e-6
    )


def test_pl_gradient_and_hessian_match_finite_differences():
    """Analytic PL gradient and Hessian agree with central differences."""
    st = build_stages(
        [([0, 1, 2], []), ([3, 2, 0], [1]), ([1, 3], []), ([2], [0, 3])], 4
    )
    theta = np.array([0.3, -0.2, 0.5, -0.1])
    h = 1e-5
    eye = np.eye(4) * h
    num_g = [
        (pl_loglik(theta + e, st) - pl_loglik(theta - e, st)) / (2 * h) for e in eye
    ]
    num_H = [
        (pl_gradient(theta + e, st) - pl_gradient(theta - e, st)) / (2 * h) for e in eye
    ]
    np.testing.assert_allclose(pl_gradient(theta, st), num_g, atol=1e-6)
    np.testing.assert_allclose(pl_hessian(theta, st), num_H, atol=1e-6)


def test_pairwise_pl_equals_bradley_terry_without_ties():
    """On battles without ties, Plackett-Luce is Bradley-Terry."""
    df = simulate(np.array([0.4, 0.0, -0.6]), 800, 3)
    bt = leaderboard(df, ties="drop").table.set_index("model")
    pl = leaderboard(df, model="pl").table.set_index("model")
    np.testing.assert_allclose(bt.rating, pl.loc[bt.index].rating, atol=1e-6)
    np.testing.assert_allclose(bt.upper, pl.loc[bt.index].upper, atol=1e-6)


def test_rankings_table_leaderboard():
    """A rankings table gives a PL leaderboard with bootstrap intervals."""
    rng = np.random.default_rng(0)
    theta = np.array([1.0, 0.3, -0.2, -1.1])
    rows = []
    for _ in range(300):
        g = rng.gumbel(size=4) + theta
        rows.append([f"m{k}" for k in np.argsort(-g)])
    table = pd.DataFrame({"prompt_id": [str(k) for k in range(300)], "ranked": rows})
    board = leaderboard(table, model="pl", ci="bootstrap", rounds=100)
    assert board.table.model.tolist() == ["m0", "m1", "m2", "m3"]
    truth = 1000 + 400 / np.log(10) * (theta - theta.mean())
    tab = board.table.set_index("model").loc[["m0", "m1", "m2", "m3"]]
    assert ((tab.lower <= truth + 15) & (truth - 15 <= tab.upper)).all()
    assert tab.n_battles.tolist() == [300, 300, 300, 300]


def test_invalid_rankings_table_is_a_data_error():
    """A ranking that repeats a model is refused by the rankings validation."""
    table = pd.DataFrame({"prompt_id": ["1"], "ranked": [["x", "x", "y"]]})
    with pytest.raises(PrefkitDataError, match="duplicated model id"):
        leaderboard(table, model="pl")


def test_pl_errors():
    """Bad observations, methods and empty data are refused clearly."""
    with pytest.raises(PrefkitError, match="at least two distinct known items"):
        fit_pl([[0, 0]])
    with pytest.raises(
        UnknownNameError, match="method='em' is not a Plackett-Luce method"
    ):
        fit_pl([[0, 1]], method="em")
    with pytest.raises(PrefkitError, match="no rankings or choices"):
        fit_pl([])
