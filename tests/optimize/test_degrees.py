"""Tests of SPO's degree data, its head and the SPO training path."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from prefkit.optimize.degrees import (
    HEAD_FILE,
    DegreeError,
    DegreeHead,
    content_units,
    degrade,
    degree_copies,
    degree_logps,
    n_removed,
)
from prefkit.optimize.losses import compute_loss
from prefkit.optimize.sequences import score_completions
from prefkit.optimize.trainer import PreferenceTrainer, TrainConfig

FAST = {"progress": False, "learning_rate": 1e-2, "threads": 1}
TEXT = "The cat sat on the mat and the dog ran home."
#: The content words of TEXT (the rest are stop words).
CONTENT = ["cat", "sat", "mat", "dog", "ran", "home."]


def _content_left(text: str) -> list[str]:
    return [w for w in text.split() if w in CONTENT]


def test_content_words_of_a_hand_example() -> None:
    """Six of the eleven words are content words; stop words are not removable."""
    pieces, removable = content_units(TEXT)
    assert "".join(pieces) == TEXT
    assert [pieces[i].strip() for i in removable] == CONTENT


@pytest.mark.parametrize(
    ("fraction", "kept"), [(0.0, 6), (0.25, 4), (0.5, 3), (0.75, 1), (1.0, 0)]
)
def test_degrade_removes_the_stated_fraction(fraction: float, kept: int) -> None:
    """Of 6 content words, 0/25/50/75/100 % remove 0, 2 (1.5 half up), 3, 5, 6."""
    out = degrade(TEXT, fraction, seed=3)
    assert len(_content_left(out)) == kept
    assert n_removed(6, fraction) == 6 - kept
    # stop words all stay, in order
    stop = [w for w in TEXT.split() if w not in CONTENT]
    assert [w for w in out.split() if w not in CONTENT] == stop


def test_degrade_is_seeded_and_nested() -> None:
    """Same seed, same text; larger fractions remove supersets; seeds differ."""
    assert degrade(TEXT, 0.5, seed=7) == degrade(TEXT, 0.5, seed=7)
    assert degrade(TEXT, 0.5, seed=0) == "The cat sat on the and the ran "
    removed = [
        set(CONTENT) - set(_content_left(degrade(TEXT, f, seed=7)))
        for f in (0.25, 0.5, 0.75)
    ]
    assert removed[0] < removed[1] < removed[2]
    assert len({degrade(TEXT, 0.5, seed=s) for s in range(10)}) > 1


def test_degrade_sentences() -> None:
    """Sentence units: half of four sentences leaves two whole sentences."""
    text = "One. Two! Three? Four"
    assert content_units(text, "sentences")[0] == ["One. ", "Two! ", "Three? ", "Four"]
    out = degrade(text, 0.5, unit="sentences", seed=0)
    assert out == "Two! Four"


def test_degree_copies_of_a_pairs_table(toy_pairs: pd.DataFrame) -> None:
    """D copies per pair, degree 0 the response itself, removals as stated."""
    pairs = toy_pairs.assign(chosen=[TEXT, "Blue."])
    copies = degree_copies(pairs, 4, seed=1)
    assert len(copies) == 8
    first = copies[copies["pair"] == 0]
    assert first["degree"].tolist() == [0, 1, 2, 3]
    assert first["fraction"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert first["removed"].tolist() == [0, 2, 3, 5]
    assert first["text"].iloc[0] == TEXT
    kept = [len(_content_left(t)) for t in first["text"]]
    assert kept == [6, 4, 3, 1]
    for degree in range(4):
        assert first["text"].iloc[degree] == degrade(TEXT, degree / 4, seed=(1, 0))
    # "Blue." has one content word: 25 % of it rounds to 0, 50 % to 1
    assert copies[copies["pair"] == 1]["removed"].tolist() == [0, 0, 1, 1]
    assert degree_copies(pairs, 4, seed=1).equals(copies)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: degrade(TEXT, 1.5), "`fraction` must be in"),
        (lambda: degrade(TEXT, 0.5, unit="letters"), "`unit` is 'letters'"),
        (lambda: degree_copies(pd.DataFrame({"chosen": ["a"]}), 1), "`n_degrees`"),
        (lambda: degree_copies(pd.DataFrame({"x": ["a"]})), "no `chosen` column"),
    ],
)
def test_degree_errors(call: Any, message: str) -> None:
    """Bad settings are refused with a message naming them."""
    with pytest.raises(DegreeError, match=message):
        call()


def test_head_and_spo_loss_by_hand() -> None:
    """Head scores of three copies and a pair give spo_loss's value by hand."""
    head = DegreeHead(2, 3)
    with torch.no_grad():
        head.linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        head.linear.bias.zero_()
    hidden = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    logits = head(hidden)
    assert logits.tolist() == [[1.0, 0.0, 1.0], [0.0, 2.0, 2.0], [1.0, 1.0, 2.0]]
    policy, reference = torch.tensor([-1.0, -2.0]), torch.tensor([-1.5, -1.5])
    out = compute_loss(
        "spo", degree_logps(policy, reference, logits), beta=0.1, lambda_=0.5
    )
    e = math.e
    # cross-entropy of copy d with label d
    ce = [
        math.log(e + 1 + e) - 1,
        math.log(1 + e**2 + e**2) - 2,
        math.log(e + e + e**2) - 2,
    ]
    # h = (-1 + 1.5) - (-2 + 1.5) = 1; DPO term log(1 + exp(-0.1))
    dpo = math.log(1 + math.exp(-0.1))
    loss = float(out.losses.detach().mean())
    assert loss == pytest.approx(dpo + 0.5 * sum(ce) / 3, abs=1e-6)
    assert loss == pytest.approx(1.0065, abs=1e-4)
    assert out.losses.detach().tolist() == pytest.approx(
        [dpo + 0.5 * c for c in ce], abs=1e-6
    )


