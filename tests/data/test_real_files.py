"""Every reader on the real files in ../shared/data, checked against their READMEs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from prefkit.data import load, load_candidates, load_prompts
from prefkit.errors import DroppedRowsWarning
from tests.conftest import need


def _load(shared: Path, name: str, format: str = "auto"):
    return load(need(shared / name), format)


def test_llmfao_crowd_counts(shared_data):
    """The crowd file holds 8,931 votes on 2,139 pairs of 59 models (README)."""
    df = _load(shared_data, "llmfao/crowd-comparisons.jsonl")
    assert df.attrs["prefkit_format"] == "llmfao"
    assert len(df) == 8931
    assert df["pair_id"].nunique() == 2139
    assert len(set(df["model_a"]) | set(df["model_b"])) == 59
    counts = df["winner"].value_counts()
    assert (counts["tie"], counts["a"], counts["b"]) == (3471, 2911, 2549)
    assert set(df["judge"]) == {"crowd"}
    assert df["annotator"].notna().all()


def test_llmfao_gpt_verdicts(shared_data):
    """GPT-4 and GPT-3 files give 3,236 verdicts each with the README's counts."""
    gpt4 = _load(shared_data, "llmfao/gpt4-comparisons.jsonl")
    gpt3 = _load(shared_data, "llmfao/gpt3-comparisons.jsonl")
    assert set(gpt4["judge"]) == {"gpt4"} and set(gpt3["judge"]) == {"gpt3"}
    c4, c3 = gpt4["winner"].value_counts(), gpt3["winner"].value_counts()
    assert (c4["b"], c4["a"], c4["tie"]) == (1700, 1397, 139)
    assert (c3["a"], c3["b"], c3["tie"]) == (1965, 958, 313)
    crowd = _load(shared_data, "llmfao/crowd-comparisons.jsonl")
    assert set(crowd["pair_id"]) <= set(gpt4["pair_id"])


def test_hh_helpful_pairs(shared_data):
    """HH helpful-base test has 2,354 pairs; prompt + chosen is the transcript."""
    import gzip
    import json

    path = need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")
    df = load(path)
    assert df.attrs["prefkit_kind"] == "pairs" and len(df) == 2354
    with gzip.open(path, "rt") as handle:
        raw = [json.loads(line) for line in handle]
    for k in (0, 1, 1000, 2353):
        assert df["prompt"][k] + df["chosen"][k] == raw[k]["chosen"]
        assert df["prompt"][k] + df["rejected"][k] == raw[k]["rejected"]
        assert df["prompt"][k].endswith("\n\nAssistant:")
    assert df["prompt_messages"][0][0]["role"] == "user"
    assert df["chosen_messages"][0][0]["role"] == "assistant"
    assert df["chosen_messages"][0][0]["content"].startswith("To be honest")
    assert (df["prompt_messages"].map(len) > 1).sum() > 500


def test_hh_harmless_pairs(shared_data):
    """HH harmless-base test has 2,312 pairs."""
    assert len(_load(shared_data, "hh_rlhf/harmless-base_test.jsonl.gz")) == 2312


def test_alpaca_eval_annotations(shared_data):
    """10,461 full-text judgments; p_a = 2 - preference; a = the baseline."""
    df = _load(
        shared_data, "alpaca_eval/annotations_weighted_alpaca_eval_gpt4_turbo.jsonl.gz"
    )
    assert len(df) == 10461
    assert set(df["model_a"]) == {"gpt4_1106_preview"}
    assert df["model_b"].nunique() == 13 and "NullModel" in set(df["model_b"])
    np.testing.assert_allclose(df["p_a"], 2 - df["preference"], atol=1e-9)
    assert ((df["winner"] == "a") == (df["preference"] < 1.5)).all()
    assert df["swapped"].dtype == bool and df["response_a"].notna().all()


