"""The data commands: info, validate, convert, formats (through typer's runner)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from prefkit.cli.main import app
from prefkit.data import load
from tests.conftest import need

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_info_llmfao_reports_models_and_votes(shared_data):
    """info --json on the crowd votes reports 59 models and 8,931 votes."""
    path = need(shared_data / "llmfao/crowd-comparisons.jsonl")
    result = _run("info", str(path), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["n_models"] == 59 and len(info["models"]) == 59
    assert info["n_comparisons"] == 8931 and info["ties"] == 3471
    assert info["judges"] == {"crowd": 8931}
    assert info["connected"] is True and info["format"] == "llmfao"


def test_info_without_file_uses_builtin_table():
    """info with no file summarises the shipped demo battles."""
    result = _run("info", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["format"] == "arena" and info["rows"] == 60 and info["n_models"] == 5
    text = _run("info")
    assert "comparison graph: connected" in text.stdout


def test_info_lists_components_when_disconnected(tmp_path):
    """A graph in two pieces is reported with both components."""
    path = tmp_path / "two.jsonl"
    rows = [("x", "y", "a"), ("y", "x", "tie"), ("u", "v", "b")]
    path.write_text(
        "".join(
            json.dumps({"model_a": a, "model_b": b, "winner": w}) + "\n"
            for a, b, w in rows
        )
    )
    info = json.loads(_run("info", str(path), "--json").stdout)
    assert info["connected"] is False
    assert info["components"] == [["u", "v"], ["x", "y"]]
    assert "NOT connected, 2 components" in _run("info", str(path)).stdout


def test_convert_hh_to_trl_loads_back(tmp_path, shared_data):
    """convert of HH helpful-base test to TRL yields 2,354 rows that load back."""
    source = need(shared_data / "hh_rlhf/helpful-base_test.jsonl.gz")
    out = tmp_path / "hh.jsonl"
    result = _run("convert", str(source), "--to", "trl", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 2354 and report["format"] == "hh"
    back = load(out)
    assert len(back) == 2354 and back.attrs["prefkit_format"] == "trl"
    first = json.loads(out.read_text().splitlines()[0])
    assert set(first) == {"prompt", "chosen", "rejected"}
    assert first["chosen"][0]["role"] == "assistant"


@pytest.mark.parametrize("to", ["jsonl", "parquet", "csv"])
def test_convert_to_tables_round_trips(tmp_path, to):
    """Converting the demo table to each file format reads back equal."""
    from prefkit.data.builtin import builtin_path

    out = tmp_path / f"demo.{to}"
    result = _run("convert", str(builtin_path()), "--to", to, "-o", str(out))
    assert result.exit_code == 0, result.output
    back = load(out)
    original = load(builtin_path())
    assert (
        back["winner"].astype(str).tolist() == original["winner"].astype(str).tolist()
    )
    assert back["model_a"].tolist() == original["model_a"].tolist()


def test_convert_refuses_mismatched_suffix(tmp_path):
    """--to csv with a .jsonl output is one clean error line, exit 2."""
    from prefkit.data.builtin import builtin_path

    result = _run(
        "convert", str(builtin_path()), "--to", "csv", "-o", str(tmp_path / "x.jsonl")
    )
    assert result.exit_code == 2
    assert "name the output *.csv" in result.output


def test_convert_refuses_unknown_target(tmp_path):
    """An unknown --to lists the valid targets."""
    result = _run("convert", "x.jsonl", "--to", "xml", "-o", str(tmp_path / "x.xml"))
    assert result.exit_code == 2 and "trl, jsonl, csv, parquet" in result.output


def test_convert_ratings_to_trl_is_refused(tmp_path, shared_data):
    """Only pairs or comparisons with texts can become TRL data."""
    source = need(shared_data / "arena_hard/arena_bench_v1_questions.jsonl.gz")
    result = _run(
        "convert", str(source), "--to", "trl", "-o", str(tmp_path / "t.jsonl")
    )
    assert result.exit_code == 2 and "cannot become TRL" in result.output


def test_validate_bad_line_names_it(tmp_path):
    """validate prints one line naming the bad line and exits non-zero."""
    path = tmp_path / "battles.jsonl"
    lines = [
        {"model_a": "x", "model_b": "y", "winner": "a"},
        {"model_a": "x", "model_b": "y", "winner": "b"},
        {"model_a": "x", "model_b": "y", "winner": "draw"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = _run("validate", str(path))
    assert result.exit_code == 1
    out = result.stdout.strip().splitlines()
    expected = "winner: unknown outcome label (got 'draw'; expected one of a, b, tie)"
    assert out == [f"{path}:3: {expected}"]


def test_validate_bad_json_line_json_output(tmp_path):
    """validate --json lists the problem with its line number."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "a"}\n{"model_a": \n')
    result = _run("validate", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["problems"][0]["line"] == 2


def test_validate_ok_counts_rows(shared_data):
    """A valid file prints ok with its row count."""
    result = _run("validate", str(need(shared_data / "llmbar/instances.jsonl")))
    assert result.exit_code == 0 and result.stdout.startswith("ok: 485 rows")


def test_validate_kind_checks_as_that_table(tmp_path):
    """--kind ratings on a comparisons file reports the missing columns."""
    path = tmp_path / "c.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "a"}\n')
    result = _run("validate", str(path), "--kind", "ratings")
    assert result.exit_code == 1 and "prompt_id: missing column" in result.stdout
    bad = _run("validate", str(path), "--kind", "votes")
    assert bad.exit_code == 2 and "unknown kind 'votes'" in bad.output


def test_missing_file_is_one_clean_line(tmp_path):
    """A missing file is an error line and exit 1, no traceback."""
    result = _run("info", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "no such file" in result.output and "Traceback" not in result.output


def test_unknown_format_lists_valid_ones(tmp_path):
    """An unknown --format names the registered ones."""
    from prefkit.data.builtin import builtin_path

    result = _run("info", str(builtin_path()), "--format", "nope")
    assert result.exit_code == 2 and "llmfao" in result.output


def test_formats_lists_registry():
    """formats --json lists every registered reader with its table kind."""
    rows = json.loads(_run("formats", "--json").stdout)
    names = {r["name"]: r["kind"] for r in rows}
    assert names["hh"] == "pairs" and names["llmfao"] == "comparisons"
    assert names["arena_bench_grades"] == "ratings" and names["mt_bench"] == "prompts"


def test_every_command_has_help_text():
    """Every command (and group) has a docstring help with an example."""
    seen = 0
    for command in typer.main.get_command(app).commands.values():  # type: ignore[attr-defined]
        assert command.help, f"{command.name} has no help text"
        seen += 1
    data = [
        c
        for c in app.registered_commands
        if c.name in {"info", "validate", "convert", "formats"}
    ]
    assert len(data) == 4 and seen >= 4
    for command in data:
        assert "Example: prefkit" in command.callback.__doc__


def test_reader_warning_is_one_clean_line(shared_data):
    """A reader's warning (null grades left out) is one 'warning:' line."""
    path = need(shared_data / "arena_hard/arena_bench_v1_gpt4_single_grades.jsonl.gz")
    result = _run("info", str(path))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "left out 17" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ")
    assert "left out: 17 rows (score is null)" in result.output


def test_convert_to_csv_refuses_list_columns(tmp_path, shared_data):
    """CSV cannot keep message lists: the command says to use jsonl or parquet."""
    source = need(shared_data / "mt_bench/mt_bench_questions.jsonl")
    result = _run("convert", str(source), "--to", "csv", "-o", str(tmp_path / "q.csv"))
    assert result.exit_code == 2 and "convert to jsonl or parquet" in result.output


def test_validate_kind_and_format_together_refused(tmp_path):
    """--kind and --format together are a usage error."""
    path = tmp_path / "c.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "a"}\n')
    result = _run("validate", str(path), "--kind", "comparisons", "--format", "arena")
    assert result.exit_code == 2 and "not both" in result.output


def test_convert_comparisons_to_trl_drops_ties(tmp_path, shared_data):
    """AlpacaEval judgments become chosen/rejected pairs; ties are left out."""
    import gzip

    real = need(
        shared_data / "alpaca_eval/annotations_weighted_alpaca_eval_gpt4_turbo.jsonl.gz"
    )
    with gzip.open(real, "rt") as handle:
        records = [json.loads(next(handle)) for _ in range(60)]
    # two ties by hand (preference exactly 1.5), on real records
    records[3]["preference"] = records[7]["preference"] = 1.5
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "a.jsonl"
    result = _run("convert", str(source), "--to", "trl", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "alpaca_eval" and report["kind"] == "comparisons"
    assert report["rows"] == 58
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for k, record in ((0, records[0]), (3, records[4])):
        better = "output_1" if record["preference"] < 1.5 else "output_2"
        assert rows[k]["chosen"] == record[better]
        assert rows[k]["prompt"] == record["instruction"]


def _unjudged_file(tmp_path):
    """Three verdicts with texts: one a, one tie, one unparsable."""
    rows = [
        {"winner": "a", "unparsable": False},
        {"winner": "tie", "unparsable": False},
        {"winner": None, "unparsable": True},
    ]
    path = tmp_path / "verdicts.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "prompt": "p",
                    "model_a": "x",
                    "model_b": "y",
                    "response_a": "ra",
                    "response_b": "rb",
                    **row,
                }
            )
            + "\n"
            for row in rows
        )
    )
    return path


