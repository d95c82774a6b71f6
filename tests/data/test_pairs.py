"""HH splitting, pairs from comparisons, and TRL files in and out."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from prefkit.data import comparisons_to_pairs, load, to_trl, write_trl
from prefkit.data.dialogue import (
    parse_transcript,
    render_messages,
    split_message_pair,
    split_text_pair,
)
from prefkit.errors import DroppedRowsWarning, PrefkitDataError
from tests.conftest import need

CHOSEN = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: Why not."
REJECTED = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: No."


def test_split_text_pair_keeps_shared_prefix():
    """The prompt ends at the last shared Assistant marker; the rest differs."""
    prompt, chosen, rejected = split_text_pair(CHOSEN, REJECTED)
    assert prompt == "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant:"
    assert (chosen, rejected) == (" Why not.", " No.")


def test_split_text_pair_differing_early():
    """Transcripts that differ in an earlier turn keep both later turns."""
    c = "\n\nHuman: Hi\n\nAssistant: A\n\nHuman: ok\n\nAssistant: x"
    r = "\n\nHuman: Hi\n\nAssistant: B\n\nHuman: ok\n\nAssistant: x"
    prompt, chosen, rejected = split_text_pair(c, r)
    assert prompt == "\n\nHuman: Hi\n\nAssistant:"
    assert rejected.startswith(" B")
    assert parse_transcript("\n\nAssistant:" + chosen)[1] == {
        "role": "user",
        "content": "ok",
    }


def test_split_text_pair_without_assistant_is_none():
    """No shared assistant marker means no pair."""
    assert split_text_pair("\n\nHuman: a", "\n\nHuman: b") is None


def test_parse_and_render_round_trip():
    """Rendering parsed messages gives the transcript back."""
    messages = parse_transcript(CHOSEN)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert render_messages(messages) == CHOSEN
    assert parse_transcript("no marker") is None


def test_split_message_pair_starts_at_assistant():
    """The continuation starts with an assistant turn, even for equal lists."""
    msgs = parse_transcript(CHOSEN)
    prompt, chosen, rejected = split_message_pair(msgs, msgs)
    assert [m["role"] for m in prompt][-1] == "user"
    assert chosen == rejected == [msgs[-1]]


def test_hh_reader_names_bad_line(tmp_path):
    """A record that is not a dialogue is reported with its line and field."""
    path = tmp_path / "hh.jsonl"
    rows = [{"chosen": CHOSEN, "rejected": REJECTED}, {"chosen": CHOSEN, "rejected": 3}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(PrefkitDataError, match=r"hh.jsonl:2: rejected: not a dialogue"):
        load(path)


def test_comparisons_to_pairs_orients_by_winner():
    """Winner a gives chosen = response_a; ties are left out."""
    df = pd.DataFrame(
        {
            "prompt": ["p1", "p2", "p3"],
            "model_a": ["x", "x", "x"],
            "model_b": ["y", "y", "y"],
            "response_a": ["ra1", "ra2", "ra3"],
            "response_b": ["rb1", "rb2", "rb3"],
            "winner": ["a", "b", "tie"],
        }
    )
    with pytest.warns(DroppedRowsWarning, match=r"left out 1 of 3 rows \(1 tie\)"):
        pairs = comparisons_to_pairs(df)
    assert pairs.attrs["prefkit_dropped"] == {"lines": [3], "reason": "1 tie"}
    assert pairs["chosen"].tolist() == ["ra1", "rb2"]
    assert pairs["rejected"].tolist() == ["rb1", "ra2"]
    assert pairs["model_chosen"].tolist() == ["x", "y"]


def test_comparisons_to_pairs_needs_texts():
    """Comparisons without responses cannot become pairs."""
    df = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    with pytest.raises(PrefkitDataError, match="missing column"):
        comparisons_to_pairs(df)


def _pairs() -> pd.DataFrame:
    raw = pd.DataFrame({"chosen": [CHOSEN], "rejected": [REJECTED]})
    from prefkit.data import convert

    return convert(raw, "hh")


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_trl_round_trip(tmp_path, suffix, style):
    """Writing TRL and reading it back gives the same prompt/chosen/rejected."""
    pairs = _pairs()
    path = write_trl(pairs, tmp_path / f"out.{suffix}", style)
    back = load(path)
    assert back.attrs["prefkit_format"] == "trl"
    if style == "standard":
        assert back["chosen"].tolist() == pairs["chosen"].tolist()
        assert back["prompt"].tolist() == pairs["prompt"].tolist()
    else:
        assert back["prompt_messages"][0] == pairs["prompt_messages"][0]
        assert back["rejected_messages"][0] == pairs["rejected_messages"][0]
        assert back["prompt"][0] == pairs["prompt"][0]


def test_to_trl_rejects_unknown_style():
    """An unknown style names the valid ones."""
    with pytest.raises(ValueError, match="standard, conversational"):
        to_trl(_pairs(), "chatml")  # type: ignore[arg-type]


def test_to_trl_conversational_needs_messages():
    """Conversational output of text-only pairs is refused with the fix."""
    pairs = pd.DataFrame({"prompt": ["p"], "chosen": ["c"], "rejected": ["r"]})
    with pytest.raises(PrefkitDataError, match="style='standard'"):
        to_trl(pairs, "conversational")


def test_trl_reader_rejects_mixed_types(tmp_path):
    """A conversational prompt with text answers is an error naming the line."""
    path = tmp_path / "trl.jsonl"
    good = {"prompt": "p", "chosen": "c", "rejected": "r"}
    bad = {"prompt": [{"role": "user", "content": "p"}], "chosen": "c", "rejected": "r"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(PrefkitDataError, match=r"trl.jsonl:2: chosen: wrong type"):
        load(path)


@pytest.mark.slow
def test_trl_files_are_what_trl_reads(tmp_path, shared_data):
    """TRL's own helpers see the written HH file as preference data, both styles.

    Slow only because importing trl imports torch and transformers (~30 s here).
    """
    datasets = pytest.importorskip("datasets")
    from trl.data_utils import extract_prompt, is_conversational

    hh = load(need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")).head(300)
    for style, talk in (("conversational", True), ("standard", False)):
        path = write_trl(hh, tmp_path / f"{style}.jsonl", style)
        ds = datasets.load_dataset(
            "json", data_files=str(path), split="train", cache_dir=str(tmp_path)
        )
        assert ds.num_rows == 300
        assert set(ds.column_names) == {"prompt", "chosen", "rejected"}
        assert is_conversational(ds[0]) is talk
        row = ds[5]
        if talk:
            assert row["prompt"][-1]["role"] == "user"
            assert row["chosen"][0]["role"] == "assistant"
        # TRL's implicit-prompt extraction of the full dialogues agrees
        full = {
            "chosen": row["prompt"] + row["chosen"],
            "rejected": row["prompt"] + row["rejected"],
        }
        assert extract_prompt(full)["prompt"] == row["prompt"]


@pytest.mark.slow
def test_trl_rows_tokenize_like_the_trainer(tmp_path, shared_data):
    """The DPO trainer's tokenisation of a written row keeps prompt and answers."""
    datasets = pytest.importorskip("datasets")
    from transformers import AutoTokenizer
    from trl.data_utils import (
        _tokenize,
        common_prefix_length,
        maybe_apply_chat_template,
    )

    from prefkit.models.hf import smollm2_hf_dir

    tokenizer = AutoTokenizer.from_pretrained(smollm2_hf_dir())
    hh = load(need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz"))
    path = write_trl(hh.head(20), tmp_path / "c.jsonl", "conversational")
    row = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path)
    )[0]
    system = [{"role": "system", "content": "You are a helpful AI assistant."}]
    row["prompt"] = system + row["prompt"]
    text = maybe_apply_chat_template(row, tokenizer)
    assert text["prompt"].rstrip().endswith("assistant")
    assert row["chosen"][0]["content"][:30] in text["chosen"]
    # the same calls DPOTrainer._prepare_dataset makes for a conversational row
    prompt_ids = _tokenize(tokenizer, row["prompt"], add_generation_prompt=True)
    chosen_ids = _tokenize(tokenizer, row["prompt"] + row["chosen"])
    prompt_ids, ids = prompt_ids["input_ids"], chosen_ids["input_ids"]
    assert common_prefix_length(prompt_ids, ids) == len(prompt_ids)
    assert len(ids) > len(prompt_ids)