def test_alpaca_eval_win_rate_matches_leaderboard(shared_data):
    """Recomputed win rate of every model equals the official leaderboard's."""
    prefs = _load(
        shared_data, "alpaca_eval/preferences_weighted_alpaca_eval_gpt4_turbo.jsonl.gz"
    )
    board = _load(
        shared_data,
        "alpaca_eval/official_leaderboard_weighted_alpaca_eval_gpt4_turbo.jsonl",
    )
    assert len(prefs) == 25752 and prefs["model_b"].nunique() == 32
    assert len(board) == 31 and board.attrs["prefkit_kind"] == "table"
    win = (1 - prefs["p_a"]).groupby(prefs["model_b"]).mean() * 100
    official = board.set_index("model")["win_rate"]
    common = official.index.intersection(win.index)
    assert len(common) == 31
    np.testing.assert_allclose(win[common], official[common], atol=1e-6)


def test_alpaca_eval_other_annotators(shared_data):
    """6,440 binary verdicts: 5,536 baseline wins, 897 model wins, 7 ties."""
    df = _load(shared_data, "alpaca_eval/preferences_other_annotators.jsonl.gz")
    counts = df["winner"].value_counts()
    assert (len(df), counts["a"], counts["b"], counts["tie"]) == (6440, 5536, 897, 7)


def test_alpaca_eval_instructions_as_candidates(shared_data):
    """The 805 baseline outputs load as candidates."""
    df = load_candidates(need(shared_data / "alpaca_eval/instructions.jsonl"))
    assert len(df) == 805 and set(df["model"]) == {"gpt4_1106_preview"}


def test_llmbar_instances(shared_data):
    """485 gold-labelled instances over six subsets (README)."""
    df = _load(shared_data, "llmbar/instances.jsonl")
    assert len(df) == 485
    sizes = df["subset"].value_counts()
    assert sizes["LLMBar/Natural"] == 100 and sizes["Processed/FairEval"] == 66
    assert (df["winner"].astype(str) == df["gold"]).all()


def test_llmbar_verdicts_both_orders(shared_data):
    """18,700 records become 37,400 rows; flips match the README's counts."""
    df = _load(shared_data, "llmbar/evaluator_judgments.jsonl.gz")
    assert len(df) == 37400
    assert df["swapped"].sum() == 18700
    assert df["unparsable"].sum() == 50 + 53
    assert df["winner"].isna().sum() == 103
    first = df[~df["swapped"]].reset_index(drop=True)
    second = df[df["swapped"]].reset_index(drop=True)
    w1, w2 = first["winner"].astype(object), second["winner"].astype(object)
    # ("1","2"): the first-shown output won both times, and the reverse
    assert ((w1 == "a") & (w2 == "b")).sum() == 4813
    assert ((w1 == "b") & (w2 == "a")).sum() == 1344
    assert first["judge"][0] == "ChatGPT-0301/CoT"


def test_pandalm_rows_per_verdict(shared_data):
    """797 pairs x (3 humans + 2 judges); GPT-3.5's 25 garbage answers kept."""
    df = _load(shared_data, "pandalm/testset_v1_with_judges.jsonl")
    assert len(df) == 797 * 5
    by_judge = df.groupby("judge")["winner"].value_counts().unstack()
    assert by_judge.loc["annotator1"].tolist() == [339, 377, 81]
    assert by_judge.loc["pandalm-7b"].tolist() == [352, 368, 77]
    assert df["unparsable"].sum() == 25
    assert set(df[df["unparsable"]]["judge"]) == {"gpt-3.5-turbo"}
    assert len(set(df["model_a"]) | set(df["model_b"])) == 5


def test_faireval_human_and_gpt4(shared_data):
    """Human labels CHATGPT 41 / VICUNA13B 25 / TIE 14 and GPT-4 score verdicts."""
    df = _load(shared_data, "faireval/faireval_gpt35_vs_vicuna13b.jsonl")
    human = df[df["judge"] == "human"]["winner"].value_counts()
    assert (human["a"], human["b"], human["tie"]) == (41, 25, 14)
    gpt4 = df[df["judge"] == "gpt-4"]
    assert (
        gpt4["winner"].astype(str)
        == np.where(
            gpt4["score_a"] > gpt4["score_b"],
            "a",
            np.where(gpt4["score_a"] < gpt4["score_b"], "b", "tie"),
        )
    ).all()
    scores = _load(
        shared_data, "faireval/faireval_gpt35_vs_vicuna13b.jsonl", "faireval_scores"
    )
    assert len(scores) == 160 and scores.attrs["prefkit_kind"] == "ratings"
    assert scores["score"][0] == 9.0


