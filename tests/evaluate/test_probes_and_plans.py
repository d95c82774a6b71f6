"""Active probes and the adaptive pairing plan inside ``evaluate``, with fake
judges registered as judge specs (no model, no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from prefkit.evaluate import ConfigError, EvaluateConfig, evaluate
from prefkit.judge.backends import BACKENDS
from prefkit.judge.types import Completion, Request


class FirstSlotJudge:
    """Answers "A" whatever it is shown: a planted position bias. Counts calls."""

    name, model, max_concurrency = "firstslot", "always-a", None
    calls: ClassVar[list[int]] = []

    async def complete(self, request: Request) -> Completion:
        FirstSlotJudge.calls.append(1)
        return Completion("A")


class ShortScorer:
    """A response scorer preferring shorter responses (score = -characters)."""

    name, model, scale = "short", "minus-length", 50.0

    def score_responses(self, prompts: Any, responses: Any) -> Any:
        return np.array([-float(len(r)) for r in responses])


@pytest.fixture
def fake_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the fakes as the judge specs ``firstslot`` and ``short``."""
    monkeypatch.setitem(BACKENDS, "firstslot", lambda arg: FirstSlotJudge())
    monkeypatch.setitem(BACKENDS, "short", lambda arg: ShortScorer())
    FirstSlotJudge.calls.clear()


def _candidates(path: Path, n_prompts: int = 24) -> str:
    """Three models of different lengths answering every prompt."""
    rows = [
        {
            "prompt_id": f"p{i}",
            "prompt": f"Question {i}?",
            "model": model,
            "response": f"Answer {i} from {model}. " + "More words. " * k,
        }
        for i in range(n_prompts)
        for model, k in (("terse", 0), ("medium", 3), ("long", 8))
    ]
    file = path / "candidates.jsonl"
    pd.DataFrame(rows).to_json(file, orient="records", lines=True)
    return str(file)


def test_probes_flag_a_planted_position_bias_in_audit_and_report(
    tmp_path: Path, fake_judges: None
) -> None:
    """The position probe flags the first-slot judge; the flag and its plain
    sentence reach audit.json, report.html and run.json; a re-run is cached."""
    config = EvaluateConfig(
        candidates=_candidates(tmp_path),
        judges=("firstslot", "short"),
        probes=("position", "verbosity"),
        probe_pairs=20,
        rounds=200,
        output=str(tmp_path / "out"),
    )
    with pytest.warns(Warning):
        evaluate(config, progress=False)
    out = tmp_path / "out"
    table = pd.DataFrame(json.loads((out / "audit.json").read_text())["table"])
    probes = table[table["audit"] == "probe"].set_index(["judge", "figure"])
    first = probes.loc[("firstslot:always-a", "first_slot_rate")]
    assert first["flag"] and first["value"] == 1.0
    assert (first["band_low"], first["band_high"]) == (0.45, 0.55)
    # the scorer cannot be moved by order: its position probe is skipped, saying why
    skipped = probes.loc[("short:minus-length", "first_slot_rate")]
    assert (
        pd.isna(skipped["value"])
        and "scores each response on its own" in (skipped["note"])
    )
    # padding makes the short-preferring scorer's padded side lose
    shift = probes.loc[("short:minus-length", "verbosity_shift")]
    assert shift["flag"] and shift["upper"] < -0.05
    # the first-slot judge answers A in both orders: padding cannot move it
    assert abs(probes.loc[("firstslot:always-a", "verbosity_shift"), "value"]) < 1e-9

    html = (out / "report.html").read_text()
    assert "verbosity_shift" in html
    assert "Judge &#x27;short:minus-length&#x27; prefers the shorter response" in html
    assert "Judge &#x27;firstslot:always-a&#x27; favours the response shown first" in (
        html
    )
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["probes"] == ["position", "verbosity"]
    assert run["probes"]["pairs"] == 20
    assert run["probes"]["probed"] == ["firstslot:always-a", "short:minus-length"]

    calls = len(FirstSlotJudge.calls)
    with pytest.warns(Warning):
        evaluate(config, progress=False)
    assert len(FirstSlotJudge.calls) == calls