def test_convert_trl_says_what_it_left_out(tmp_path):
    """convert --to trl reports the ties and unjudged rows it drops, in JSON too."""
    path = _unjudged_file(tmp_path)
    result = _run("convert", str(path), "--to", "trl", "-o", str(tmp_path / "t.jsonl"))
    assert result.exit_code == 0, result.output
    assert (
        "warning: " + str(path) + ": left out 2 of 3 rows (1 tie, 1 without a verdict)"
    ) in result.stderr
    out = tmp_path / "t2.jsonl"
    result = _run("convert", str(path), "--to", "trl", "-o", str(out), "--json")
    info = json.loads(result.stdout)
    assert info["rows"] == 1
    assert info["dropped"] == {"n": 2, "reason": "1 tie, 1 without a verdict"}


@pytest.mark.parametrize("to", ["jsonl", "csv", "parquet"])
def test_converted_unparsable_verdicts_validate_and_rank(tmp_path, to):
    """prefkit reads its own output back, and rank says how many rows it drops."""
    out = tmp_path / f"c.{to}"
    result = _run("convert", str(_unjudged_file(tmp_path)), "--to", to, "-o", str(out))
    assert result.exit_code == 0, result.output
    result = _run("validate", str(out))
    assert result.stdout.startswith("ok: 3 rows"), result.output


