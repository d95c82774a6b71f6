"""Pointwise grades, listwise ranks, juries, debate, routing and generation."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from prefkit.judge import (
    JudgeError,
    debate_pairs,
    generate,
    grade,
    judge_jury,
    judge_pairs,
    jury_verdicts,
    make_pairs,
    rank_candidates,
    route_to_humans,
    write_queue,
)
from prefkit.judge.jury import agreement_weights, weighted_vote
from prefkit.judge.listwise import borda, parse_ranking
from prefkit.judge.types import Completion, Request
from tests.judge.fakes import FirstSlotJudge, LengthScorer, LongerJudge, candidates


class GradeJudge:
    """Grades 4 with P(3, 4, 5) = (0.2, 0.5, 0.3); the reference lifts it to 5."""

    name, model, max_concurrency = "fake", "grader", None

    def __init__(self) -> None:
        self.calls: list[Request] = []

    async def complete(self, request: Request) -> Completion:
        self.calls.append(request)
        if "[Reference answer]" in request.messages[-1][1]:
            return Completion("5")
        tops = {"4": math.log(0.5), " 5": math.log(0.3), "3": math.log(0.2)}
        return Completion("4", ["4"], [tops])


class RankJudge:
    """Ranks the listed answers by length, longest first."""

    name, model, max_concurrency = "fake", "ranker", None

    async def complete(self, request: Request) -> Completion:
        found = re.findall(
            r"\[Answer (\d+)\]\n(.*?)(?=\n\n\[Answer|\n\nReply)",
            request.messages[-1][1],
            re.S,
        )
        order = sorted(found, key=lambda x: -len(x[1]))
        return Completion("Ranking: " + " > ".join(n for n, _ in order))


class DebateJudge:
    """Argues briefly; decides for the longer answer."""

    name, model, max_concurrency = "fake", "debater", None

    def __init__(self) -> None:
        self.argued = 0

    async def complete(self, request: Request) -> Completion:
        user = request.messages[-1][1]
        if user.startswith("Two answers"):
            self.argued += 1
            return Completion("It is more complete.")
        assert "It is more complete." in user
        a, b = re.search(
            r"\[Answer A\]\n(.*?)\n\n\[Answer B\]\n(.*?)\n\n", user, re.S
        ).groups()
        return Completion("A" if len(a) > len(b) else "B")


def test_grade_is_the_expectation_of_the_grade_distribution() -> None:
    """score = sum_g g P(g) over the renormalised grade probabilities."""
    out = grade(candidates(), GradeJudge(), progress=False)
    np.testing.assert_allclose(out["score"], 3 * 0.2 + 4 * 0.5 + 5 * 0.3)
    assert out["score_dist"].iloc[0] == pytest.approx([0, 0, 0.2, 0.5, 0.3])
    h = -(0.2 * math.log2(0.2) + 0.5 * math.log2(0.5) + 0.3 * math.log2(0.3))
    np.testing.assert_allclose(out["uncertainty"], h)
    assert out["judge"].iloc[0] == "fake:grader"


def test_grade_with_reference_and_ten_levels() -> None:
    """A reference answer reaches the prompt; a 1-10 scale is offered."""
    c = candidates()
    judge = GradeJudge()
    out = grade(c, judge, scale=(1, 10), reference={"p1": "Red."}, progress=False)
    assert "from 1 to 10" in judge.calls[0].messages[-1][1]
    assert out.loc[out["prompt_id"] == "p1", "score"].tolist() == [5.0] * 3
    assert out.loc[out["prompt_id"] == "p2", "score"].iloc[0] == pytest.approx(4.1)


def test_grade_with_a_scorer_gives_raw_scores() -> None:
    """A response scorer grades with its own score (no distribution)."""
    out = grade(candidates(), LengthScorer(), progress=False)
    assert (
        out["score"].tolist()
        == candidates()["response"].str.len().astype(float).tolist()
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": (5, 1)}, "scale"),
        ({"scale": (1, 11)}, "scale"),
        ({"samples": 0}, "samples"),
        ({"reference": "gold"}, "reference column"),
    ],
)
def test_grade_rejects_bad_settings(kwargs: dict, match: str) -> None:
    """Bad scales, sample counts and reference columns are refused."""
    with pytest.raises(JudgeError, match=match):
        grade(candidates(), GradeJudge(), progress=False, **kwargs)


def test_listwise_ranks_and_merges_both_orders() -> None:
    """Each prompt is ranked in two listings, merged by Borda count."""
    out = rank_candidates(candidates(), RankJudge(), progress=False)
    assert out["ranked"].tolist() == [["z", "y", "x"], ["z", "y", "x"]]
    assert all(len(r) == 2 for r in out["rankings"])


def test_ranking_parser_and_borda() -> None:
    """Only a full permutation on the last line parses; Borda is mean position."""
    assert parse_ranking("thinking\nRanking: 2 > 1 > 3", 3) == [2, 1, 3]
    assert "once each" in parse_ranking("Ranking: 2 > 2 > 3", 3)
    assert "no 'Ranking:'" in parse_ranking("2 > 1 > 3\nok", 3)
    assert borda([["x", "y", "z"], ["y", "x", "z"]]) == ["x", "y", "z"]
    assert borda([["x", "y", "z"], ["z", "y", "x"]]) == ["x", "y", "z"]


def test_jury_majority_mean_and_weighted() -> None:
    """Majority counts votes, mean averages p_a, weighted trusts agreeing judges."""
    t = lambda w, p: pd.DataFrame({"winner": w, "p_a": p})  # noqa: E731
    tables = [
        t(["a", "b"], [0.9, 0.4]),
        t(["a", "a"], [0.6, 0.6]),
        t(["b", "b"], [0.2, 0.1]),
    ]
    maj = jury_verdicts(tables, "majority")
    assert maj["winner"].tolist() == ["a", "b"]
    assert maj["p_a"].tolist() == pytest.approx(
        [(0.9 + 0.6 + 0.2) / 3, (0.4 + 0.6 + 0.1) / 3]
    )
    mean = jury_verdicts(tables, "mean")
    assert mean["winner"].tolist() == ["a", "b"]
    # gold on row 0 only: judges 1 and 2 agree (weight 1), judge 3 not (0)
    w = jury_verdicts(tables, "weighted", gold=["a", None])
    assert w["jury_weights"].iloc[0] == [1.0, 1.0, 0.0]
    assert w["winner"].tolist() == ["a", "tie"]
    assert w["p_a"].iloc[1] == pytest.approx(0.5)


def test_jury_helpers_and_errors() -> None:
    """weighted_vote breaks even weights into a tie; bad inputs are refused."""
    assert weighted_vote(["a", "b", None], np.array([1.0, 1.0, 5.0])) == "tie"
    assert weighted_vote([None], np.array([1.0])) is None
    with pytest.raises(JudgeError, match="needs human labels"):
        agreement_weights(np.array([["a"]], dtype=object), [None])
    with pytest.raises(JudgeError, match="jury method 'vote'"):
        jury_verdicts([pd.DataFrame({"winner": ["a"], "p_a": [1.0]})], "vote")  # type: ignore[arg-type]


def test_judge_jury_runs_each_judge() -> None:
    """A jury of a biased and a content judge follows the content judge's lead."""
    pairs = make_pairs(candidates())
    out = judge_jury(
        pairs, [FirstSlotJudge(), LongerJudge(), LongerJudge()], progress=False
    )
    longer = judge_pairs(pairs, LongerJudge(), progress=False)
    assert out["winner"].tolist() == longer["winner"].tolist()
    assert out["judge"].iloc[0].startswith("jury:majority(fake:first-slot,")
    assert len(out["jury_votes"].iloc[0]) == 3
    with pytest.raises(JudgeError, match="at least two"):
        judge_jury(pairs, [LongerJudge()])
    with pytest.raises(JudgeError, match="gold"):
        judge_jury(pairs, [LongerJudge(), LongerJudge()], method="weighted")
    with pytest.raises(JudgeError, match="drop"):
        judge_jury(pairs, [LongerJudge(), LongerJudge()], disagreement="drop")


