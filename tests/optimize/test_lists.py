"""Tests of ranked lists: the reader, the listwise loss path and listwise training."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from prefkit.errors import DroppedRowsWarning, PrefkitDataError
from prefkit.optimize.lists import (
    adjacent_order,
    as_ranked_lists,
    is_ranked_table,
    ranked_lists,
    ranked_logps,
)
from prefkit.optimize.losses import compute_loss
from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

FAST = {"progress": False, "learning_rate": 1e-2, "threads": 1}
ARENA = Path(__file__).resolve().parents[3] / "shared" / "data" / "arena_hard"


@pytest.fixture
def toy_lists() -> pd.DataFrame:
    """Two prompts with three ranked responses each (ranked table by score)."""
    return pd.DataFrame(
        {
            "prompt": ["What is 2 + 2?"] * 3 + ["Name a colour."] * 3,
            "response": ["4.", "Four, I think.", "Five.", "Blue.", "A dog.", "7"],
            "score": [9.0, 5.0, 1.0, 8.0, 2.0, 0.0],
        }
    )


# -- the reader --------------------------------------------------------------


def test_scores_order_best_first_and_ties_keep_row_order() -> None:
    """Higher score first; equal scores keep the order of their rows."""
    table = pd.DataFrame(
        {
            "prompt": ["q"] * 4,
            "model": ["a", "b", "c", "d"],
            "response": ["A", "B", "C", "D"],
            "score": [3.0, 7.0, 3.0, 1.0],
        }
    )
    lists = ranked_lists(table)
    assert lists["responses"].tolist() == [["B", "A", "C", "D"]]
    assert lists["scores"].tolist() == [[7.0, 3.0, 3.0, 1.0]]
    assert lists["models"].tolist() == [["b", "a", "c", "d"]]
    # the tie follows the rows: swap them and their order swaps
    swapped = table.iloc[[2, 1, 0, 3]]
    assert ranked_lists(swapped)["responses"].tolist() == [["B", "C", "A", "D"]]


def test_rank_column_lower_is_better_and_wins_over_score() -> None:
    """`rank` (1 = best) orders ascending and is used before `score`."""
    table = pd.DataFrame(
        {
            "prompt": ["q", "q", "q"],
            "response": ["x", "y", "z"],
            "rank": [3, 1, 2],
            "score": [9.0, 0.0, 5.0],
        }
    )
    assert ranked_lists(table)["responses"].tolist() == [["y", "z", "x"]]


def test_rating_column_and_prompt_id_grouping() -> None:
    """`rating` orders descending; rows are grouped by prompt_id and prompt."""
    table = pd.DataFrame(
        {
            "prompt_id": [1, 2, 1, 2],
            "prompt": ["same", "same", "same", "same"],
            "response": ["a1", "b1", "a2", "b2"],
            "rating": ["2", 4, 5, 1],
        }
    )
    lists = ranked_lists(table)
    assert lists["prompt_id"].tolist() == ["1", "2"]
    assert lists["responses"].tolist() == [["a2", "a1"], ["b1", "b2"]]


def test_candidates_with_scores_table() -> None:
    """A candidates table is ranked by a scores table joined on prompt_id, model."""
    candidates = pd.DataFrame(
        {
            "prompt_id": ["p", "p", "p"],
            "prompt": ["q"] * 3,
            "model": ["m1", "m2", "m3"],
            "response": ["one", "two", "three"],
        }
    )
    scores = pd.DataFrame(
        {"prompt_id": ["p"] * 3, "model": ["m3", "m1", "m2"], "score": [1, 2, 3]}
    )
    lists = ranked_lists(candidates, scores=scores)
    assert lists["responses"].tolist() == [["two", "one", "three"]]
    assert lists["scores"].tolist() == [[3.0, 2.0, 1.0]]


def test_prompts_with_one_response_are_dropped_with_a_count() -> None:
    """A prompt with a single response is dropped and the warning counts it."""
    table = pd.DataFrame(
        {"prompt": ["q", "q", "r"], "response": ["a", "b", "c"], "score": [1, 2, 3]}
    )
    with pytest.warns(DroppedRowsWarning, match="dropped 1 prompts with fewer than 2"):
        lists = ranked_lists(table, "t.jsonl")
    assert lists["prompt"].tolist() == ["q"]
    assert lists.attrs["prefkit_dropped_prompts"] == 1


PAIR = {"prompt": ["q", "q"], "model": ["a", "b"], "response": ["x", "y"]}


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        ({"prompt": ["q"], "score": [1.0]}, {}, "t.jsonl: response: column missing"),
        (
            {"prompt": ["q", "q"], "response": ["a", "b"]},
            {},
            "t.jsonl: rank: no ordering column",
        ),
        (
            {"prompt": ["q", "q"], "response": ["a", "b"], "score": [1, "high"]},
            {},
            "t.jsonl:2: score: not a finite number \\(got 'high'",
        ),
        (
            {"prompt": ["q", "q"], "response": ["a", None], "rank": [1, 2]},
            {},
            "t.jsonl:2: response: not text",
        ),
        (
            {"prompt": ["q", "r"], "response": ["a", "b"], "rank": [1, 1]},
            {},
            "t.jsonl: prompt: no prompt has 2 or more responses",
        ),
        (
            PAIR,
            {"scores": pd.DataFrame({"prompt": ["q"], "model": ["a"], "score": [1]})},
            "t.jsonl:2: model: no score for \\('q', 'b'\\)",
        ),
        (
            PAIR,
            {
                "scores": pd.DataFrame(
                    {"prompt": ["q"] * 3, "model": ["a", "b", "a"], "score": [1, 2, 3]}
                )
            },
            "s.jsonl:3: prompt: a second score",
        ),
    ],
)
def test_reader_errors_name_source_row_and_field(
    table: dict[str, list[Any]], kwargs: dict[str, Any], message: str
) -> None:
    """Each unusable input is one line naming the file, the row and the field."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        with pytest.raises(PrefkitDataError, match=message) as caught:
            ranked_lists(
                pd.DataFrame(table), "t.jsonl", scores_source="s.jsonl", **kwargs
            )
    assert "\n" not in str(caught.value)


