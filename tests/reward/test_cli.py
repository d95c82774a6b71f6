"""``prefkit reward train|eval|score`` and the ``rm:PATH`` judge backend."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app
from prefkit.reward.model import RewardModel
from tests.reward.test_model import _context_pairs

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    """A small comparisons file of criterion-dependent pairs."""
    path = tmp_path_factory.mktemp("rm") / "pairs.jsonl"
    _context_pairs(240, 0).to_json(path, orient="records", lines=True)
    return path


@pytest.fixture(scope="module")
def trained(pairs_file, tmp_path_factory):
    """A model trained through the CLI (hashing features, fast)."""
    out = tmp_path_factory.mktemp("rm") / "model"
    result = _run(
        "reward",
        "train",
        str(pairs_file),
        "--out",
        str(out),
        "--encoder",
        "hashing",
        "--hidden",
        "16",
        "--lr",
        "0.003",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_pairs"] == 240 and summary["head"] == "bt"
    return out


def test_every_reward_command_has_help_with_an_example():
    """train, eval and score each show help text with an example."""
    for command in ("train", "eval", "score"):
        result = _run("reward", command, "--help")
        assert result.exit_code == 0 and "Example: prefkit reward" in result.stdout


def test_train_writes_a_loadable_model(trained, pairs_file):
    """The saved folder loads with its settings and orders the pairs well."""
    model = RewardModel.load(trained)
    assert model.config.hidden == 16 and model.features.encoder == "hashing"
    table = pd.read_json(pairs_file, lines=True)
    p_a = model.predict_proba(table)
    assert np.mean((p_a > 0.5) == (table["winner"] == "a")) > 0.9


def test_eval_with_model_reports_accuracy_and_longer(trained, pairs_file):
    """eval --model --json gives accuracy with CI beside pick-longer."""
    result = _run("reward", "eval", str(pairs_file), "--model", str(trained), "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["subset"] == "all" and row["n"] == 240
    assert row["accuracy"] > 0.9 and row["lower"] < row["accuracy"] <= row["upper"]
    # the shorter answer wins half of the pairs: pick-longer is near chance
    assert 0.35 < row["longer_accuracy"] < 0.65


def test_eval_kfold_runs_without_a_model(pairs_file):
    """eval without --model cross-validates the recipe."""
    result = _run(
        "reward",
        "eval",
        str(pairs_file),
        "--kfold",
        "3",
        "--encoder",
        "hashing",
        "--hidden",
        "16",
        "--lr",
        "0.003",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["accuracy"] > 0.8


def test_score_pairs_and_responses(trained, pairs_file, tmp_path):
    """score gives p_a per pair and a score per response, matching the library."""
    out = tmp_path / "judged.jsonl"
    result = _run("reward", "score", str(trained), str(pairs_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    judged = pd.read_json(out, lines=True)
    model = RewardModel.load(trained)
    table = pd.read_json(pairs_file, lines=True)
    assert np.allclose(judged["p_a"], model.predict_proba(table), atol=1e-6)
    assert set(judged["judge"]) == {f"rm:{trained.name}"}
    responses = tmp_path / "responses.jsonl"
    table.rename(columns={"response_a": "response"}).drop(
        columns=["response_b", "winner"]
    ).to_json(responses, orient="records", lines=True)
    result = _run("reward", "score", str(trained), str(responses), "--json")
    assert result.exit_code == 0, result.output
    scores = [r["score"] for r in json.loads(result.stdout)]
    expected = model.score(
        list(table["prompt"]), list(table["response_a"]), list(table["context"])
    )
    assert np.allclose(scores, expected, atol=1e-5)


def test_cli_errors_are_one_clean_line(tmp_path, pairs_file):
    """A missing model folder and a bad input table exit non-zero with one line."""
    result = _run("reward", "eval", str(pairs_file), "--model", str(tmp_path))
    assert result.exit_code == 2 and "is not a saved reward model" in result.output
    assert "Traceback" not in result.output
    result = _run("reward", "train", "--encoder", "hashing")
    assert result.exit_code == 2 and "either a DATA file or --benchmark" in (
        result.output
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"foo": 1}) + "\n")
    result = _run("reward", "score", str(trained_dummy(tmp_path)), str(bad))
    assert result.exit_code == 2 and "neither response_a/response_b" in result.output


def trained_dummy(tmp_path):
    """A tiny saved model for error tests."""
    from prefkit.reward import FeatureSpec, RewardConfig, train_reward_model

    model = train_reward_model(
        _context_pairs(40, 9),
        RewardConfig(hidden=0, max_epochs=2),
        FeatureSpec(encoder="hashing"),
    )
    return model.save(tmp_path / "dummy")


def test_rm_judge_backend(trained):
    """rm:PATH builds a response scorer whose scores are the model's rewards."""
    judge_backends = pytest.importorskip("prefkit.judge.backends")
    import prefkit.reward.backend  # noqa: F401

    backend = judge_backends.make_backend(f"rm:{trained}")
    assert isinstance(backend, judge_backends.ResponseScorer)
    assert backend.scale == 1.0 and backend.model == trained.name
    scores = backend.score_responses(["Describe the scene."], ["stone cloud"])
    model = RewardModel.load(trained)
    assert np.allclose(scores, model.score(["Describe the scene."], ["stone cloud"]))
    with pytest.raises(judge_backends.JudgeError, match=r"needs the folder"):
        judge_backends.make_backend("rm:")
    with pytest.raises(judge_backends.JudgeError, match=r"not a reward-model config"):
        judge_backends.make_backend(f"rm:{trained.parent}")


def test_rm_judge_gives_sigmoid_of_reward_difference(trained, pairs_file):
    """prefkit.judge.judge_pairs with rm:PATH gives p_a = sigmoid(r_a - r_b).

    The judge's scorer protocol passes no context, so neither side uses one.
    """
    judge = pytest.importorskip("prefkit.judge")
    table = pd.read_json(pairs_file, lines=True).head(6).drop(columns=["context"])
    pairs = table.drop(columns=["winner"]).assign(
        prompt_id=[f"q{i}" for i in range(6)], model_a="x", model_b="y"
    )
    judged = judge.judge_pairs(pairs, f"rm:{trained}", progress=False)
    model = RewardModel.load(trained)
    expected = model.predict_proba(table)
    got = judged.set_index("prompt_id").loc[pairs["prompt_id"], "p_a"].to_numpy()
    # float32 features scored in other batches differ in the last digits
    assert np.allclose(got, expected, atol=1e-3)