def test_debate_feeds_arguments_to_the_decider() -> None:
    """Advocates argue in both orders; the decider sees their arguments."""
    judge = DebateJudge()
    pairs = make_pairs(candidates())
    out = debate_pairs(pairs, [judge], judge, progress=False)
    assert judge.argued == 2 * 2 * len(pairs)
    expected = np.where(
        pairs["response_a"].str.len() > pairs["response_b"].str.len(), "a", "b"
    )
    assert out["winner"].tolist() == expected.tolist()
    assert out["judge"].iloc[0] == "debate(fake:debater,fake:debater)->fake:debater"
    with pytest.raises(JudgeError, match="one or two debaters"):
        debate_pairs(pairs, [], judge)
    with pytest.raises(JudgeError, match="generative"):
        debate_pairs(pairs, [LengthScorer()], judge)


def test_route_to_humans_orders_by_uncertainty(tmp_path) -> None:
    """The most uncertain pairs come first, in the queue format of docs/tables.md."""
    pairs = make_pairs(candidates())
    judged = judge_pairs(pairs, LongerJudge(evidence=True), samples=3, progress=False)
    judged.loc[2, "uncertainty"] = 1.5
    judged.loc[4, "uncertainty"] = 0.0
    queue = route_to_humans(judged, 3)
    assert queue["uncertainty"].tolist()[0] == 1.5
    assert queue["uncertainty"].is_monotonic_decreasing
    assert list(queue.columns) == [
        "prompt_id",
        "prompt",
        "model_a",
        "model_b",
        "response_a",
        "response_b",
        "uncertainty",
        "p_a",
        "judge",
        "verdicts",
    ]
    write_queue(queue, tmp_path / "q.jsonl")
    first = json.loads((tmp_path / "q.jsonl").read_text().splitlines()[0])
    assert first["uncertainty"] == 1.5 and len(first["verdicts"]) == 6
    assert len(route_to_humans(judged, 100)) == len(judged)


