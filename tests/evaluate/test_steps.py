"""Tests of the pipeline steps that need no model: prompts, truncation, ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitDataError
from prefkit.evaluate import rank_step, read_prompts
from prefkit.evaluate.steps import (
    DEMO_INSTRUCTIONS,
    jury_name,
    main_judge,
    truncate_words,
    unjudged,
)


def test_demo_instructions_are_thirty_varied_prompts() -> None:
    """The built-in set has 30 unique prompts in four categories."""
    raw = pd.read_json(DEMO_INSTRUCTIONS, lines=True)
    assert len(raw) == 30 and raw["prompt_id"].is_unique
    assert set(raw["category"]) == {"fact", "arithmetic", "writing", "advice"}
    assert raw["category"].value_counts().min() >= 7
    prompts = read_prompts("demo")
    assert list(prompts.columns) == ["prompt_id", "prompt"] and len(prompts) == 30


def test_demo_prefix_keeps_the_first_prompts() -> None:
    """'demo:3' is the first three built-in prompts."""
    assert read_prompts("demo:3")["prompt_id"].tolist() == [
        "demo-01",
        "demo-02",
        "demo-03",
    ]


def test_read_prompts_numbers_prompts_without_ids(tmp_path: Path) -> None:
    """A file with prompts only gets ids 0, 1, ..."""
    (tmp_path / "p.jsonl").write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    assert read_prompts(tmp_path / "p.jsonl")["prompt_id"].tolist() == ["0", "1"]


def test_read_prompts_refuses_missing_and_duplicate(tmp_path: Path) -> None:
    """A file without prompts, or with repeated ids, is refused."""
    (tmp_path / "a.jsonl").write_text('{"text": "a"}\n')
    with pytest.raises(PrefkitDataError, match="no 'prompt' column"):
        read_prompts(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text(
        '{"prompt_id": 1, "prompt": "a"}\n{"prompt_id": 1, "prompt": "b"}\n'
    )
    with pytest.raises(PrefkitDataError, match="prompt_id '1' occurs more than once"):
        read_prompts(tmp_path / "b.jsonl")


def test_truncate_words_keeps_the_first_words() -> None:
    """Truncation keeps n words and normalises the spaces between them."""
    assert truncate_words("The capital  of\nFrance is Paris.", 3) == "The capital of"
    assert truncate_words("short", 6) == "short"


def test_unjudged_drops_every_verdict_column() -> None:
    """Recorded verdicts are removed before judging again; the pair stays."""
    table = pd.DataFrame(
        {
            "model_a": ["x"],
            "model_b": ["y"],
            "winner": ["a"],
            "p_a": [0.9],
            "judge": ["j"],
            "swapped": [True],
            "prompt": ["q"],
        }
    )
    assert list(unjudged(table).columns) == ["model_a", "model_b", "prompt"]


def test_main_judge_prefers_the_jury() -> None:
    """The jury's verdicts make the main board; one judge is used alone; mixes pool."""
    jury = jury_name(["local:m", "likelihood:m"], "mean")
    assert jury == "jury:mean(local:m,likelihood:m)"
    table = pd.DataFrame({"judge": ["local:m", "likelihood:m", jury]})
    assert main_judge(table) == jury
    assert main_judge(table.iloc[:1]) == "local:m"
    assert main_judge(table.iloc[:2]) is None
    assert main_judge(pd.DataFrame({"model_a": ["x"]})) is None


def _seeded(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Comparisons of three models against a baseline with known win rates."""
    rng = np.random.default_rng(seed)
    p_win = {"strong": 0.8, "middle": 0.5, "weak": 0.2}
    rows = []
    for i in range(n):
        model = list(p_win)[i % 3]
        win = rng.random() < p_win[model]
        rows.append(
            {
                "prompt_id": str(i // 3),
                "model_a": model,
                "model_b": "base",
                "winner": "a" if win else "b",
                "judge": "j",
                "response_a": "x" * int(rng.integers(10, 50)),
                "response_b": "y" * 30,
            }
        )
    return pd.DataFrame(rows)


def test_rank_step_merges_win_rates_that_match_a_recount() -> None:
    """The leaderboard's win rates equal the share of wins counted by hand."""
    table = _seeded()
    result = rank_step(table, baseline="base", rounds=0, ci="sandwich")
    board = result.table.set_index("model")
    for model in ("strong", "middle", "weak"):
        rows = table[table["model_a"] == model]
        expected = 100 * (rows["winner"] == "a").mean()
        assert board.loc[model, "win_rate"] == pytest.approx(expected)
    assert np.isnan(board.loc["base", "win_rate"])
    assert board.index.tolist()[0] == "strong" and board.index.tolist()[-1] == "weak"
    assert {"lc_win_rate", "lc_lower", "lc_upper"} <= set(board.columns)


def test_rank_step_ranks_each_judge_and_the_jury() -> None:
    """With a jury the main board is the jury's and each judge has its own."""
    one = _seeded(seed=1).assign(judge="j1")
    two = _seeded(seed=2).assign(judge="j2")
    jury = _seeded(seed=3).assign(judge="jury:mean(j1,j2)")
    result = rank_step(pd.concat([one, two, jury], ignore_index=True), rounds=0)
    assert set(result.per_judge) == {"j1", "j2", "jury:mean(j1,j2)"}
    assert result.table["n_battles"].max() == len(jury)
