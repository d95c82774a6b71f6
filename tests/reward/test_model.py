"""Table-level reward models: context, save/load, input validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from prefkit.errors import PrefkitDataError, PrefkitError
from prefkit.reward.features import FeatureSpec, HashingEncoder, get_encoder
from prefkit.reward.model import RewardModel, pair_inputs, train_reward_model
from prefkit.reward.train import RewardConfig

WORDS = [
    *("apple", "river", "stone", "cloud", "music"),
    *("garden", "silver", "window", "forest", "paper"),
]
HASHING = FeatureSpec(encoder="hashing")


def _sentence(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(rng.choice(WORDS, n_words))


def _context_pairs(n: int, seed: int) -> pd.DataFrame:
    """Short vs long answers; the stated criterion decides which one wins."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        short, long = _sentence(rng, 3), _sentence(rng, 15)
        wants_short = i % 2 == 0
        a_is_short = rng.random() < 0.5
        rows.append(
            {
                "prompt": "Describe the scene.",
                "context": "prefer brief terse answers"
                if wants_short
                else "prefer detailed thorough answers",
                "response_a": short if a_is_short else long,
                "response_b": long if a_is_short else short,
                "winner": "a" if a_is_short == wants_short else "b",
            }
        )
    return pd.DataFrame(rows)


def _accuracy(model: RewardModel, table: pd.DataFrame) -> float:
    p = model.predict_proba(table)
    return float(np.mean((p > 0.5) == (table["winner"] == "a")))


def test_context_aware_model_follows_the_criterion():
    """With the context block the model follows the criterion; without, chance."""
    train, test = _context_pairs(600, 0), _context_pairs(300, 1)
    config = RewardConfig(hidden=32, dropout=0.1, lr=3e-3, seed=0)
    with_ctx = train_reward_model(train, config, HASHING)
    without = train_reward_model(
        train, config, FeatureSpec(encoder="hashing", use_context=False)
    )
    assert _accuracy(with_ctx, test) > 0.9
    assert 0.35 < _accuracy(without, test) < 0.65


def test_save_load_round_trip_gives_identical_scores(tmp_path):
    """A saved and reloaded model gives bit-identical p_a and rewards."""
    table = _context_pairs(200, 2)
    model = train_reward_model(table, RewardConfig(hidden=16, max_epochs=5), HASHING)
    folder = model.save(tmp_path / "rm")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    again = RewardModel.load(folder)
    assert np.array_equal(model.predict_proba(table), again.predict_proba(table))
    prompts, responses = list(table["prompt"]), list(table["response_a"])
    assert np.array_equal(
        model.score(prompts, responses), again.score(prompts, responses)
    )
    assert again.config == model.config and again.features == model.features
    assert len(again.history) == len(model.history)


def test_gpm_model_round_trip_and_no_scalar_score(tmp_path):
    """A GPM model reloads identically and refuses a scalar reward."""
    table = _context_pairs(200, 3)
    model = train_reward_model(
        table, RewardConfig(head="gpm", hidden=16, max_epochs=5), HASHING
    )
    again = RewardModel.load(model.save(tmp_path / "gpm"))
    assert np.array_equal(model.pair_logits(table), again.pair_logits(table))
    with pytest.raises(PrefkitError, match=r"no scalar reward"):
        again.score(["p"], ["r"])


def test_swapping_sides_flips_the_probability():
    """Swapping response_a and response_b turns p_a into 1 - p_a."""
    table = _context_pairs(100, 4)
    model = train_reward_model(table, RewardConfig(hidden=8, max_epochs=5), HASHING)
    swapped = table.rename(
        columns={"response_a": "response_b", "response_b": "response_a"}
    )
    assert np.allclose(
        model.predict_proba(table), 1 - model.predict_proba(swapped), atol=1e-6
    )


def test_pair_inputs_validation():
    """Missing responses, missing or unknown verdicts and empty tables raise."""
    ok = pd.DataFrame({"response_a": ["x"], "response_b": ["y"], "winner": ["a"]})
    assert pair_inputs(ok, True).y.tolist() == [1.0]
    with pytest.raises(PrefkitDataError, match=r"response_b: column missing"):
        pair_inputs(ok.drop(columns="response_b"), True)
    with pytest.raises(PrefkitDataError, match=r"winner: column missing"):
        pair_inputs(ok.drop(columns="winner"), True)
    with pytest.raises(PrefkitDataError, match=r"unknown verdict.*'draw'"):
        pair_inputs(ok.assign(winner="draw"), True)
    with pytest.raises(PrefkitDataError, match=r"<table>:1: response_a: not a text"):
        pair_inputs(ok.assign(response_a=[None]), True)
    with pytest.raises(PrefkitDataError, match=r"no pairs"):
        pair_inputs(ok.iloc[:0], True)


def test_load_rejects_other_folders(tmp_path):
    """Loading a folder that is not a saved model says what is missing."""
    with pytest.raises(PrefkitError, match=r"is not a saved reward model"):
        RewardModel.load(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(PrefkitError, match=r"not valid JSON"):
        RewardModel.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(PrefkitError, match=r"unknown model format"):
        RewardModel.load(tmp_path)


def test_feature_spec_and_encoder_validation():
    """Unknown encoders and a bad prompt_chars are rejected; hashing is unit-norm."""
    with pytest.raises(PrefkitError, match=r"FeatureSpec.encoder is 'bert'"):
        FeatureSpec(encoder="bert")  # type: ignore[arg-type]
    with pytest.raises(PrefkitError, match=r"FeatureSpec.prompt_chars is 0"):
        FeatureSpec(prompt_chars=0)
    with pytest.raises(PrefkitError, match=r"unknown encoder 'bert'"):
        get_encoder("bert")  # type: ignore[arg-type]
    vectors = HashingEncoder(16).encode(["a b c", "hello"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert FeatureSpec().n_features(384) == 4 * 384 + 1


def test_score_ratings_bt_and_gpm():
    """BT ratings are rewards; GPM ratings are mean logits against the others."""
    from prefkit.reward.scoring import judge_pairs, score_ratings

    table = _context_pairs(100, 5)
    candidates = pd.DataFrame(
        {
            "prompt_id": ["p1", "p1", "p2"],
            "prompt": ["Describe the scene."] * 3,
            "response": ["stone cloud", "apple river music garden", "paper"],
        }
    )
    bt = train_reward_model(table, RewardConfig(hidden=8, max_epochs=3), HASHING)
    rated = score_ratings(bt, candidates)
    assert np.allclose(
        rated["score"],
        bt.score(list(candidates["prompt"]), list(candidates["response"])),
    )
    gpm = train_reward_model(
        table, RewardConfig(head="gpm", hidden=8, max_epochs=3), HASHING
    )
    scores = score_ratings(gpm, candidates)["score"].to_numpy()
    pair = pd.DataFrame(
        {
            "prompt": ["Describe the scene."],
            "response_a": ["stone cloud"],
            "response_b": ["apple river music garden"],
        }
    )
    s_ab = gpm.pair_logits(pair)[0]
    assert scores == pytest.approx([s_ab, -s_ab, 0.0], abs=1e-5)
    judged = judge_pairs(gpm, table.head(4), judge="rm:test")
    assert judged["gold"].tolist() == table["winner"].head(4).tolist()
    assert ((judged["p_a"] > 0.5) == (judged["winner"] == "a")).all()
    with pytest.raises(PrefkitDataError, match=r"response: column missing"):
        score_ratings(bt, table)