def test_route_to_humans_rejects_bad_input(tmp_path) -> None:
    """Bad n, missing columns, negative uncertainty and non-JSONL files are refused."""
    judged = judge_pairs(make_pairs(candidates()), LongerJudge(), progress=False)
    with pytest.raises(JudgeError, match="non-negative integer"):
        route_to_humans(judged, -1)
    with pytest.raises(JudgeError, match="lacks the column"):
        route_to_humans(judged.drop(columns="uncertainty"), 1)
    with pytest.raises(JudgeError, match="expected numbers >= 0"):
        route_to_humans(judged.assign(uncertainty=-1.0), 1)
    with pytest.raises(JudgeError, match=r"must end in \.jsonl"):
        write_queue(route_to_humans(judged, 1), tmp_path / "q.csv")


def test_generate_with_a_fake_backend_and_its_errors() -> None:
    """generate() returns candidates and refuses bad prompts and settings."""

    class Echo:
        name, model, max_concurrency = "fake", "echo", None

        async def complete(self, request: Request) -> Completion:
            return Completion(request.messages[-1][1].upper())

    got = generate(
        pd.DataFrame({"prompt_id": [7], "prompt": ["hi"]}), Echo(), progress=False
    )
    assert got.to_dict("records") == [
        {"prompt_id": "7", "prompt": "hi", "model": "echo", "response": "HI"}
    ]
    with pytest.raises(JudgeError, match="non-empty text"):
        generate(["ok", ""], Echo(), progress=False)
    with pytest.raises(JudgeError, match="more than once"):
        generate(pd.DataFrame({"prompt_id": [1, 1], "prompt": ["a", "b"]}), Echo())
    with pytest.raises(JudgeError, match="cannot generate"):
        generate(["hi"], LengthScorer())
    with pytest.raises(JudgeError, match="max_tokens"):
        generate(["hi"], Echo(), max_tokens=0)
    with pytest.raises(JudgeError, match="list of strings"):
        generate("hi", Echo())
