"""Recorded verdicts served through replay: LLMBar and prefkit's own layouts."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from prefkit.judge import (
    JudgeError,
    JudgeFailureWarning,
    judge_pairs,
    positional_consistency,
)
from prefkit.judge.replay import llmbar_pairs
from tests.conftest import need

JUDGES = ["GPT-4/Vanilla", "ChatGPT/Swap", "LLaMA2/CoT", "PaLM2/Vanilla_NoRules"]


def _recount(path, judge: str) -> tuple[float, int]:
    """Consistency counted straight from the file: same winner in both orders."""
    evaluator, strategy = judge.split("/")
    same = both = 0
    with gzip.open(path, "rt") as handle:
        for line in handle:
            r = json.loads(line)
            if r["evaluator"] != evaluator or r["strategy"] != strategy:
                continue
            if r["winner_swap_false"] is None or r["winner_swap_true"] is None:
                continue
            both += 1
            same += r["winner_swap_false"] == r["winner_swap_true"]
    return same / both, both


@pytest.mark.filterwarnings("ignore::prefkit.judge.JudgeFailureWarning")
@pytest.mark.parametrize("judge", JUDGES)
def test_llmbar_positional_consistency_equals_recount(shared_data, judge: str) -> None:
    """prefkit's consistency on LLMBar's recorded verdicts equals a recount."""
    judgments = need(shared_data / "llmbar" / "evaluator_judgments.jsonl.gz")
    pairs = llmbar_pairs(need(shared_data / "llmbar" / "instances.jsonl"))
    out = judge_pairs(pairs, f"replay:{judgments}#{judge}", progress=False)
    expected, n_both = _recount(judgments, judge)
    measured = positional_consistency(
        out["winner_ab"].tolist(), out["winner_ba"].tolist()
    )
    assert measured == pytest.approx(expected, abs=1e-12)
    assert (out["winner_ab"].notna() & out["winner_ba"].notna()).sum() == n_both
    assert out["judge"].iloc[0] == f"replay:{judge}"
    # a flip becomes a tie (FastChat's rule); agreeing orders keep their winner
    agree = out["winner_ab"] == out["winner_ba"]
    assert (out.loc[agree, "winner"] == out.loc[agree, "winner_ab"]).all()


@pytest.mark.filterwarnings("ignore::prefkit.judge.JudgeFailureWarning")
def test_llmbar_gpt4_is_more_consistent_than_llama2(shared_data) -> None:
    """On LLMBar GPT-4 keeps its verdict across orders more often than LLaMA2."""
    judgments = need(shared_data / "llmbar" / "evaluator_judgments.jsonl.gz")
    pairs = llmbar_pairs(need(shared_data / "llmbar" / "instances.jsonl"))
    rates = {}
    for judge in ("GPT-4/Vanilla", "LLaMA2/Vanilla"):
        out = judge_pairs(pairs, f"replay:{judgments}#{judge}", progress=False)
        rates[judge] = positional_consistency(
            out["winner_ab"].tolist(), out["winner_ba"].tolist()
        )
    assert rates["GPT-4/Vanilla"] > rates["LLaMA2/Vanilla"] + 0.1


def _one_row_per_order(tmp_path) -> str:
    rows = [
        {
            "prompt_id": "1",
            "model_a": "x",
            "model_b": "y",
            "winner": "a",
            "swapped": False,
            "judge": "j1",
        },
        {
            "prompt_id": "1",
            "model_a": "x",
            "model_b": "y",
            "winner": "b",
            "swapped": True,
            "judge": "j1",
        },
        {
            "prompt_id": "2",
            "model_a": "x",
            "model_b": "y",
            "winner": "b",
            "swapped": False,
            "judge": "j1",
            "p_a": 0.2,
        },
        {
            "prompt_id": "2",
            "model_a": "x",
            "model_b": "y",
            "winner": "b",
            "swapped": True,
            "judge": "j1",
            "p_a": 0.4,
        },
        {
            "prompt_id": "1",
            "model_a": "x",
            "model_b": "y",
            "winner": "a",
            "swapped": False,
            "judge": "j2",
        },
    ]
    path = tmp_path / "recorded.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return str(path)


def test_replay_of_one_row_per_order_and_reversed_pairs(tmp_path) -> None:
    """Rows per shown order are paired up; a pair asked as (y, x) is flipped."""
    path = _one_row_per_order(tmp_path)
    pairs = pd.DataFrame(
        {
            "prompt_id": ["1", "2", "3"],
            "model_a": ["x", "y", "x"],
            "model_b": ["y", "x", "y"],
        }
    )
    with pytest.warns(JudgeFailureWarning, match="1 of 3"):
        out = judge_pairs(pairs, f"replay:{path}#j1", progress=False)
    assert out["winner_ab"].tolist()[:2] == ["a", "a"]
    assert out["winner_ba"].tolist()[:2] == ["b", "a"]
    assert out["winner"].tolist()[:2] == ["tie", "a"]
    # pair 2 asked as (y, x): the file's p_a of x (0.2, 0.4) become 0.6 and 0.8 for y
    assert out["p_a_ab"].iloc[1] == pytest.approx(0.6)
    assert out["p_a_ba"].iloc[1] == pytest.approx(0.8)
    assert out["p_a"].iloc[1] == pytest.approx(0.7)
    assert "pair not in the file" in out["failures"].iloc[2][0]


def test_replay_of_prefkit_output_round_trips(tmp_path) -> None:
    """judge_pairs output replayed gives the same per-order verdicts."""
    path = _one_row_per_order(tmp_path)
    pairs = pd.DataFrame(
        {"prompt_id": ["1", "2"], "model_a": ["x", "x"], "model_b": ["y", "y"]}
    )
    first = judge_pairs(pairs, f"replay:{path}#j1", progress=False)
    saved = tmp_path / "judged.jsonl"
    first.drop(columns=["judge"]).to_json(saved, orient="records", lines=True)
    again = judge_pairs(pairs, f"replay:{saved}", progress=False)
    assert again["winner_ab"].tolist() == first["winner_ab"].tolist()
    assert again["winner_ba"].tolist() == first["winner_ba"].tolist()
    assert again["p_a"].tolist() == pytest.approx(first["p_a"].tolist(), nan_ok=True)


def test_replay_rejects_bad_files(tmp_path, shared_data) -> None:
    """Missing files, ambiguous judges and unknown selectors are refused."""
    path = _one_row_per_order(tmp_path)
    pairs = pd.DataFrame({"prompt_id": ["1"], "model_a": ["x"], "model_b": ["y"]})
    with pytest.raises(JudgeError, match="does not exist"):
        judge_pairs(pairs, f"replay:{tmp_path}/none.jsonl", progress=False)
    with pytest.raises(JudgeError, match="holds 2 judges"):
        judge_pairs(pairs, f"replay:{path}", progress=False)
    with pytest.raises(JudgeError, match="no judge 'j9'"):
        judge_pairs(pairs, f"replay:{path}#j9", progress=False)
    with pytest.raises(JudgeError, match="names no file"):
        judge_pairs(pairs, "replay:", progress=False)
    bad = tmp_path / "bad.jsonl"
    pd.DataFrame(
        [{"prompt_id": "1", "model_a": "x", "model_b": "y", "winner": "a"}]
    ).to_json(bad, orient="records", lines=True)
    with pytest.raises(JudgeError, match="neither winner_ab"):
        judge_pairs(pairs, f"replay:{bad}", progress=False)
    judgments = need(shared_data / "llmbar" / "evaluator_judgments.jsonl.gz")
    with pytest.raises(JudgeError, match="EVALUATOR/STRATEGY"):
        judge_pairs(pairs, f"replay:{judgments}#GPT-5/Vanilla", progress=False)
