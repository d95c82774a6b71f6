"""Reading candidates and the human-review queue, with file:line messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from prefkit.arena.inputs import judge_winner, read_candidates, read_queue
from prefkit.errors import PrefkitDataError
from tests.arena.helpers import candidate_rows, queue_rows, write_jsonl


def test_candidates_round_trip(tmp_path: Path):
    """A good file comes back with its four columns and every row."""
    table = read_candidates(write_jsonl(tmp_path / "c.jsonl", candidate_rows()))
    assert list(table.columns) == ["prompt_id", "prompt", "model", "response"]
    assert len(table) == 12


def test_candidates_missing_column_is_named(tmp_path: Path):
    """A file without `response` is refused, naming the column."""
    rows = [{k: v for k, v in r.items() if k != "response"} for r in candidate_rows()]
    with pytest.raises(PrefkitDataError, match=r"c.jsonl: response: missing column"):
        read_candidates(write_jsonl(tmp_path / "c.jsonl", rows))


def test_candidates_duplicate_is_named_with_its_line(tmp_path: Path):
    """The second response of a model to the same prompt is refused at its line."""
    rows = candidate_rows(1)
    rows.append(dict(rows[0]))
    with pytest.raises(PrefkitDataError, match=r"c.jsonl:4: .*duplicated"):
        read_candidates(write_jsonl(tmp_path / "c.jsonl", rows))


def test_candidates_non_text_is_named_with_its_line(tmp_path: Path):
    """A number where a response belongs is refused at its line."""
    rows = candidate_rows(1)
    rows[1]["response"] = 7
    with pytest.raises(PrefkitDataError, match=r"c.jsonl:2: response: .*got 7"):
        read_candidates(write_jsonl(tmp_path / "c.jsonl", rows))


def test_candidates_need_two_models_on_a_prompt(tmp_path: Path):
    """With one model per prompt no battle is possible, and the message says so."""
    rows = candidate_rows(2, ("alpha",))
    with pytest.raises(PrefkitDataError, match="no prompt has responses from two"):
        read_candidates(write_jsonl(tmp_path / "c.jsonl", rows))


def test_queue_is_sorted_most_uncertain_first(tmp_path: Path):
    """Queue items come back in decreasing uncertainty with the judge's verdict."""
    queue = read_queue(write_jsonl(tmp_path / "q.jsonl", queue_rows()))
    assert queue["uncertainty"].tolist() == [0.9, 0.5, 0.2]
    assert queue["prompt_id"].tolist() == ["q1", "q2", "q0"]
    assert queue["judge_winner"].tolist() == ["a", "a", "a"]


def test_queue_negative_uncertainty_is_refused(tmp_path: Path):
    """Uncertainty must be a number >= 0; the line is named."""
    rows = queue_rows()
    rows[2]["uncertainty"] = -1
    with pytest.raises(PrefkitDataError, match=r"q.jsonl:3: uncertainty: .*got -1"):
        read_queue(write_jsonl(tmp_path / "q.jsonl", rows))


def test_queue_missing_column_is_named(tmp_path: Path):
    """A queue line set without `uncertainty` is refused, naming the column."""
    rows = [{k: v for k, v in r.items() if k != "uncertainty"} for r in queue_rows()]
    with pytest.raises(PrefkitDataError, match=r"uncertainty: missing column"):
        read_queue(write_jsonl(tmp_path / "q.jsonl", rows))


def test_queue_same_model_twice_is_refused(tmp_path: Path):
    """The shared comparisons validation catches model_a == model_b."""
    rows = queue_rows()
    rows[0]["model_b"] = "alpha"
    with pytest.raises(PrefkitDataError, match=r"q.jsonl:1: model_b: same model"):
        read_queue(write_jsonl(tmp_path / "q.jsonl", rows))


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"p_a": 0.7}, "a"),
        ({"p_a": 0.2}, "b"),
        ({"p_a": 0.5}, "tie"),
        ({"p_a": float("nan"), "verdicts": ["a", "b"]}, "tie"),
        ({"p_a": None, "verdicts": ["b", "b", "a"]}, "b"),
        ({"p_a": None, "verdicts": None}, None),
    ],
)
def test_judge_winner_from_probability_or_majority(row, expected):
    """p_a decides when present; otherwise the majority of verdicts; a split ties."""
    assert judge_winner(row) == expected


def test_reads_the_queue_that_the_judge_writes(tmp_path: Path):
    """A queue from prefkit.judge.route_to_humans loads, most uncertain first."""
    from prefkit.judge.route import route_to_humans, write_queue

    judged = pd.DataFrame(queue_rows()).drop(columns=["p_a"])
    judged["verdicts"] = [["a", "b"], ["b", "b"], ["a", "a"]]
    path = tmp_path / "to_humans.jsonl"
    write_queue(route_to_humans(judged, 2), path)
    queue = read_queue(path)
    assert queue["prompt_id"].tolist() == ["q1", "q2"]
    assert queue["judge_winner"].tolist() == ["b", "a"]


def test_verdicts_drop_unanswered_rows_and_name_the_judge(tmp_path: Path):
    """Rows without a winner are dropped; a missing judge is called 'judge'."""
    from prefkit.arena.inputs import read_verdicts

    rows = [
        {"prompt_id": 1, "model_a": "x", "model_b": "y", "winner": "a"},
        {"prompt_id": 2, "model_a": "x", "model_b": "y", "winner": None},
    ]
    table = read_verdicts(write_jsonl(tmp_path / "j.jsonl", rows))
    assert table.to_dict("records") == [
        {
            "prompt_id": "1",
            "model_a": "x",
            "model_b": "y",
            "judge": "judge",
            "winner": "a",
        }
    ]


def test_verdicts_need_a_prompt_id(tmp_path: Path):
    """Without prompt_id verdicts cannot be matched to votes; the column is named."""
    from prefkit.arena.inputs import read_verdicts

    rows = [{"model_a": "x", "model_b": "y", "winner": "a"}]
    with pytest.raises(PrefkitDataError, match="prompt_id: missing column"):
        read_verdicts(write_jsonl(tmp_path / "j.jsonl", rows))


def test_real_arena_hard_answers_load_as_candidates(shared_data: Path):
    """Arena-Hard answers (3 models x 250 prompts) convert into battle-ready pairs."""
    from prefkit.arena.sampling import index_pairs
    from tests.conftest import need

    path = need(shared_data / "arena_hard" / "arena_hard_v0.1_answers.jsonl.gz")
    table = read_candidates(path)
    assert table["model"].nunique() == 3
    index = index_pairs(table)
    assert len(index.pairs) == 3
    assert [len(p) for p in index.prompts] == [250, 250, 250]
