"""The pair sampler: favour pairs whose outcome is least certain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.arena.sampling import (
    index_pairs,
    outcome_information,
    pair_weights,
    sample_pair,
)


def test_information_is_a_quarter_at_an_even_pair_and_symmetric():
    """p(1-p) is 1/4 at gap 0, equal for +d and -d, and falls with |d|."""
    gaps = np.array([0.0, 1.0, -1.0, 3.0])
    info = outcome_information(gaps)
    assert info[0] == pytest.approx(0.25)
    assert info[1] == pytest.approx(info[2])
    assert info[0] > info[1] > info[3]


def test_weights_favour_close_pairs_and_decay_with_votes():
    """A close pair outweighs a lopsided one; votes already cast lower a weight."""
    w = pair_weights(np.array([0.0, 4.0]), np.array([0.0, 0.0]))
    assert w.sum() == pytest.approx(1.0)
    assert w[0] > 10 * w[1]
    w2 = pair_weights(np.array([0.0, 0.0]), np.array([0.0, 3.0]))
    assert w2[0] / w2[1] == pytest.approx(4.0)


def _candidates() -> pd.DataFrame:
    rows = [("p1", "x"), ("p1", "y"), ("p1", "z"), ("p2", "x"), ("p2", "w")]
    return pd.DataFrame(
        {
            "prompt_id": [p for p, _ in rows],
            "prompt": [f"prompt {p}" for p, _ in rows],
            "model": [m for _, m in rows],
            "response": [f"{m} on {p}" for p, m in rows],
        }
    )


def test_index_holds_only_pairs_that_share_a_prompt():
    """w meets only x (on p2); y and w never answered the same prompt."""
    index = index_pairs(_candidates())
    assert index.pairs == [("w", "x"), ("x", "y"), ("x", "z"), ("y", "z")]
    assert len(index.prompts[0]) == 1


def test_sampled_frequencies_follow_the_weights():
    """Over 4000 seeded draws each pair appears at its weight (within 3 SE)."""
    index = index_pairs(_candidates())
    theta = {"x": 0.0, "y": 0.0, "z": 3.0, "w": 0.5}
    rng = np.random.default_rng(0)
    draws = [sample_pair(index, theta, {}, rng) for _ in range(4000)]
    seen = pd.Series([(d["model_a"], d["model_b"]) for d in draws]).value_counts()
    gap = np.array([theta[a] - theta[b] for a, b in index.pairs])
    expected = pair_weights(gap, np.zeros(len(gap)))
    for pair, p in zip(index.pairs, expected, strict=True):
        se = np.sqrt(p * (1 - p) / 4000)
        assert abs(seen.get(pair, 0) / 4000 - p) < 3 * se + 1e-9


def test_sampled_pair_carries_both_responses_of_one_prompt():
    """The drawn pair's texts are those two models' answers to the same prompt."""
    index = index_pairs(_candidates())
    pair = sample_pair(index, {}, {}, np.random.default_rng(1))
    assert pair is not None
    assert pair["response_a"] == f"{pair['model_a']} on {pair['prompt_id']}"
    assert pair["response_b"] == f"{pair['model_b']} on {pair['prompt_id']}"


def test_no_pairs_means_no_battle():
    """Candidates with one model per prompt give nothing to sample."""
    index = index_pairs(_candidates().iloc[[0, 3]])
    assert sample_pair(index, {}, {}, np.random.default_rng(0)) is None
