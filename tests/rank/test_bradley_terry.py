"""Bradley-Terry: published cases, derivative checks, invariances, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import ConvergenceWarning, PrefkitDataError, PrefkitError
from prefkit.rank import (
    DisconnectedGraphError,
    NotConvergedError,
    NoTiesError,
    UnknownNameError,
    aggregate,
    bt_gradient,
    bt_hessian,
    bt_loglik,
    fit_bt,
)
from prefkit.rank.aggregate import aggregate_arrays
from prefkit.rank.likelihood import Penalty
from prefkit.rank.ties import TIES

from .helpers import battles, from_win_matrix, simulate


def test_choix_cycle_gives_equal_strengths():
    """choix's 'cycle on three items' case: every strength is equal."""
    df = battles([("0", "1", "a"), ("1", "2", "a"), ("2", "0", "a")])
    fit = fit_bt(df, ties="drop")
    np.testing.assert_allclose(fit.theta, 0.0, atol=1e-9)


def test_choix_pairwise_case_two():
    """choix's second pairwise case: ML is (0.4196, -0.4196, 0)."""
    df = battles([("0", "1", "a"), ("0", "1", "a"), ("1", "2", "a"), ("2", "0", "a")])
    fit = fit_bt(df, ties="drop")
    np.testing.assert_allclose(fit.theta, [0.4196, -0.4196, 0.0], atol=1e-4)
    # choix publishes the same fit as exp-strengths 1.43586088, 0.62035049, 0.94378863
    published = np.log([1.43586088, 0.62035049, 0.94378863])
    np.testing.assert_allclose(fit.theta, published - published.mean(), atol=1e-6)


def test_classic_worked_example():
    """The four-team worked example: strengths 0.640, 1.043, 0.660, 2.270."""
    W = np.array([[0, 2, 0, 1], [3, 0, 5, 0], [0, 3, 0, 1], [4, 0, 3, 0]])
    fit = fit_bt(from_win_matrix(W, "ABCD"), ties="drop")
    # geometric-mean normalisation is centring the log strengths
    np.testing.assert_allclose(
        np.exp(fit.theta), [0.640, 1.043, 0.660, 2.270], atol=5e-4
    )