def test_adaptive_plan_runs_in_stages_and_is_recorded(
    tmp_path: Path, fake_judges: None
) -> None:
    """adaptive:N judges exactly N distinct pairs in the given stages, and
    run.json records the plan, stage sizes and rules."""
    config = EvaluateConfig(
        candidates=_candidates(tmp_path),
        judges=("short",),
        pairs="adaptive:30",
        stages=3,
        rounds=0,
        output=str(tmp_path / "out"),
    )
    result = evaluate(config, progress=False)
    comparisons = result.comparisons
    assert len(comparisons) == 30
    assert not comparisons[["prompt_id", "model_a", "model_b"]].duplicated().any()
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["pairing"]["plan"] == "adaptive:30"
    assert run["pairing"]["stage_sizes"] == [10, 10, 10]
    assert run["pairing"]["stage_rules"] == ["spread", "ci_gain", "ci_gain"]
    assert run["settings"]["stages"] == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"candidates": "c", "judges": ("likelihood",), "pairs": "adaptive:0"},
            "adaptive:N",
        ),
        (
            {"candidates": "c", "judges": ("likelihood",), "pairs": "adaptive"},
            "adaptive:N",
        ),
        (
            {"candidates": "c", "judges": ("likelihood",), "stages": 0},
            "setting 'stages'",
        ),
        ({"comparisons": "c", "pairs": "adaptive:5"}, "judged as given"),
        (
            {"candidates": "c", "judges": ("likelihood",), "probes": "flattery"},
            "probes",
        ),
        ({"comparisons": "c", "probes": "position"}, "without a live judge"),
        (
            {"candidates": "c", "judges": ("likelihood",), "probe_pairs": 0},
            "setting 'probe_pairs'",
        ),
    ],
)
def test_config_refuses_bad_plans_and_probes(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    """Each invalid plan or probe setting is refused, naming the setting."""
    with pytest.raises(ConfigError, match=match):
        EvaluateConfig(**kwargs)


def test_probes_accept_the_audit_syntax() -> None:
    """'all' expands and comma-separated text splits, as in prefkit audit --probes."""
    config = EvaluateConfig(
        candidates="c", judges=("local",), probes="bandwagon, position"
    )
    assert config.probes == ("bandwagon", "position")
    assert (
        len(EvaluateConfig(candidates="c", judges=("local",), probes="all").probes) == 6
    )


class MuteOnSomeJudge:
    """Answers "A", except on prompts ending in 7 where it rambles without a label."""

    name, model, max_concurrency = "mute", "sometimes-mute", None

    async def complete(self, request: Request) -> Completion:
        user = request.messages[-1][1]
        return Completion("I cannot say." if "Question 7?" in user else "A")


def test_pairs_without_a_verdict_are_listed_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A judge that gives no verdict on a prompt's pairs: those pairs stay out
    of the ranking, and failures.jsonl, run.json and the report say which."""
    monkeypatch.setitem(BACKENDS, "mute", lambda arg: MuteOnSomeJudge())
    config = EvaluateConfig(
        candidates=_candidates(tmp_path, n_prompts=10),
        judges=("mute",),
        rounds=50,
        output=str(tmp_path / "out"),
    )
    with pytest.warns(Warning, match="3 of 30 pairs got no verdict"):
        result = evaluate(config, progress=False)
    out = tmp_path / "out"
    assert len(result.comparisons) == 27
    assert result.comparisons["winner"].notna().all()
    failed = pd.read_json(out / "failures.jsonl", lines=True)
    assert len(failed) == 3 and set(failed["prompt_id"]) == {"p7"}
    assert all(len(f) == 2 for f in failed["failures"])  # both display orders
    assert all("parse failure" in f[0] for f in failed["failures"])
    run = json.loads((out / "run.json").read_text())
    assert run["n_comparisons"] == 27 and run["n_without_verdict"] == 3
    html = (out / "report.html").read_text()
    assert "3 judgements gave no verdict after retries (3 by &#x27;mute:" in html
    # a clean re-run leaves no stale list behind
    monkeypatch.setitem(BACKENDS, "mute", lambda arg: FirstSlotJudge())
    evaluate(EvaluateConfig(**{**config.to_dict(), "cache": None}), progress=False)
    assert not (out / "failures.jsonl").exists()


def test_a_single_model_is_one_clear_error(tmp_path: Path, fake_judges: None) -> None:
    """Candidates from one model leave nothing to compare: said before judging."""
    file = tmp_path / "one.jsonl"
    pd.DataFrame(
        [{"prompt_id": f"p{i}", "prompt": "q", "model": "m1", "response": "r"}
         for i in range(2)]
    ).to_json(file, orient="records", lines=True)  # fmt: skip
    config = EvaluateConfig(
        candidates=str(file), judges=("short",), output=str(tmp_path / "o")
    )
    with pytest.raises(ConfigError, match=r"no prompt has responses from two models"
                       r" \(2 responses from 1 model\(s\): m1\)"):  # fmt: skip
        evaluate(config, progress=False)


def test_models_left_out_by_a_small_sample_are_named(
    tmp_path: Path, fake_judges: None
) -> None:
    """sample:1 compares two of three models: the third is named, not dropped."""
    config = EvaluateConfig(
        candidates=_candidates(tmp_path, n_prompts=3),
        judges=("short",),
        pairs="sample:1",
        rounds=20,
        output=str(tmp_path / "out"),
    )
    with pytest.warns(Warning, match="1 model\\(s\\) answered but were in no judged"):
        result = evaluate(config, progress=False)
    assert len(result.unrated) == 1 and len(result.leaderboard) == 2
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["models_not_compared"] == result.unrated
    html = (tmp_path / "out" / "report.html").read_text()
    assert f"Not on the leaderboard: {result.unrated[0]} answered" in html


def test_judging_a_partly_judged_table_says_it_replaces_verdicts(
    tmp_path: Path, fake_judges: None
) -> None:
    """Recorded winners are not replaced silently when a judge is named."""
    rows = [
        {"prompt_id": str(i), "prompt": "q", "model_a": "x", "model_b": "y",
         "response_a": "short", "response_b": "much longer", "winner": w}
        for i, w in enumerate(["b", None, "b"])
    ]  # fmt: skip
    file = tmp_path / "part.jsonl"
    pd.DataFrame(rows).to_json(file, orient="records", lines=True)
    config = EvaluateConfig(
        comparisons=str(file), judges=("short",), rounds=20,
        output=str(tmp_path / "o"),
    )  # fmt: skip
    with pytest.warns(Warning, match="replace the 2 verdicts recorded"):
        result = evaluate(config, progress=False)
    assert (result.comparisons["winner"] == "a").all()  # the short scorer's


def test_report_lists_the_items_the_queue_sends_to_people(
    tmp_path: Path, fake_judges: None
) -> None:
    """With a jury, the report's uncertain items are human_queue.jsonl's items."""
    from prefkit.report.effects import uncertain_items

    config = EvaluateConfig(
        candidates=_candidates(tmp_path, n_prompts=8),
        judges=("firstslot", "short"),
        rounds=20,
        n_uncertain=5,
        output=str(tmp_path / "out"),
    )
    with pytest.warns(Warning):
        result = evaluate(config, progress=False)
    queue = pd.read_json(tmp_path / "out" / "human_queue.jsonl", lines=True)
    queued = [
        (str(r.prompt_id), *sorted((r.model_a, r.model_b))) for r in queue.itertuples()
    ]
    items = uncertain_items(result.comparisons, 5)
    listed = [
        (
            str(i["prompt_id"].iloc[0]),
            *sorted((i["model_a"].iloc[0], i["model_b"].iloc[0])),
        )
        for i in items
    ]
    assert listed == queued and len(listed) == 5
    # every item shows each judge's rows and the jury's
    assert all(i["judge"].nunique() == 3 for i in items)


def test_recorded_table_with_some_missing_verdicts_ranks_the_rest(
    tmp_path: Path,
) -> None:
    """No judge named: pairs without a verdict are left out with a warning."""
    rows = [
        {"prompt_id": str(i), "prompt": "q", "model_a": "x", "model_b": "y",
         "response_a": "a", "response_b": "b", "winner": w}
        for i, w in enumerate(["a", None, "a", "b", "a"])
    ]  # fmt: skip
    file = tmp_path / "part.jsonl"
    pd.DataFrame(rows).to_json(file, orient="records", lines=True)
    config = EvaluateConfig(
        comparisons=str(file), rounds=20, output=str(tmp_path / "o")
    )
    with pytest.warns(Warning, match=r"1 of 5 pairs hold no verdict \(rows 2\); they"):
        result = evaluate(config, progress=False)
    assert len(result.comparisons) == 4
