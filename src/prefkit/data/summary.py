"""What a table holds: models, counts, judges and the comparison graph.

The comparison graph has one node per model and an edge between two models
that met in at least one judged comparison. Ratings of a Bradley-Terry model
[BT52]_ are identified only within a connected component [Hun04]_, so rankers
check :func:`connected_components` before fitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components as _components

from prefkit.data.formats import FORMAT_ATTR, KIND_ATTR
from prefkit.data.schema import guess_kind


def comparison_graph(
    model_a: Sequence[str] | np.ndarray,
    model_b: Sequence[str] | np.ndarray,
    models: Sequence[str] | None = None,
) -> tuple[list[str], csr_matrix]:
    """Models (sorted) and the symmetric adjacency matrix of who met whom.

    Parameters
    ----------
    model_a, model_b : array of str of shape (n_pairs,)
        The two sides of each comparison.
    models : sequence of str or None, default=None
        Extra nodes (models without comparisons, each then its own component).

    Returns
    -------
    models : list of str
        Node names, sorted.
    adjacency : csr_matrix of shape (n_models, n_models)
        Entry (i, j) counts the comparisons between models i and j.
    """
    a = np.asarray(model_a, dtype=object)
    b = np.asarray(model_b, dtype=object)
    extra = np.asarray(list(models or []), dtype=object)
    names, codes = np.unique(
        np.concatenate([a, b, extra]).astype(str), return_inverse=True
    )
    n, m = len(a), len(names)
    rows, cols = codes[:n], codes[n : 2 * n]
    ones = np.ones(2 * n)
    graph = coo_matrix(
        (ones, (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(m, m),
    )
    return [str(x) for x in names], graph.tocsr()


def connected_components(
    model_a: Sequence[str] | np.ndarray,
    model_b: Sequence[str] | np.ndarray,
    models: Sequence[str] | None = None,
) -> list[list[str]]:
    """Groups of models linked by comparisons, largest first (names sorted).

    ``models`` adds nodes that may have no comparison (each its own group).

    Examples
    --------
    >>> connected_components(["x", "z"], ["y", "w"])
    [['w', 'z'], ['x', 'y']]
    """
    names, graph = comparison_graph(model_a, model_b, models)
    if not names:
        return []
    _, labels = _components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for model, label in zip(names, labels, strict=True):
        groups.setdefault(int(label), []).append(model)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype(object).fillna("<missing>").value_counts()
    return {str(k): int(v) for k, v in counts.sort_index().items()}


def _comparisons(df: pd.DataFrame) -> dict[str, Any]:
    winner = df["winner"].astype(object) if "winner" in df else pd.Series(dtype=object)
    judged = df[winner.notna().to_numpy()] if len(winner) else df
    models = sorted(set(df["model_a"].astype(str)) | set(df["model_b"].astype(str)))
    components = connected_components(
        judged["model_a"].to_numpy(dtype=object),
        judged["model_b"].to_numpy(dtype=object),
        models,
    )
    pairs = {tuple(sorted(p)) for p in zip(df["model_a"], df["model_b"], strict=True)}
    info: dict[str, Any] = {
        "n_models": len(models),
        "models": models,
        "n_comparisons": len(df),
        "n_model_pairs": len(pairs),
        "outcomes": {k: int((winner == k).sum()) for k in ("a", "b", "tie")},
        "ties": int((winner == "tie").sum()),
        "unjudged": int(winner.isna().sum()) if len(winner) else 0,
        "connected": len(components) <= 1,
        "n_components": len(components),
    }
    if len(components) > 1:
        info["components"] = components
    if "judge" in df:
        info["judges"] = _counts(df["judge"])
    if "tie_kind" in df:
        info["tie_kinds"] = _counts(df["tie_kind"].dropna())
    if "unparsable" in df:
        info["unparsable"] = int(df["unparsable"].astype(bool).sum())
    if "swapped" in df:
        info["swapped"] = int(df["swapped"].astype("boolean").fillna(False).sum())
    return info


def _ratings_like(df: pd.DataFrame) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if "model" in df:
        models = sorted(df["model"].astype(str).unique())
        info.update(n_models=len(models), models=models)
    if "prompt_id" in df:
        info["n_prompts"] = int(df["prompt_id"].nunique())
    if "score" in df:
        info["score_mean"] = float(df["score"].mean())
    if "judge" in df:
        info["judges"] = _counts(df["judge"])
    return info


def summarize(df: pd.DataFrame) -> dict[str, Any]:
    """A JSON-ready summary of a loaded table (what ``prefkit info`` shows).

    Parameters
    ----------
    df : DataFrame
        A table from :func:`prefkit.data.load` (or any canonical table).

    Returns
    -------
    dict
        ``kind``, ``format``, ``rows``, ``columns`` and, by kind: for
        comparisons the models, counts of outcomes and ties, per-judge
        counts and whether the comparison graph is connected (with its
        components when it is not); for ratings and candidates the models
        and prompts; for pairs the multi-turn count.
    """
    kind = df.attrs.get(KIND_ATTR) or guess_kind([str(c) for c in df.columns])
    info: dict[str, Any] = {
        "kind": kind,
        "format": df.attrs.get(FORMAT_ATTR, kind),
        "rows": len(df),
        "columns": [str(c) for c in df.columns],
    }
    if kind == "comparisons":
        info.update(_comparisons(df))
    elif kind in ("ratings", "candidates", "prompts"):
        info.update(_ratings_like(df))
    elif kind == "pairs" and "prompt_messages" in df:
        turns = df["prompt_messages"].map(lambda m: len(m) if m is not None else 0)
        info["multi_turn"] = int((turns > 1).sum())
    dropped = df.attrs.get("prefkit_dropped")
    if dropped:
        info["dropped"] = {"n": len(dropped["lines"]), "reason": dropped["reason"]}
    return info
