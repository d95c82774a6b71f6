"""Seeded synthetic pair data with known preference structure."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def linear_pairs(
    n_pairs: int, w: NDArray[np.float64], seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Pairs whose labels follow BT with reward ``x @ w``."""
    rng = np.random.default_rng(seed)
    x_a = rng.normal(size=(n_pairs, len(w)))
    x_b = rng.normal(size=(n_pairs, len(w)))
    p = 1.0 / (1.0 + np.exp(-(x_a - x_b) @ w))
    y = (rng.random(n_pairs) < p).astype(float)
    return x_a, x_b, y


def cyclic_pairs(
    n_pairs: int, n_features: int = 6, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Rock-paper-scissors on a circle: a beats b when b lies ahead by < pi.

    Items have an angle theta; ``a`` wins iff ``sin(theta_b - theta_a) > 0``.
    Every item beats half the circle and loses to the other half, so no
    scalar reward orders the pairs better than chance.
    """
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(2, n_features))

    def items(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        theta = rng.uniform(0, 2 * np.pi, n)
        circle = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        return theta, circle @ mix + 0.01 * rng.normal(size=(n, n_features))

    t_a, x_a = items(n_pairs)
    t_b, x_b = items(n_pairs)
    y = (np.sin(t_b - t_a) > 0).astype(float)
    return x_a, x_b, y