def test_rank_drops_unjudged_rows_with_one_warning_line(tmp_path):
    """rank on a file with an unparsable verdict warns once, cleanly, and ranks."""
    path = tmp_path / "v.jsonl"
    lines = [
        {"model_a": "x", "model_b": "y", "winner": "a"},
        {"model_a": "y", "model_b": "x", "winner": "a"},
        {"model_a": "x", "model_b": "y", "winner": None, "unparsable": True},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = _run("rank", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {path}: dropped 1 of 3 rows without a winner (1 flagged unparsable)"
    ) in result.stderr


@pytest.mark.parametrize("fmt", ["hh", "trl"])
def test_info_forced_format_without_its_fields_is_one_line(tmp_path, fmt):
    """info --format hh/trl on comparisons is one clean error line, no traceback."""
    path = tmp_path / "c.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "a"}\n')
    result = _run("info", str(path), "--format", fmt)
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {path}: ")
    assert f"missing field for format '{fmt}'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_kind_help_matches_accepted_kinds(tmp_path):
    """validate's help lists only the kinds --kind accepts; 'table' is refused."""
    boxed = _run("validate", "--help").stdout
    help_text = " ".join(boxed.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
    assert "comparisons, rankings, ratings, pairs, candidates, prompts." in help_text
    assert "prompts, table" not in help_text
    path = tmp_path / "c.jsonl"
    path.write_text('{"model_a": "x", "model_b": "y", "winner": "a"}\n')
    result = _run("validate", str(path), "--kind", "table")
    assert result.exit_code == 2
    assert "unknown kind 'table'" in result.stderr
