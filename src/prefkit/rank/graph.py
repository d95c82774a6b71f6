"""Connectivity of the comparison graph (models are nodes, battles edges).

Ratings of models in different connected components are not comparable: the
likelihood is flat along any shift of one component against another. A fit
on such a graph is refused with an error that names the components.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from prefkit.errors import PrefkitError


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
