"""Tests of the ``prefkit optimize`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app

runner = CliRunner()


def test_every_command_has_help_with_example() -> None:
    """Each optimize command documents itself with an example."""
    for command in ("losses", "train", "ranking", "curriculum"):
        result = runner.invoke(app, ["optimize", command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output


def test_losses_json_lists_registry() -> None:
    """--json lists every loss with its hyper-parameters."""
    result = runner.invoke(app, ["optimize", "losses", "--json"])
    assert result.exit_code == 0
    rows = {r["loss"]: r for r in json.loads(result.output)}
    assert rows["rdpo"]["hyper_parameters"] == "beta=0.1, epsilon=0.1"
    assert len(rows) == 11


def test_curriculum_writes_pairs(tmp_path: Path) -> None:
    """The curriculum command writes ordered pairs and reports their number."""
    ratings = tmp_path / "ratings.jsonl"
    pd.DataFrame(
        {
            "prompt_id": ["p"] * 3, "prompt": ["P"] * 3, "model": ["a", "b", "c"],
            "response": ["A", "B", "C"], "score": [3.0, 2.0, 0.0],
        }
    ).to_json(ratings, orient="records", lines=True)  # fmt: skip
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(
        app, ["optimize", "curriculum", str(ratings), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pairs"] == 3
    written = pd.read_json(out, lines=True)
    assert written["gap"].tolist() == [3.0, 2.0, 1.0]


def test_bad_param_is_one_clean_line(tmp_path: Path) -> None:
    """A malformed --param fails with one line and exit code 2."""
    pairs = tmp_path / "pairs.jsonl"
    pd.DataFrame({"prompt": ["q"], "chosen": ["a"], "rejected": ["b"]}).to_json(
        pairs, orient="records", lines=True
    )
    result = runner.invoke(
        app,
        [
            "optimize",
            "train",
            str(pairs),
            "--out",
            str(tmp_path / "m"),
            "--param",
            "beta",
        ],
    )
    assert result.exit_code == 2
    assert "expected NAME=NUMBER" in result.output
    assert "Traceback" not in result.output


def test_unknown_columns_clean_error(tmp_path: Path) -> None:
    """A pairs file in no known format is a clean error."""
    pairs = tmp_path / "pairs.jsonl"
    pd.DataFrame({"q": ["x"]}).to_json(pairs, orient="records", lines=True)
    result = runner.invoke(
        app, ["optimize", "train", str(pairs), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "neither prompt/chosen/rejected" in result.output


def _tiny_model_folder(tmp_path: Path) -> Path:
    """The tiny random model and SmolLM2's tokenizer saved as a model folder."""
    from prefkit.models import MissingModelError
    from prefkit.models.hf import smollm2_hf_dir
    from tests.optimize.conftest import make_tiny_model

    try:
        folder = smollm2_hf_dir()
    except MissingModelError as exc:
        pytest.skip(str(exc))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    out = tmp_path / "tiny"
    make_tiny_model(tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_train_listwise_on_a_ranked_table(tmp_path: Path) -> None:
    """--loss listwise reads a ranked table; step 1 is log 3! for k = 3."""
    import math

    ranked = tmp_path / "ranked.jsonl"
    pd.DataFrame(
        {
            "prompt": ["Q?"] * 3 + ["R?"] * 3 + ["S?"],
            "response": ["a", "b", "c", "d", "e", "f", "g"],
            "rank": [2, 1, 3, 1, 2, 3, 1],
        }
    ).to_json(ranked, orient="records", lines=True)
    model = _tiny_model_folder(tmp_path)
    result = runner.invoke(
        app,
        [
            "optimize", "train", str(ranked), "--loss", "listwise", "--model",
            str(model), "--steps", "1", "--out", str(tmp_path / "m"), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    history = json.loads(result.output[result.output.index("{") :])["history"]
    assert history[0]["loss"] == pytest.approx(math.log(6), abs=1e-6)


def test_train_listwise_unknown_table_clean_error(tmp_path: Path) -> None:
    """A listwise table in no known format names what it needs."""
    table = tmp_path / "t.jsonl"
    pd.DataFrame({"prompt": ["q"], "response": ["x"]}).to_json(
        table, orient="records", lines=True
    )
    result = runner.invoke(
        app,
        ["optimize", "train", str(table), "--loss", "listwise", "--out", "m"],
    )
    assert result.exit_code == 2
    assert "--loss listwise needs a ranked table" in result.output
    assert "Traceback" not in result.output


def test_scores_only_for_listwise(tmp_path: Path) -> None:
    """--scores with a pairwise loss is refused with a clean line."""
    pairs = tmp_path / "pairs.jsonl"
    pd.DataFrame({"prompt": ["q"], "chosen": ["a"], "rejected": ["b"]}).to_json(
        pairs, orient="records", lines=True
    )
    result = runner.invoke(
        app,
        ["optimize", "train", str(pairs), "--scores", str(pairs), "--out", "m"],
    )
    assert result.exit_code == 2
    assert "--scores is only for --loss listwise" in result.output


def _write_pairs(path: Path, n: int = 4) -> Path:
    """``n`` distinct pairs as JSONL."""
    pd.DataFrame(
        {
            "prompt": [f"q{i}" for i in range(n)],
            "chosen": [f"good {i}" for i in range(n)],
            "rejected": [f"bad {i}" for i in range(n)],
        }
    ).to_json(path, orient="records", lines=True)
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", b"nope\n", "bad.jsonl:1: -: not valid JSON"),
        ("list.jsonl", b"[1,2]\n", "list.jsonl:1: -: not a JSON object (got [1, 2]"),
        ("bytes.jsonl", b'\xff{"a":1}\n', "bytes.jsonl:1: -: not valid UTF-8"),
        ("gz.jsonl.gz", b"not gzip", "gz.jsonl.gz: -: not a readable gzip file"),
        ("blank.jsonl", b"\nnope\n", "blank.jsonl:2: -: not valid JSON"),
    ],
)
def test_unreadable_pairs_file_is_one_error_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    """The HH sniff never raises: the reader names the file and line."""
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["optimize", "ranking", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {tmp_path}/{message}")
    assert len(result.output.strip().splitlines()) == 1


def test_skip_past_the_end_says_so(tmp_path: Path) -> None:
    """--skip beyond the last row is named, not reported as ties."""
    pairs = _write_pairs(tmp_path / "pairs.jsonl")
    result = runner.invoke(app, ["optimize", "ranking", str(pairs), "--skip", "100"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: pairs.jsonl: --skip 100 passes the end of the file (4 rows); skip fewer"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ranking", "--beta", "0"], "--beta must be > 0 and finite (got 0.0)"),
        (["ranking", "--beta", "-1"], "--beta must be > 0 and finite (got -1.0)"),
        (["ranking", "--preference", "2"], "--preference must be in [0, 1] (got 2.0)"),
        (["ranking", "--max-length", "1"], "--max-length must be >= 2 (got 1)"),
        (
            ["ranking", "--max-prompt-length", "0"],
            "`max_prompt_length` must be >= 1 (got 0)",
        ),
        (["ranking", "--model", "{tmp}/none"], "--model {tmp}/none: no such folder"),
        (
            ["ranking", "--reference", "{tmp}"],
            "--reference {tmp}: not a model folder (no config.json)",
        ),
        (
            ["train", "--out", "{tmp}/m", "--param", "beta=-1"],
            "`loss_params` beta=-1.0: must be > 0 and finite",
        ),
        (
            ["train", "--out", "{tmp}/m", "--param", "beta=nan"],
            "`loss_params` beta=nan: must be > 0 and finite",
        ),
        (
            ["train", "--out", "{tmp}/m", "--model", "{tmp}"],
            "--model {tmp}: not a model folder (no config.json)",
        ),
    ],
)
def test_bad_settings_fail_before_model_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    """Settings are checked before the file is read or a model is loaded."""
    import prefkit.cli.optimize as cli

    def no_work(*_: object) -> None:
        raise AssertionError("read or loaded before the settings were checked")

    monkeypatch.setattr(cli, "_load_model", no_work)
    monkeypatch.setattr(cli, "_read_training", no_work)
    monkeypatch.setattr(cli, "_read_pairs", no_work)
    command, *options = (a.replace("{tmp}", str(tmp_path)) for a in args)
    result = runner.invoke(app, ["optimize", command, "pairs.jsonl", *options])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message.replace('{tmp}', str(tmp_path))}")
