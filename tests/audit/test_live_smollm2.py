"""The embedded SmolLM2 A/B judge, run live in both orders, is flagged for
position bias."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefkit.audit.probes import probe
from prefkit.data import load
from tests.conftest import need


@pytest.mark.slow
def test_smollm2_ab_judge_flagged_for_position(shared_data: Path) -> None:
    """On 50 real PandaLM pairs in both orders it picks the first slot far too often."""
    pytest.importorskip("llama_cpp", reason="the local judge needs llama-cpp-python")
    table = load(need(shared_data / "pandalm/testset_v1_with_judges.jsonl"))
    table.attrs = {}
    pairs = table[table["judge"] == "annotator1"].drop(columns=["winner", "gold"])
    # The 50 shortest pairs keep the live run short on a CPU.
    size = (
        pairs["prompt"].str.len()
        + pairs["response_a"].str.len()
        + pairs["response_b"].str.len()
    )
    pairs = pairs.assign(size=size).nsmallest(50, "size").drop(columns="size")
    res = probe(pairs, "local", probes="position", rounds=1000, warn=False)
    t = res.table.set_index("figure")
    first = t.loc["first_slot_rate"]
    assert first["flag"]
    assert first["lower"] > 0.55
    assert first["n"] >= 40
