"""The whole pipeline on the embedded model: 3 prompts x 2 systems (slow)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from prefkit.evaluate import EvaluateConfig, SystemSpec, evaluate


def _config(out: Path) -> EvaluateConfig:
    """Two systems (plain, and plain cut to 3 words) judged by the likelihood judge."""
    return EvaluateConfig(
        prompts="demo:3",
        systems=(
            SystemSpec(name="plain", max_tokens=24),
            SystemSpec(name="cut", max_tokens=24, truncate_words=3),
        ),
        judges=("likelihood",),
        rounds=20,
        output=str(out),
    )


@pytest.mark.slow
def test_embedded_pipeline_end_to_end_and_resumes_from_cache(tmp_path: Path) -> None:
    """Generate, judge, rank, audit and report; a second run is served by the cache."""
    pytest.importorskip("llama_cpp")
    steps: list[str] = []
    result = evaluate(_config(tmp_path), progress=False, on_step=steps.append)
    assert steps == ["generate", "judge", "rank", "audit", "report"]

    candidates = pd.read_parquet(tmp_path / "candidates.parquet")
    assert len(candidates) == 6
    cut = candidates[candidates["model"] == "cut"]
    assert (cut["response"].str.split().str.len() <= 3).all()
    comparisons = pd.read_parquet(tmp_path / "comparisons.parquet")
    assert len(comparisons) == 3
    assert comparisons["judge"].str.startswith("likelihood").all()
    assert comparisons["p_a"].between(0, 1).all()
    assert set(result.leaderboard["model"]) == {"plain", "cut"}
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["settings"]["systems"][1]["truncate_words"] == 3
    assert (tmp_path / "report.html").read_text().count("<svg") >= 2

    start = time.perf_counter()
    again = evaluate(_config(tmp_path), progress=False)
    assert time.perf_counter() - start < 60
    pd.testing.assert_frame_equal(
        again.comparisons[["model_a", "model_b", "winner", "p_a"]],
        result.comparisons[["model_a", "model_b", "winner", "p_a"]],
    )
