"""Pair plans, dual-order judging, soft labels and the cache, with fake judges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from prefkit.data import read_table
from prefkit.errors import PrefkitDataError
from prefkit.judge import (
    Completion,
    JudgeError,
    JudgeFailureWarning,
    Request,
    RetryPolicy,
    judge_pairs,
    make_backend,
    make_pairs,
    register_backend,
)
from prefkit.judge.runner import run_requests
from tests.judge.fakes import (
    FirstSlotJudge,
    GarbageJudge,
    LengthScorer,
    LongerJudge,
    candidates,
)


def test_make_pairs_plans() -> None:
    """all gives C(3,2) pairs a prompt, baseline k-1, sample:N exactly N."""
    c = candidates()
    assert len(make_pairs(c)) == 6
    base = make_pairs(c, "baseline:x")
    assert len(base) == 4 and set(base["model_b"]) == {"x"}
    sampled = make_pairs(c, "sample:4", seed=1)
    assert len(sampled) == 4
    assert sampled.equals(make_pairs(c, "sample:4", seed=1))
    row = make_pairs(c).iloc[0]
    assert (row["model_a"], row["response_a"], row["response_b"]) == (
        "x",
        "Red.",
        "Blue is one.",
    )


@pytest.mark.parametrize(
    ("plan", "match"),
    [
        ("best", "not known"),
        ("all:3", "not known"),
        ("baseline:w", "not among"),
        ("sample:0", "positive integer"),
        ("sample:x", "positive integer"),
    ],
)
def test_make_pairs_rejects_bad_plans(plan: str, match: str) -> None:
    """An unknown plan, absent baseline or bad N is refused with its reason."""
    with pytest.raises(JudgeError, match=match):
        make_pairs(candidates(), plan)


def test_make_pairs_rejects_bad_candidates() -> None:
    """Missing columns and repeated (prompt_id, model) are refused."""
    with pytest.raises(JudgeError, match="lack the column"):
        make_pairs(candidates().drop(columns="response"))
    with pytest.raises(PrefkitDataError, match="duplicated"):
        make_pairs(pd.concat([candidates(), candidates().head(1)]))
    with pytest.raises(JudgeError, match="must be a DataFrame"):
        make_pairs([1, 2])  # type: ignore[arg-type]


def test_candidates_file_problems_named(tmp_path) -> None:
    """Nulls, a missing column and 1 vs "1" are named with the file and line."""
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"prompt_id": "1", "prompt": "Q", "model": "x", "response": null}\n'
        '{"prompt_id": "1", "prompt": null, "model": "y", "response": "b"}\n'
    )
    with pytest.raises(PrefkitDataError) as info:
        make_pairs(read_table(path))
    assert [line.split(" (got")[0] for line in str(info.value).splitlines()] == [
        f"{path}:1: response: missing value",
        f"{path}:2: prompt: missing value",
    ]
    path.write_text(
        '{"prompt_id": 1, "prompt": "Q", "model": "x", "response": "a"}\n'
        '{"prompt_id": "1", "prompt": "Q", "model": "x", "response": "b"}\n'
    )
    with pytest.raises(PrefkitDataError) as dup:
        make_pairs(read_table(path))
    assert str(dup.value) == (
        f"{path}:2: prompt_id+model: duplicated id (got ('1', 'x'); "
        "expected each prompt_id+model once)"
    )
    with pytest.raises(JudgeError) as lack:
        make_pairs(read_table(path).drop(columns="model"))
    assert str(lack.value).startswith(f"{path}: candidates lack the column(s) model ")


def test_position_biased_judge_flips_between_orders() -> None:
    """A judge that always picks the first slot disagrees with itself every time."""
    judge = FirstSlotJudge()
    out = judge_pairs(make_pairs(candidates()), judge, progress=False)
    assert len(judge.calls) == 12
    assert (out["winner_ab"] == "a").all() and (out["winner_ba"] == "b").all()
    assert (out["winner"] == "tie").all()
    p_first = (0.6 + 0.05) / 1.0
    np.testing.assert_allclose(out["p_a_ab"], p_first)
    np.testing.assert_allclose(out["p_a_ba"], 1 - p_first)
    np.testing.assert_allclose(out["p_a"], 0.5)
    np.testing.assert_allclose(out["uncertainty"], 1.0)
    assert out["judge"].iloc[0] == "fake:first-slot"


def test_swapping_a_and_b_flips_the_verdict() -> None:
    """Relabelling a as b flips winner and turns p_a into 1 - p_a."""
    pairs = make_pairs(candidates())
    swapped = pairs.rename(
        columns={
            "model_a": "model_b",
            "model_b": "model_a",
            "response_a": "response_b",
            "response_b": "response_a",
        }
    )
    one = judge_pairs(pairs, LongerJudge(), progress=False)
    two = judge_pairs(swapped, LongerJudge(), progress=False)
    flip = {"a": "b", "b": "a", "tie": "tie"}
    assert one["winner"].map(flip).tolist() == two["winner"].tolist()
    np.testing.assert_allclose(one["p_a"], 1 - two["p_a"])
    assert (
        one["winner"]
        == np.where(
            pairs["response_a"].str.len() > pairs["response_b"].str.len(), "a", "b"
        )
    ).all()


def test_disagreement_drop_removes_flipped_rows() -> None:
    """Under drop, pairs whose orders disagree leave the table."""
    out = judge_pairs(
        make_pairs(candidates()), FirstSlotJudge(), progress=False, disagreement="drop"
    )
    assert out.empty
    avg = judge_pairs(
        make_pairs(candidates()),
        FirstSlotJudge(),
        progress=False,
        disagreement="average",
    )
    assert (avg["winner"] == "tie").all()


def test_cache_makes_a_rerun_free_and_identical(tmp_path) -> None:
    """A re-run with the cache sends no request and returns the same table."""
    pairs = make_pairs(candidates())
    first = FirstSlotJudge()
    one = judge_pairs(pairs, first, cache=tmp_path / "c.sqlite", progress=False)
    again = FirstSlotJudge()
    two = judge_pairs(pairs, again, cache=tmp_path / "c.sqlite", progress=False)
    assert len(first.calls) == 12 and len(again.calls) == 0
    pd.testing.assert_frame_equal(one, two)


def test_multiple_evidence_samples_are_averaged() -> None:
    """k=3 evidence samples a order are requested and averaged (2 of 3 agree)."""
    judge = LongerJudge(evidence=True)
    events = []
    out = judge_pairs(
        make_pairs(candidates()), judge, samples=3, progress=events.append
    )
    assert len(judge.calls) == 36
    assert {r.sample for r in judge.calls} == {0, 1, 2}
    assert all(r.temperature == 0.7 and r.max_tokens == 384 for r in judge.calls)
    assert events[-1].done == 36 and events[-1].failures == 0
    # each order: 2 of 3 samples say the longer answer: p_a is 2/3 or 1/3
    longer_a = (
        make_pairs(candidates())["response_a"].str.len()
        > make_pairs(candidates())["response_b"].str.len()
    )
    np.testing.assert_allclose(out["p_a"], np.where(longer_a, 2 / 3, 1 / 3))
    h = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    np.testing.assert_allclose(out["uncertainty"], h)


def test_single_order_records_what_was_shown() -> None:
    """With dual_order False each pair is shown once, in a seeded random order."""
    judge = FirstSlotJudge()
    out = judge_pairs(
        make_pairs(candidates()), judge, dual_order=False, seed=3, progress=False
    )
    assert len(judge.calls) == 6
    assert out["swapped"].any() and (~out["swapped"]).any()
    # the first slot always wins: a when a was shown first, b otherwise
    assert (out["winner"] == np.where(out["swapped"], "b", "a")).all()
    assert out.loc[out["swapped"], "winner_ab"].isna().all()


def test_unparsable_replies_become_failures_not_verdicts() -> None:
    """Garbage replies give no verdict, a recorded reason and a warning."""
    with pytest.warns(JudgeFailureWarning, match="6 of 6 pairs got no verdict"):
        out = judge_pairs(make_pairs(candidates()), GarbageJudge(), progress=False)
    assert out["winner"].isna().all() and out["p_a"].isna().all()
    assert all("parse failure" in f[0] for f in out["failures"])
    assert np.allclose(out["uncertainty"], math.log2(3))


def test_response_scorer_gives_bradley_terry_soft_labels(tmp_path) -> None:
    """A scorer's p_a is sigmoid((s_a - s_b)/scale), each score cached once."""
    scorer = LengthScorer()
    pairs = make_pairs(candidates())
    out = judge_pairs(pairs, scorer, cache=tmp_path / "s.sqlite", progress=False)
    diff = pairs["response_a"].str.len() - pairs["response_b"].str.len()
    np.testing.assert_allclose(out["p_a"], 1 / (1 + np.exp(-diff.to_numpy(float))))
    assert scorer.scored == 6
    judge_pairs(pairs, scorer, cache=tmp_path / "s.sqlite", progress=False)
    assert scorer.scored == 6