@pytest.mark.parametrize("ties", list(TIES))
def test_gradient_and_hessian_match_finite_differences(ties):
    """Analytic gradient and Hessian agree with central differences."""
    rng = np.random.default_rng(3)
    n = 300
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    outcome = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 2))
    data = aggregate_arrays(a, b, outcome, list("abcd"), X, rng.uniform(0.5, 2, n))
    tie = TIES[ties]
    pen = Penalty(0.3, 0.7)
    p = 4 + 2 + int(tie.has_eta)
    w = rng.normal(scale=0.5, size=p)
    if tie.has_eta:
        w[-1] = 0.4
    g, H = bt_gradient(w, data, tie, pen), bt_hessian(w, data, tie, pen)
    h = 1e-5
    num_g = np.zeros(p)
    num_H = np.zeros((p, p))
    for k in range(p):
        e = np.zeros(p)
        e[k] = h
        num_g[k] = (
            bt_loglik(w + e, data, tie, pen) - bt_loglik(w - e, data, tie, pen)
        ) / (2 * h)
        num_H[k] = (
            bt_gradient(w + e, data, tie, pen) - bt_gradient(w - e, data, tie, pen)
        ) / (2 * h)
    np.testing.assert_allclose(g, num_g, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(H, num_H, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("ties", list(TIES))
def test_permuting_labels_permutes_ratings(ties):
    """Renaming the models permutes the ratings and changes nothing else."""
    df = simulate(np.array([0.5, -0.2, 0.1, -0.4]), 2000, 5, ties="rao-kupper", eta=0.5)
    rename = {"m00": "z", "m01": "y", "m02": "x", "m03": "w"}
    renamed = df.assign(model_a=df.model_a.map(rename), model_b=df.model_b.map(rename))
    r1 = fit_bt(df, ties=ties).ratings.rename(index=rename)
    r2 = fit_bt(renamed, ties=ties).ratings
    pd.testing.assert_series_equal(r1.sort_index(), r2.sort_index(), atol=1e-9)


@pytest.mark.parametrize("ties", list(TIES))
def test_swapping_sides_changes_nothing(ties):
    """Swapping a and b on some rows, with the outcome flipped, leaves the fit."""
    df = simulate(np.array([0.5, -0.2, 0.1]), 1500, 6, ties="davidson", eta=-0.5)
    swap = np.random.default_rng(0).random(len(df)) < 0.5
    flipped = df.copy()
    flipped.loc[swap, "model_a"] = df.loc[swap, "model_b"]
    flipped.loc[swap, "model_b"] = df.loc[swap, "model_a"]
    flipped.loc[swap, "winner"] = df.loc[swap, "winner"].map(
        {"a": "b", "b": "a", "tie": "tie"}
    )
    f1, f2 = fit_bt(df, ties=ties), fit_bt(flipped, ties=ties)
    np.testing.assert_allclose(f1.params, f2.params, atol=1e-9)


def test_weight_two_equals_duplicated_row():
    """A battle of weight 2 counts as that battle twice."""
    base = battles([("x", "y", "a"), ("y", "z", "a"), ("z", "x", "a"), ("x", "y", "b")])
    doubled = pd.concat([base, base.iloc[[0]]], ignore_index=True)
    weighted = base.assign(weight=[2.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(
        fit_bt(doubled, ties="drop").theta,
        fit_bt(weighted, ties="drop").theta,
        atol=1e-10,
    )


def test_half_convention_equals_explicit_half_wins():
    """Under 'half', a tie equals a half-weighted win for each side."""
    ties = battles(
        [("x", "y", "tie"), ("x", "y", "a"), ("y", "z", "a"), ("z", "x", "a")]
    )
    explicit = battles(
        [
            ("x", "y", "a"),
            ("x", "y", "b"),
            ("x", "y", "a"),
            ("y", "z", "a"),
            ("z", "x", "a"),
        ]
    ).assign(weight=[0.5, 0.5, 1, 1, 1])
    np.testing.assert_allclose(
        fit_bt(ties, ties="half").theta, fit_bt(explicit, ties="drop").theta, atol=1e-10
    )


def test_aggregation_counts_unique_rows():
    """Identical battles in either orientation collapse into one row of counts."""
    df = battles([("x", "y", "a"), ("y", "x", "b"), ("y", "x", "tie"), ("x", "y", "b")])
    data = aggregate(df)
    assert data.models == ("x", "y")
    np.testing.assert_array_equal(data.counts, [[2.0, 1.0, 1.0]])
    np.testing.assert_array_equal(data.n_battles, [4, 4])


def test_disconnected_graph_names_components():
    """Two separate groups of models raise an error naming both."""
    df = battles([("a", "b", "a"), ("b", "a", "a"), ("c", "d", "a"), ("d", "c", "a")])
    with pytest.raises(
        DisconnectedGraphError, match=r"2 disconnected components.*\{a, b\}; \{c, d\}"
    ):
        fit_bt(df)


def test_never_losing_model_warns_and_strict_raises():
    """A model that never loses has an infinite rating: warn, or raise if strict."""
    df = battles([("x", "y", "a"), ("x", "z", "a"), ("y", "z", "a"), ("z", "y", "a")])
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = fit_bt(df, ties="drop", max_iter=30)
    assert not fit.converged_
    assert fit.n_iter_ == 30
    with pytest.raises(NotConvergedError, match="did not converge"):
        fit_bt(df, ties="drop", max_iter=30, strict=True)
    # an L2 prior makes the estimate finite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_bt(df, ties="drop", l2=0.1).converged_


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"ties": "draw"},
            r"ties='draw' is not a tie convention; use one of half, drop",
        ),
        ({"l2": -1.0}, r"l2=-1.0 is not a valid prior strength"),
        ({"l2_style": float("nan")}, r"l2_style=nan is not a valid prior strength"),
        ({"max_iter": 0}, r"max_iter=0 must be at least 1"),
        ({"tol": 0.0}, r"tol=0.0 must be a positive number"),
    ],
)
def test_invalid_options_are_rejected(kwargs, match):
    """Each invalid option names itself, the value and what to pass."""
    df = battles([("x", "y", "a"), ("y", "x", "a")])
    with pytest.raises((UnknownNameError, PrefkitError), match=match):
        fit_bt(df, **kwargs)


def test_invalid_table_and_empty_table_are_rejected():
    """Unknown outcome labels and empty tables are data errors."""
    with pytest.raises(PrefkitDataError, match="unknown outcome label"):
        fit_bt(battles([("x", "y", "draw")]))
    with pytest.raises(PrefkitDataError, match="no comparisons"):
        fit_bt(battles([]))


def test_tie_model_without_ties_is_refused():
    """A tie parameter cannot be estimated from data without ties."""
    df = battles([("x", "y", "a"), ("y", "x", "a"), ("x", "y", "b")])
    with pytest.raises(NoTiesError, match="data hold no ties"):
        fit_bt(df, ties="davidson")