def test_faireval_answers(shared_data):
    """320 answers = 80 questions x 4 models, as candidates."""
    df = load_candidates(need(shared_data / "faireval/answers_4_models.jsonl"))
    assert len(df) == 320 and df["model"].nunique() == 4


def test_arena_hard_answers_and_questions(shared_data):
    """750 answers (250 prompts x 3 models); 150 arena-bench questions."""
    answers = load_candidates(
        need(shared_data / "arena_hard/arena_hard_v0.1_answers.jsonl.gz")
    )
    assert len(answers) == 750 and answers["prompt_id"].nunique() == 250
    questions = load_prompts(
        need(shared_data / "arena_hard/arena_bench_v1_questions.jsonl.gz")
    )
    assert len(questions) == 150 and questions["reference"].notna().all()


def test_arena_bench_grades_drop_null_scores(shared_data):
    """2,250 grades, the 17 null ones left out with a warning naming lines."""
    path = need(shared_data / "arena_hard/arena_bench_v1_gpt4_single_grades.jsonl.gz")
    with pytest.warns(DroppedRowsWarning, match=r"left out 17 records .* lines 40, 41"):
        df = load(path)
    assert len(df) == 2233 and df["model"].nunique() == 15
    assert df["score"].between(1, 10).all()
    assert df.attrs["prefkit_dropped"]["lines"][:3] == [40, 41, 44]


def test_arena_hard_leaderboard(shared_data):
    """60 published leaderboard rows."""
    with warnings.catch_warnings():
        df = _load(shared_data, "arena_hard/official_leaderboard_20240731.jsonl")
    assert len(df) == 60 and df["model"][0] == "gpt-4-turbo-2024-04-09"


def test_mt_bench_and_vicuna_prompts(shared_data):
    """80 MT-Bench questions (ids 81-160, two turns) and 80 Vicuna-bench ones."""
    mt = load_prompts(need(shared_data / "mt_bench/mt_bench_questions.jsonl"))
    assert len(mt) == 80 and mt["prompt_id"].tolist()[0] == "81"
    assert mt["turns"].map(len).eq(2).all()
    assert mt["reference_turns"].notna().sum() == 30
    vicuna = load_prompts(need(shared_data / "mt_bench/vicuna_bench_questions.jsonl"))
    assert len(vicuna) == 80 and vicuna["prompt"][0].startswith("How can I improve")


def test_conjoint_choice_table(shared_data):
    """3,466 profile rows make 1,733 choices by 311 respondents."""
    df = _load(shared_data, "conjoint_candidate/candidate_conjoint.jsonl")
    assert len(df) == 1733 and df["judge"].nunique() == 311
    row = df.iloc[0]
    assert row["a_religion"] == "Mormon" and row["winner"] == "b"
    assert df.attrs["prefkit_lines"][:3].tolist() == [1, 3, 5]


def test_llmfao_outputs_and_prompts(shared_data):
    """1,133 model outputs load as candidates and the 19 prompts as a set."""
    results = load_candidates(need(shared_data / "llmfao/results.jsonl"))
    assert len(results) == 1133 and results["prompt_id"].nunique() == 19
    prompts = load_prompts(need(shared_data / "llmfao/prompts.jsonl"))
    assert len(prompts) == 19 and prompts["prompt_id"][0] == "8"


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_verdicts_with_unparsable_rows_round_trip(tmp_path, shared_data, suffix):
    """LLMBar verdicts written as a prefkit table read back with their gaps."""
    from prefkit.data import write_table

    df = _load(shared_data, "llmbar/evaluator_judgments.jsonl.gz")
    # every unparsable row and a slice of the others keep the test quick
    keep = df["unparsable"].to_numpy() | (np.arange(len(df)) < 2000)
    part = df[keep].reset_index(drop=True)
    back = load(write_table(part, tmp_path / f"v.{suffix}"))
    assert back.attrs["prefkit_format"] == "comparisons" and len(back) == len(part)
    assert back["winner"].isna().sum() == 103 == back["unparsable"].sum()
    assert back["judge"].tolist() == part["judge"].tolist()