def test_registered_backend_is_reachable_by_spec() -> None:
    """register_backend makes NAME:ARG specs build the registered judge."""
    register_backend("fakerm", lambda arg: LengthScorer())
    out = judge_pairs(make_pairs(candidates()), "fakerm:x", progress=False)
    assert out["judge"].iloc[0] == "fakerm:length"
    with pytest.raises(JudgeError, match="not valid"):
        register_backend("bad name", lambda arg: None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": "7level"}, "scale '7level' is not known"),
        ({"disagreement": "coin"}, "disagreement 'coin' is not known"),
        ({"samples": 0}, "samples must be >= 1"),
        ({"protocol": "pointwise"}, "use grade"),
        ({"concurrency": 0}, "concurrency must be >= 1"),
    ],
)
def test_judge_pairs_rejects_bad_settings(kwargs: dict, match: str) -> None:
    """Every bad setting is refused with what was wrong."""
    with pytest.raises(JudgeError, match=match):
        judge_pairs(
            make_pairs(candidates()), FirstSlotJudge(), progress=False, **kwargs
        )


def test_judge_pairs_rejects_bad_judges_and_tables() -> None:
    """Unknown specs, non-judges and pairs without texts are refused."""
    with pytest.raises(JudgeError, match="backend 'gpt' is not registered"):
        judge_pairs(make_pairs(candidates()), "gpt:4", progress=False)
    with pytest.raises(JudgeError, match="implements no judge protocol"):
        make_backend(object())
    with pytest.raises(JudgeError, match="names no model"):
        make_backend("openai:@http://x")
    with pytest.raises(JudgeError, match="response_a"):
        judge_pairs(
            make_pairs(candidates()).drop(columns="response_a"),
            FirstSlotJudge(),
            progress=False,
        )
    with pytest.raises(JudgeError, match="local runtime"):
        make_backend("local:gpu")
    with pytest.raises(JudgeError, match="scale must be > 0"):
        make_backend("likelihood:-1")


