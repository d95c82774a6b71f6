"""The comparison graph and table summaries."""

from __future__ import annotations

import pandas as pd

from prefkit.data import load
from prefkit.data.builtin import builtin_path
from prefkit.data.summary import comparison_graph, connected_components, summarize


def test_comparison_graph_counts_meetings():
    """Entry (i, j) counts the comparisons between i and j, symmetrically."""
    models, graph = comparison_graph(["x", "x", "y"], ["y", "y", "z"])
    assert models == ["x", "y", "z"]
    dense = graph.toarray()
    assert dense[0, 1] == dense[1, 0] == 2 and dense[1, 2] == 1 and dense[0, 2] == 0


def test_components_hand_case():
    """Three groups are found, largest first, names sorted."""
    groups = connected_components(["a", "b", "x", "p"], ["b", "c", "y", "q"])
    assert groups == [["a", "b", "c"], ["p", "q"], ["x", "y"]]
    assert connected_components([], []) == []


def test_components_invariant_to_row_order():
    """Shuffling rows does not change the components."""
    a, b = ["a", "b", "x", "p", "c"], ["b", "c", "y", "q", "a"]
    order = [4, 2, 0, 3, 1]
    assert connected_components(a, b) == connected_components(
        [a[k] for k in order], [b[k] for k in order]
    )


def test_summary_of_builtin_table():
    """The shipped demo table is connected with 5 models and its ties counted."""
    info = summarize(load(builtin_path()))
    assert info["n_models"] == 5 and info["connected"] is True
    assert info["outcomes"]["tie"] == info["ties"] == 9
    assert sum(info["outcomes"].values()) == info["rows"] == 60
    assert info["tie_kinds"] == {"bothbad": 2}


def test_unjudged_rows_do_not_connect():
    """Rows without a verdict are not edges of the comparison graph."""
    df = pd.DataFrame(
        {"model_a": ["x", "y"], "model_b": ["y", "z"], "winner": ["a", None]}
    )
    from prefkit.data import validate_comparisons

    info = summarize(validate_comparisons(df, require_winner=False))
    assert info["connected"] is False and info["unjudged"] == 1
    assert info["components"] == [["x", "y"], ["z"]]
    assert connected_components(["x"], ["y"], ["z", "x"]) == [["x", "y"], ["z"]]