def test_given_lists_are_checked() -> None:
    """A `responses` column must hold lists of two or more texts."""
    good = pd.DataFrame({"prompt": ["q"], "responses": [["a", "b"]]})
    assert as_ranked_lists(good) is not None
    assert is_ranked_table(good)
    bad = pd.DataFrame({"prompt": ["q"], "responses": [["a"]]})
    with pytest.raises(PrefkitDataError, match="<table>:1: responses: not a ranked"):
        as_ranked_lists(bad)


def test_pairs_table_is_not_a_ranked_table(toy_pairs: pd.DataFrame) -> None:
    """Pairs keep the pairwise path even when they carry a score column."""
    assert not is_ranked_table(toy_pairs.assign(score=1.0, response="x"))


# -- the loss path -----------------------------------------------------------


def _plackett_luce_by_hand(u: list[float]) -> float:
    """-sum_j log(exp(u_j) / sum_{l >= j} exp(u_l)), written out."""
    total = 0.0
    for j in range(len(u) - 1):
        total -= u[j] - math.log(sum(math.exp(v) for v in u[j:]))
    return total


def test_ranked_logps_give_listwise_loss_by_hand() -> None:
    """k = 3, beta = 0.5: the loss of the list equals the Plackett-Luce sum."""
    policy = torch.tensor([-1.0, -2.0, -3.0])
    reference = torch.tensor([-1.5, -1.5, -1.5])
    out = compute_loss("listwise", ranked_logps(policy, reference), beta=0.5)
    # u = 0.5 * (policy - reference) = (0.25, -0.25, -0.75)
    # = [log(e^.25 + e^-.25 + e^-.75) - .25] + [log(e^-.25 + e^-.75) + .25]
    # = (0.9303 - 0.25) + (0.2241 + 0.25)
    expected = _plackett_luce_by_hand([0.25, -0.25, -0.75])
    assert expected == pytest.approx(1.1543, abs=1e-4)
    assert float(out.losses[0]) == pytest.approx(expected, abs=1e-6)
    assert float(out.chosen_rewards[0]) == pytest.approx(0.25)
    assert float(out.rejected_rewards[0]) == pytest.approx(-0.75)
    assert adjacent_order(policy, reference) == (2, 2)
    assert adjacent_order(policy.flip(0), reference) == (0, 2)


def test_k2_listwise_is_dpo_closed_form() -> None:
    """With two responses the listwise loss is -log sigmoid(beta h)."""
    policy, reference = torch.tensor([-2.0, -4.0]), torch.tensor([-3.0, -3.5])
    out = compute_loss("listwise", ranked_logps(policy, reference), beta=0.3)
    h = (-2.0 + 3.0) - (-4.0 + 3.5)
    assert float(out.losses[0]) == pytest.approx(
        math.log(1 + math.exp(-0.3 * h)), abs=1e-6
    )


def test_trainer_list_loss_matches_hand_value(
    tokenizer: Any, tiny_model: Any, toy_lists: pd.DataFrame
) -> None:
    """The trainer's per-list loss is the hand Plackett-Luce value of its log-probs."""
    config = TrainConfig(loss="listwise", loss_params={"beta": 2.0}, **FAST)
    trainer = PreferenceTrainer(tiny_model, tokenizer, config)
    item = trainer.encode_lists(ranked_lists(toy_lists))[0]
    assert len(item.completions) == 3
    assert tokenizer.decode(item.completions[1]) == "Four, I think.<|im_end|>\n"
    with torch.no_grad():
        policy = trainer.score_lists([item])[0]
        reference = policy + torch.tensor([0.2, -0.1, 0.3])
        out, counts = trainer.list_loss(item, reference)
    u = [2.0 * -0.2, 2.0 * 0.1, 2.0 * -0.3]
    assert float(out.losses[0]) == pytest.approx(_plackett_luce_by_hand(u), abs=1e-5)
    # implied rewards -0.4, 0.2, -0.6: only the pair (2, 3) is in order
    assert counts == {"adjacent_correct": 1, "adjacent_pairs": 2}