def test_head_save_and_load_round_trip(tmp_path: Path) -> None:
    """A saved head loads back with the same sizes and weights."""
    torch.manual_seed(0)
    head = DegreeHead(5, 4)
    loaded = DegreeHead.load(head.save(tmp_path / HEAD_FILE))
    x = torch.randn(3, 5)
    assert torch.equal(head(x), loaded(x))


def test_trainer_degree_loss_is_head_on_last_states(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame
) -> None:
    """The trainer's SPO loss is DPO plus lambda * CE of the head on copy states."""
    config = TrainConfig(
        loss="spo", loss_params={"beta": 0.2, "lambda_": 0.3}, n_degrees=3, **FAST
    )
    trainer = PreferenceTrainer(tiny_model, tokenizer, config)
    encoded, copies = trainer.encode_degrees(toy_pairs)
    assert len(copies[0]) == 3 and copies[0][0] == encoded[0].chosen_ids
    torch.manual_seed(1)
    trainer.degree_head_ = DegreeHead(16, 3)
    reference = torch.tensor([-30.0, -28.0])
    pair = encoded[0]
    with torch.no_grad():
        out, metrics = trainer.degree_loss(pair, reference, copies[0])
        scored = score_completions(
            tiny_model,
            pair.prompt_ids,
            [pair.chosen_ids, pair.rejected_ids, *copies[0]],
            n_scored=2,
        )
        logits = trainer.degree_head_(scored.last_hidden[2:])
    h = float((scored.logps[0] + 30.0) - (scored.logps[1] + 28.0))
    dpo = math.log(1 + math.exp(-0.2 * h))
    ce = [float(torch.logsumexp(logits[d], 0) - logits[d, d]) for d in range(3)]
    expected = dpo + 0.3 * sum(ce) / 3
    assert float(out.losses.mean()) == pytest.approx(expected, abs=1e-5)
    assert metrics["degree_loss"] == pytest.approx(sum(ce) / 3, abs=1e-5)


@pytest.mark.slow
def test_spo_training_lowers_degree_loss_and_saves_head(
    tokenizer: Any, tiny_model: Any, toy_pairs: pd.DataFrame, tmp_path: Path
) -> None:
    """Three SPO steps lower the degree cross-entropy; the head is saved beside."""
    pairs = toy_pairs.assign(
        chosen=[
            "Two plus two makes four, a basic arithmetic fact every pupil learns.",
            "Blue is a colour, like the clear summer sky over calm oceans.",
        ]
    )
    config = TrainConfig(
        loss="spo",
        loss_params={"lambda_": 1.0},
        max_steps=3,
        learning_rate=1e-3,
        degree_head_lr=1e-2,
        save_every=3,
        output_dir=str(tmp_path),
        progress=False,
        threads=1,
    )
    trainer = PreferenceTrainer(tiny_model, tokenizer, config).fit(pairs)
    degree_loss = trainer.history_["degree_loss"].tolist()
    # step 1 is before any update: about log 4 for a fresh head
    assert degree_loss[0] == pytest.approx(math.log(4), abs=0.1)
    assert degree_loss[2] < degree_loss[1] < degree_loss[0]
    assert trainer.history_["loss"].iloc[0] == pytest.approx(
        math.log(2) + degree_loss[0], abs=1e-5
    )
    head = DegreeHead.load(tmp_path / "step-3" / HEAD_FILE)
    assert head.linear.out_features == 4
    assert torch.equal(head.linear.weight, trainer.degree_head_.linear.weight.cpu())
