"""Readers of the shared human-labelled sets, and real-data runs on HH."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitDataError
from prefkit.reward.crossval import kfold_logits
from prefkit.reward.datasets import (
    load_benchmark,
    majority,
    read_faireval,
    read_llmbar,
    read_pairs,
    split_hh,
)
from prefkit.reward.evaluate import accuracy_table, longer_logits
from prefkit.reward.features import FeatureSpec
from prefkit.reward.train import RewardConfig
from tests.conftest import need


def test_split_hh_by_hand():
    """The shared prefix up to the last Assistant marker is the prompt."""
    chosen = "\n\nHuman: hi\n\nAssistant: hello there"
    rejected = "\n\nHuman: hi\n\nAssistant: go away"
    prompt, c, r = split_hh(chosen, rejected)
    assert prompt == "\n\nHuman: hi\n\nAssistant:"
    assert (c, r) == ("hello there", "go away")
    # responses that share their first words keep them
    prompt, c, r = split_hh(chosen, "\n\nHuman: hi\n\nAssistant: hello you")
    assert (c, r) == ("hello there", "hello you")
    assert split_hh("plain a", "plain b") == ("", "plain a", "plain b")


def test_majority_of_three_votes():
    """Two of three votes decide; three different votes are a tie."""
    assert majority([1, 1, 2]) == "a"
    assert majority([2, 0, 2]) == "b"
    assert majority([0, 0, 1]) == "tie"
    assert majority([0, 1, 2]) == "tie"


def test_readers_reject_bad_files(tmp_path):
    """Missing fields and unknown labels name the file, line and field."""
    bad = tmp_path / "llmbar.jsonl"
    pd.DataFrame(
        {
            "subset": ["x"],
            "index": [0],
            "input": ["q"],
            "output_1": ["a"],
            "output_2": ["b"],
            "label": [3],
        }
    ).to_json(bad, orient="records", lines=True)
    with pytest.raises(PrefkitDataError, match=r"llmbar.jsonl:1: label: unknown"):
        read_llmbar(bad)
    fe = tmp_path / "fe.jsonl"
    pd.DataFrame({"question": ["q"]}).to_json(fe, orient="records", lines=True)
    with pytest.raises(PrefkitDataError, match=r"answer_1: field missing"):
        read_faireval(fe)
    with pytest.raises(PrefkitDataError, match=r"unknown benchmark"):
        load_benchmark("mmlu", tmp_path)


def test_shared_sets_read_with_expected_sizes(shared_data):
    """Each benchmark reads with its documented size and label balance."""
    for rel in (
        "hh_rlhf/helpful-base_test.jsonl.gz",
        "llmbar/instances.jsonl",
        "faireval/faireval_gpt35_vs_vicuna13b.jsonl",
        "pandalm/testset_v1_with_judges.jsonl",
    ):
        need(shared_data / rel)
    hh = load_benchmark("hh-helpful", shared_data)
    assert len(hh) == 2354 and set(hh["winner"]) == {"a"}
    assert hh["prompt"].str.endswith("Assistant:").mean() > 0.99
    llmbar = load_benchmark("llmbar", shared_data)
    assert len(llmbar) == 485 and llmbar["subset"].nunique() == 6
    fair = load_benchmark("faireval", shared_data)
    assert fair["winner"].value_counts().to_dict() == {"a": 41, "b": 25, "tie": 14}
    panda = load_benchmark("pandalm", shared_data)
    assert len(panda) == 797
    assert read_pairs(shared_data / "llmbar/instances.jsonl").equals(llmbar)


def test_hh_helpful_pick_longer_share(shared_data):
    """On HH helpful the chosen turn is the longer one in 59.6% of pairs."""
    need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")
    hh = load_benchmark("hh-helpful", shared_data)
    longer = longer_logits(hh["response_a"], hh["response_b"])
    assert np.mean(longer > 0) == pytest.approx(0.5956, abs=0.002)


def test_real_run_on_hh_helpful_beats_chance(shared_data):
    """A hashing-feature RM, 5-fold on all HH helpful pairs, beats chance."""
    need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")
    hh = load_benchmark("hh-helpful", shared_data)
    config = RewardConfig(hidden=32, batch_size=256, lr=3e-3, max_epochs=30)
    result = kfold_logits(hh, config, FeatureSpec(encoder="hashing"), k=5)
    table = accuracy_table(result.logits, result.y)
    assert table.loc[0, "lower"] > 0.5


@pytest.mark.slow
def test_minilm_run_on_hh_helpful_beats_chance(shared_data, tmp_path):
    """The default MiniLM RM, 5-fold on 300 HH helpful pairs, beats chance."""
    need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")
    hh = load_benchmark("hh-helpful", shared_data).iloc[:300]
    config = RewardConfig(hidden=64, batch_size=64, max_epochs=40)
    result = kfold_logits(hh, config, FeatureSpec(), k=5, cache_dir=str(tmp_path))
    table = accuracy_table(result.logits, result.y)
    assert table.loc[0, "lower"] > 0.5


def test_pandalm_responses_are_all_text(shared_data):
    """PandaLM's six responses stored as JSON true are read as the text 'true'."""
    from prefkit.reward.datasets import read_pandalm

    table = read_pandalm(shared_data / "pandalm/testset_v1_with_judges.jsonl")
    assert len(table) == 797
    both = pd.concat([table["response_a"], table["response_b"]])
    assert both.map(type).eq(str).all()
    assert (both == "true").sum() == 6