def test_trainer_k2_list_equals_pair_dpo(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame
) -> None:
    """A list of two through the list path gives the DPO loss of the pair path."""
    config = TrainConfig(loss="listwise", loss_params={"beta": 0.7}, **FAST)
    trainer = PreferenceTrainer(tiny_model, tokenizer, config)
    pair = trainer.encode(toy_pairs)[0]
    two = [[toy_pairs["chosen"][0], toy_pairs["rejected"][0]]]
    item = trainer.encode_lists(
        pd.DataFrame({"prompt": [toy_pairs["prompt"][0]], "responses": two})
    )[0]
    assert item.completions == [pair.chosen_ids, pair.rejected_ids]
    reference = torch.tensor([-20.0, -25.0])
    with torch.no_grad():
        listed, _ = trainer.list_loss(item, reference)
        paired = trainer.pair_loss(pair, reference)
        dpo = PreferenceTrainer(
            tiny_model, tokenizer, TrainConfig(loss_params={"beta": 0.7}, **FAST)
        ).pair_loss(pair, reference)
    assert float(listed.losses[0]) == pytest.approx(float(dpo.losses[0]), abs=1e-6)
    assert float(paired.losses[0]) == pytest.approx(float(dpo.losses[0]), abs=1e-6)


@pytest.mark.slow
def test_listwise_training_lowers_loss_on_its_lists(
    tokenizer: Any, tiny_model: Any, toy_lists: pd.DataFrame
) -> None:
    """Three steps start at log 3! and lower the listwise loss of the lists."""
    config = TrainConfig(
        loss="listwise", loss_params={"beta": 0.5}, max_steps=3, **FAST
    )
    trainer = PreferenceTrainer(tiny_model, tokenizer, config).fit(toy_lists)
    history = trainer.history_
    assert history["loss"].iloc[0] == pytest.approx(math.log(6), abs=1e-6)
    assert history["adjacent_accuracy"].iloc[0] == 0.0
    assert len(trainer.reference_) == 2
    with torch.no_grad():
        after = [
            float(trainer.list_loss(item, ref)[0].losses[0])
            for item, ref in zip(trainer._lists, trainer.reference_, strict=True)
        ]
    assert max(after) < math.log(6)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


# -- real data ---------------------------------------------------------------


def test_arena_bench_grades_read_as_ranked_lists() -> None:
    """arena-bench's GPT-4 grades of 15 models give a ranked list per question."""
    grades = ARENA / "arena_bench_v1_gpt4_single_grades.jsonl.gz"
    questions = ARENA / "arena_bench_v1_questions.jsonl.gz"
    if not grades.is_file() or not questions.is_file():
        pytest.skip(f"arena-bench extract not found under {ARENA}")
    from prefkit.data.formats import load

    with pytest.warns(DroppedRowsWarning, match="left out 17 records"):
        ratings = load(grades, format="arena_bench_grades")
    prompts = load(questions, format="arena_bench_questions")
    candidates = prompts[["prompt_id", "prompt"]].merge(
        ratings[["prompt_id", "model", "response"]], on="prompt_id"
    )
    lists = ranked_lists(
        candidates, grades.name, scores=ratings, scores_source=grades.name
    )
    assert len(lists) == 150
    sizes = lists["responses"].map(len)
    assert sizes.min() == 12 and sizes.max() == 15
    assert int((sizes == 15).sum()) == 136
    assert sizes.sum() == len(ratings) == 2233
    assert all(s == sorted(s, reverse=True) for s in lists["scores"])
    # the first question (the line through (2, 3)): six models graded 10,
    # kept in file order; then 7, 4, 3, 3, 2, 2, 1, 1, 1
    first = lists.iloc[0]
    assert first["prompt_id"] == "66c00ddde3dc4128a14d6afd5e899342"
    assert first["scores"] == [10.0] * 6 + [7.0, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert first["models"] == [
        "Starling-LM-7B-alpha", "gpt-3.5-turbo", "gpt-3.5-turbo-1106", "gpt-4-0314",
        "gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "mistralai/Mistral-7B-Instruct-v0.1", "openchat_3.5", "Llama-2-70b-chat",
        "claude-instant-1", "claude-1", "claude-2.1", "llama-13b",
        "palm-2-chat-bison-001", "vicuna-33b-v1.3",
    ]  # fmt: skip
    raw = ratings[ratings["prompt_id"] == first["prompt_id"]]
    best = raw[raw["model"] == first["models"][0]]
    assert first["responses"][0] == best["response"].iloc[0]
