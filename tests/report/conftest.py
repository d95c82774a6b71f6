"""Fixtures of the report tests: a small judged table with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def make_comparisons(
    n: int = 240, first_rate: float = 0.8, seed: int = 0
) -> pd.DataFrame:
    """Both orders of random pairs; the judge picks the first slot w.p. first_rate."""
    rng = np.random.default_rng(seed)
    models = ["alpha", "beta", "gamma", HOSTILE]
    rows = []
    for i in range(n // 2):
        a, b = rng.choice(len(models), 2, replace=False)
        for swapped in (False, True):
            first = rng.random() < first_rate
            winner = "a" if first != swapped else "b"
            rows.append(
                {
                    "prompt_id": f"p{i}",
                    "prompt": f"prompt {i} {HOSTILE}",
                    "model_a": models[a],
                    "model_b": models[b],
                    "response_a": "x" * int(rng.integers(5, 200)) + HOSTILE,
                    "response_b": "y" * int(rng.integers(5, 200)),
                    "winner": winner,
                    "p_a": float(rng.uniform(0.05, 0.95)),
                    "judge": "ab-judge",
                    "swapped": swapped,
                }
            )
    return pd.DataFrame(rows)


def make_leaderboard() -> pd.DataFrame:
    """A four-model leaderboard in the contract's columns."""
    return pd.DataFrame(
        {
            "model": ["alpha", "beta", "gamma", HOSTILE],
            "rating": [1100.0, 1050.0, 1000.0, 950.0],
            "lower": [1080.0, 1020.0, 970.0, 900.0],
            "upper": [1120.0, 1080.0, 1030.0, 990.0],
            "rank": [1, 2, 3, 4],
            "rank_lower": [1, 1, 2, 3],
            "rank_upper": [1, 3, 4, 4],
            "n_battles": [120, 120, 120, 120],
        }
    )


def make_audit() -> pd.DataFrame:
    """One flagged and one unflagged audit figure."""
    return pd.DataFrame(
        {
            "audit": ["position", "verbosity"],
            "figure": ["first_rate", "length_slope"],
            "judge": ["ab-judge", "ab-judge"],
            "value": [0.8, 0.01],
            "lower": [0.75, -0.02],
            "upper": [0.85, 0.04],
            "band_low": [0.4, -0.1],
            "band_high": [0.6, 0.1],
            "flag": [True, False],
            "n": [240, 240],
            "note": ["", ""],
        }
    )


@pytest.fixture
def report_data():  # type: ignore[no-untyped-def]
    """A ReportData with hostile text in names, prompts and responses."""
    from prefkit.report import ReportData

    board = make_leaderboard()
    models = board["model"].tolist()
    probs = pd.DataFrame(0.5, index=models, columns=models)
    return ReportData(
        title="test report",
        leaderboard=board,
        comparisons=make_comparisons(),
        win_probabilities=probs,
        audit=make_audit(),
        notes=(f"note with {HOSTILE}",),
        settings={"judge": HOSTILE},
        n_uncertain=5,
    )