def test_identical_requests_are_sent_once() -> None:
    """run_requests sends a repeated request once and answers every copy."""
    judge = FirstSlotJudge()
    pairs = pd.concat([make_pairs(candidates()).head(1)] * 3, ignore_index=True)
    out = judge_pairs(pairs, judge, progress=False)
    assert len(judge.calls) == 2 and len(out) == 3
    with pytest.raises(JudgeError, match="concurrency"):
        run_requests(judge, [], concurrency=-1)


class FiveLevelJudge:
    """Answers "2" (A slightly better) with P(1..5) = (0.1, 0.5, 0.2, 0.1, 0.1)."""

    name, model, max_concurrency = "fake", "five", None

    async def complete(self, request: Request) -> Completion:
        probs = {"1": 0.1, "2": 0.5, "3": 0.2, "4": 0.1, "5": 0.1}
        return Completion("2", ["2"], [{k: math.log(v) for k, v in probs.items()}])


def test_five_level_scale_maps_levels_to_outcomes() -> None:
    """Levels 1-2 count for the first slot, 3 is a tie, 4-5 for the second."""
    out = judge_pairs(
        make_pairs(candidates()).head(1),
        FiveLevelJudge(),
        scale="5level",
        progress=False,
    )
    # first slot: 0.6, tie 0.2, second 0.2 -> p_first = 0.6 + 0.1
    assert out["p_a_ab"].iloc[0] == pytest.approx(0.7)
    assert out["p_a_ba"].iloc[0] == pytest.approx(0.3)
    assert (out["winner_ab"].iloc[0], out["winner_ba"].iloc[0]) == ("a", "b")


def test_rate_limit_spaces_requests() -> None:
    """max_rate=20/s spaces 6 attempt starts over at least 0.25 s."""
    import time

    start = time.perf_counter()
    judge_pairs(
        make_pairs(candidates()).head(3),
        FirstSlotJudge(),
        progress=False,
        retry=RetryPolicy(max_rate=20.0),
    )
    assert time.perf_counter() - start >= 5 / 20
    with pytest.raises(JudgeError, match="max_rate must be > 0"):
        RetryPolicy(max_rate=0.0)
    with pytest.raises(JudgeError, match="jitter"):
        RetryPolicy(jitter=2.0)
    with pytest.raises(JudgeError, match="timeout"):
        RetryPolicy(timeout=0)
    with pytest.raises(JudgeError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(JudgeError, match="base_delay"):
        RetryPolicy(base_delay=-1)


def test_backoff_doubles_with_jitter_bounds() -> None:
    """Delay k is base * 2^k (capped), scaled into [1 - jitter, 1 + jitter]."""
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.5)
    assert policy.delay(0, 0.5) == pytest.approx(0.5)
    assert policy.delay(2, 0.5) == pytest.approx(2.0)
    assert policy.delay(5, 0.5) == pytest.approx(3.0)
    assert policy.delay(1, 0.0) == pytest.approx(0.5)
    assert policy.delay(1, 1.0) == pytest.approx(1.5)


def test_reward_model_backend_is_found_without_an_import() -> None:
    """rm:PATH reaches the reward package's factory (which checks the folder)."""
    with pytest.raises(JudgeError, match="not a reward-model config"):
        make_backend("rm:/no/such/folder")
