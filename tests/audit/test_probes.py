"""Active probes: pure perturbations, and orchestration through fake live judges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.audit import perturb
from prefkit.audit.drift import rubric_drift
from prefkit.audit.probes import PROBES, parse_probes, perturb_pairs, probe
from tests.audit.fake_judges import CueJudge


def _pairs(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Pairs whose answers carry a hidden quality score."""
    rng = np.random.default_rng(seed)
    sa, sb = rng.permutation(n), rng.permutation(n) + 0.5
    return pd.DataFrame(
        {
            "prompt_id": [f"p{i}" for i in range(n)],
            "prompt": [f"Question {i}?" for i in range(n)],
            "model_a": "x",
            "model_b": "y",
            "response_a": [f"Answer with score={int(2 * s)}." for s in sa],
            "response_b": [f"Answer with score={int(2 * s)}." for s in sb],
            "domain": np.where(np.arange(n) % 2 == 0, "math", "chat"),
        }
    )


@pytest.mark.parametrize("cue", list(perturb.CUES))
def test_cue_keeps_response_and_appends(cue: str) -> None:
    """Every cue keeps the original response as a prefix and adds text."""
    text = "The answer is 4."
    out = perturb.CUES[cue](text)
    assert out.startswith(text)
    assert len(out) > len(text) + 20
    assert perturb.CUES[cue](text) == out


def test_verbosity_padding_adds_no_digits() -> None:
    """Padding adds words but no facts (no numbers)."""
    extra = perturb.pad_verbosity("x")[1:]
    assert not any(ch.isdigit() for ch in extra)
    assert len(extra.split()) > 40


def test_perturb_pairs_rewrites_only_target_side() -> None:
    """Exactly the target side changes, and targets are balanced and seeded."""
    pairs = _pairs(200)
    out, target = perturb_pairs(pairs, "bandwagon", seed=3)
    for side in ("a", "b"):
        col = f"response_{side}"
        changed = out[col] != pairs[col]
        assert (changed.to_numpy() == (target == side)).all()
    assert 0.35 < (target == "a").mean() < 0.65
    again, target2 = perturb_pairs(pairs, "bandwagon", seed=3)
    assert (target == target2).all() and again.equals(out)


def test_parse_probes() -> None:
    """'all' expands; unknown names are listed with the valid ones."""
    assert parse_probes("all") == list(PROBES)
    assert parse_probes("bandwagon, position") == ["bandwagon", "position"]
    with pytest.raises(ValueError, match=r"unknown probe.*flattery.*expected 'all'"):
        parse_probes("flattery")


def test_bandwagon_judge_flagged_only_for_bandwagon() -> None:
    """A bandwagon-prone judge shifts towards the cue; other cues do not move it."""
    res = probe(
        _pairs(),
        CueJudge(("bandwagon",)),
        probes="bandwagon,authority,distraction",
        rounds=200,
        warn=False,
    )
    t = res.table.set_index("figure")
    assert t.loc["bandwagon_shift", "flag"]
    assert t.loc["bandwagon_shift", "value"] > 0.3
    assert t.loc["bandwagon_flip_rate", "value"] == pytest.approx(1.0)
    for cue in ("authority", "distraction"):
        assert t.loc[f"{cue}_shift", "value"] == 0.0
        assert not t.loc[f"{cue}_shift", "flag"]


def test_mitigation_removes_bias() -> None:
    """The debiasing system prompt and the reflection pass remove the planted bias."""
    res = probe(
        _pairs(),
        CueJudge(("verbosity",)),
        probes="verbosity",
        mitigations=("none", "system_prompt", "reflection"),
        rounds=100,
        warn=False,
    )
    t = res.table.set_index("judge")
    judge = "fake:cue-verbosity"
    assert t.loc[judge, "value"].iloc[0] > 0.3
    assert t.loc[f"{judge} [system_prompt]", "value"].iloc[0] == 0.0
    assert t.loc[f"{judge} [reflection]", "value"].iloc[0] == 0.0


def test_position_probe_flags_first_picker_not_clean() -> None:
    """Both-order judging flags an always-A judge and passes a score-based one."""
    res = probe(
        _pairs(), CueJudge(first=True), probes="position", rounds=200, warn=False
    )
    t = res.table.set_index("figure")
    assert t.loc["first_slot_rate", "value"] == 1.0 and t.loc["first_slot_rate", "flag"]
    assert t.loc["flip_rate", "value"] == 1.0
    clean = probe(_pairs(), CueJudge(), probes="position", rounds=200, warn=False)
    c = clean.table.set_index("figure")
    assert c.loc["conflict_rate", "value"] == 0.0
    assert not c["flag"].any()


def test_unknown_mitigation_and_missing_texts() -> None:
    """Bad mitigations and pairs without texts are rejected with the fix."""
    with pytest.raises(ValueError, match=r"unknown mitigation.*expected any of none"):
        probe(_pairs(), CueJudge(), probes="position", mitigations=("pray",))
    with pytest.raises(ValueError, match=r"pairs lack the column.*response_a"):
        probe(_pairs().drop(columns="response_a"), CueJudge(), probes="position")


class RubricJudge(CueJudge):
    """Under a rubric that mentions 'concise', prefers a on chat pairs only."""

    async def complete(self, request):  # type: ignore[no-untyped-def]
        if "concise" in request.messages[0][1] and "chat" in request.messages[-1][1]:
            from prefkit.judge.types import Completion

            first, _ = request.messages[-1][1].split("[Answer B]", 1)
            return Completion(text="A" if "from a" in first else "B")
        return await super().complete(request)


def test_rubric_drift_flags_stealthy_shift() -> None:
    """A rubric edit that moves only the target domain is flagged as stealthy."""
    pairs = _pairs(80)
    pairs["prompt"] = [f"{d} question {i}?" for i, d in enumerate(pairs["domain"])]
    pairs["response_a"] = pairs["response_a"] + " (from a)"
    res = rubric_drift(
        pairs,
        RubricJudge(),
        rubric="Be helpful.",
        alternative="Prefer concise.",
        validation="math",
        target="chat",
        rounds=200,
        warn=False,
    )
    t = res.table.set_index("figure")
    assert t.loc["validation_agreement", "value"] == 1.0
    assert t.loc["validation_shift", "value"] == 0.0
    assert t.loc["target_shift", "flag"]
    assert "stealthy" in t.loc["target_shift", "note"]


def test_rubric_drift_validates_domains() -> None:
    """Unknown domains and a missing domain column are named."""
    with pytest.raises(ValueError, match="target domain 'code' is not in column"):
        rubric_drift(
            _pairs(),
            CueJudge(),
            rubric="r",
            alternative="s",
            validation="math",
            target="code",
        )
    with pytest.raises(ValueError, match="no 'topic' column"):
        rubric_drift(
            _pairs(),
            CueJudge(),
            rubric="r",
            alternative="s",
            validation="math",
            target="chat",
            domain="topic",
        )
