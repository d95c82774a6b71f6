"""Which pair a voter sees next, once the human-review queue is empty.

A comparison of models ``i`` and ``j`` tells most about their gap when its
outcome is least certain under the current ratings: its Fisher information
about ``theta_i - theta_j`` is ``p (1 - p)`` with ``p = sigma(theta_i -
theta_j)`` [BT52]_. Chatbot Arena samples pairs with probability growing with
how much a battle would shrink the CIs [Chiang24]_; here a pair's weight is its
information divided by one plus the votes it already has, so close pairs are
favoured without starving the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.arena.ratings import sigmoid


def outcome_information(gap: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fisher information ``p (1 - p)`` of one comparison at strength gap ``gap``.

    .. math:: I(d) = \\sigma(d)\\,(1 - \\sigma(d))

    Largest (1/4) for an even pair, vanishing for a foregone one.
    """
    p = sigmoid(gap)
    return p * (1.0 - p)


def pair_weights(
    gap: NDArray[np.float64], n_votes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Sampling probabilities of the pairs: information over ``1 + votes``.

    .. math:: w_{ij} \\propto \\frac{I(\\theta_i - \\theta_j)}{1 + n_{ij}}
    """
    raw = outcome_information(gap) / (1.0 + n_votes)
    return raw / raw.sum()


@dataclass(frozen=True)
class PairIndex:
    """The model pairs that can meet (both answered some prompt).

    Attributes
    ----------
    rows : list of tuple of str
        ``(prompt_id, prompt, model, response)`` of each candidate.
    pairs : list of (str, str)
        Each pair once, models in sorted order.
    prompts : list of list of (int, int)
        For each pair, the candidate rows (first model, second model) of
        every prompt both answered.
    """

    rows: list[tuple[str, str, str, str]]
    pairs: list[tuple[str, str]]
    prompts: list[list[tuple[int, int]]]


def index_pairs(candidates: pd.DataFrame) -> PairIndex:
    """All pairs of models with a prompt in common, and those prompts."""
    table = candidates.reset_index(drop=True)
    shared: dict[tuple[str, str], list[tuple[int, int]]] = {}
    models = [str(m) for m in table["model"]]
    for _, group in table.groupby("prompt_id", sort=True).groups.items():
        members = sorted(group, key=lambda r: models[r])
        for x, r in enumerate(members):
            for s in members[x + 1 :]:
                key = (models[r], models[s])
                shared.setdefault(key, []).append((int(r), int(s)))
    pairs = sorted(shared)
    columns = ["prompt_id", "prompt", "model", "response"]
    rows = [
        (str(p), str(q), str(m), str(r))
        for p, q, m, r in table.loc[:, columns].itertuples(index=False, name=None)
    ]
    return PairIndex(rows, pairs, [shared[p] for p in pairs])


def sample_pair(
    index: PairIndex,
    theta: dict[str, float],
    n_votes: dict[tuple[str, str], int],
    rng: np.random.Generator,
) -> dict[str, str] | None:
    """Draw a pair by :func:`pair_weights`, then one of its shared prompts.

    Parameters
    ----------
    index : PairIndex
        From :func:`index_pairs`.
    theta : dict of str to float
        Current log-strengths; unrated models count as 0.
    n_votes : dict of (str, str) to int
        Votes so far per sorted model pair.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    dict or None
        ``prompt_id, prompt, model_a, model_b, response_a, response_b`` (the
        models in sorted order), or None when no two models share a prompt.
    """
    if not index.pairs:
        return None
    gap = np.array([theta.get(a, 0.0) - theta.get(b, 0.0) for a, b in index.pairs])
    votes = np.array([n_votes.get(p, 0) for p in index.pairs], dtype=float)
    k = int(rng.choice(len(index.pairs), p=pair_weights(gap, votes)))
    options = index.prompts[k]
    r, s = options[int(rng.integers(len(options)))]
    a, b = index.rows[r], index.rows[s]
    return {
        "prompt_id": a[0],
        "prompt": a[1],
        "model_a": a[2],
        "model_b": b[2],
        "response_a": a[3],
        "response_b": b[3],
    }
