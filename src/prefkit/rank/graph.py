"""Connectivity of the comparison graph (models are nodes, battles edges).

Ratings of models in different connected components are not comparable: the
likelihood is flat along any shift of one component against another. A fit
on such a graph is refused with an error that names the components.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from prefkit.errors import PrefkitError, PrefkitWarning


class DisconnectedGraphError(PrefkitError, ValueError):
    """The comparison graph has several components; ratings are not identifiable."""

    def __init__(self, components: list[list[str]]) -> None:
        self.components = components
        shown = "; ".join(
            "{" + ", ".join(c[:5]) + (", ..." if len(c) > 5 else "") + "}"
            for c in components[:5]
        )
        more = f" and {len(components) - 5} more" if len(components) > 5 else ""
        super().__init__(
            f"the comparison graph has {len(components)} disconnected components "
            f"({shown}{more}); ratings across components are not comparable: "
            "add battles between them or rank each component separately"
        )


def component_labels(
    i: NDArray[np.int64], j: NDArray[np.int64], n_models: int
) -> NDArray[np.int64]:
    """Component of each model: the smallest model index it is connected to."""
    labels = np.arange(n_models)
    while True:
        # every edge pulls both ends to the smaller label, then labels jump
        # to their label's label (pointer jumping) until nothing changes
        low = np.minimum(labels[i], labels[j])
        new = labels.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def components(
    i: NDArray[np.int64], j: NDArray[np.int64], models: Sequence[str]
) -> list[list[str]]:
    """The connected components as lists of model names, largest first."""
    labels = component_labels(i, j, len(models))
    groups: dict[int, list[str]] = {}
    for label, name in zip(labels.tolist(), models, strict=True):
        groups.setdefault(label, []).append(str(name))
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def check_connected(
    i: NDArray[np.int64], j: NDArray[np.int64], models: Sequence[str]
) -> None:
    """Raise :class:`DisconnectedGraphError` unless the graph is connected."""
    if len(models) < 2:
        return
    found = components(i, j, models)
    if len(found) > 1:
        raise DisconnectedGraphError(found)


# --- existence of the maximum-likelihood estimate ----------------------------


class SeparationWarning(PrefkitWarning):
    """The maximum-likelihood ratings do not exist (some model never loses/wins)."""


class SeparationError(PrefkitError, ValueError):
    """The maximum-likelihood ratings do not exist and ``strict=True`` was asked."""


def separation(
    winner: NDArray[np.int64], loser: NDArray[np.int64], models: Sequence[str]
) -> str | None:
    """Why the ML ratings do not exist, or None when they do.

    The maximum-likelihood ratings of a Bradley-Terry or Plackett-Luce model
    exist (are finite) exactly when the directed "beats" graph is strongly
    connected: for every split of the models into two groups, each group beats
    the other at least once [Hun04, Assumption 1]. A tie is an edge
    both ways. Otherwise a group that never loses to the rest (or never beats
    it) has ratings that run to infinity.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = len(models)
    if m < 2:
        return None
    graph = coo_matrix((np.ones(len(winner)), (winner, loser)), shape=(m, m))
    n, labels = connected_components(graph, directed=True, connection="strong")
    if n == 1:
        return None
    # condensation: which groups are beaten by / beat another group
    outside = labels[winner] != labels[loser]
    beaten = np.zeros(n, bool)
    beaten[labels[loser[outside]]] = True
    beats = np.zeros(n, bool)
    beats[labels[winner[outside]]] = True
    names = np.asarray([str(v) for v in models], dtype=object)

    def group(mask: NDArray[np.bool_]) -> str:
        found = sorted(names[mask[labels]])
        shown = ", ".join(found[:8]) + (", ..." if len(found) > 8 else "")
        return "{" + shown + "}"

    return (
        f"{group(~beaten)} never lose to the other models and "
        f"{group(~beats)} never beat them"
    )


def check_separation(
    winner: NDArray[np.int64],
    loser: NDArray[np.int64],
    models: Sequence[str],
    *,
    remedy: str,
    strict: bool,
) -> bool:
    """Warn (or raise when ``strict``) if the ML ratings do not exist; True then."""
    reason = separation(winner, loser, models)
    if reason is None:
        return False
    message = (
        f"the maximum-likelihood ratings do not exist: {reason}, so their ratings "
        f"run to infinity and the intervals are reported as unbounded; {remedy}"
    )
    if strict:
        raise SeparationError(message)
    warnings.warn(message, SeparationWarning, stacklevel=3)
    return True
