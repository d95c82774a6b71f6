"""Readers and writers: round trips, line numbers, streaming, bad files."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from prefkit.data import (
    iter_jsonl,
    judged_only,
    load,
    read_table,
    validate_comparisons,
    write_table,
)
from prefkit.data.io import read_jsonl
from prefkit.data.schema import LINES_ATTR
from prefkit.errors import DroppedRowsWarning, PrefkitDataError

TABLE = pd.DataFrame(
    {
        "prompt_id": ["1", "2", "3"],
        "model_a": ["x", "y", "x"],
        "model_b": ["y", "z", "z"],
        "winner": ["a", "tie", "b"],
        "p_a": [0.9, 0.5, np.nan],
        "judge": ["j1", "j2", None],
        "swapped": [False, True, False],
    }
)


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "csv", "parquet"])
def test_round_trip(tmp_path, suffix):
    """A comparisons table written and loaded back is unchanged."""
    path = write_table(TABLE, tmp_path / f"t.{suffix}")
    back = load(path)
    assert back["winner"].astype(str).tolist() == ["a", "tie", "b"]
    assert back["prompt_id"].tolist() == ["1", "2", "3"]
    np.testing.assert_allclose(back["p_a"], TABLE["p_a"])
    assert back["swapped"].tolist() == [False, True, False]
    assert back["judge"].isna().tolist() == [False, False, True]


def test_blank_lines_keep_line_numbers(tmp_path):
    """With blank lines, a bad value is still reported on its real line."""
    path = tmp_path / "b.jsonl"
    path.write_text(
        '{"model_a":"x","model_b":"y","winner":"a"}\n\n\n'
        '{"model_a":"x","model_b":"y","winner":"?"}\n'
    )
    with pytest.raises(PrefkitDataError, match=r"b.jsonl:4: winner"):
        load(path)


def test_arrow_path_line_numbers(tmp_path):
    """Without blank lines (Arrow's path) rows map to lines 1..n."""
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"k": k}) + "\n" for k in range(5)))
    assert read_jsonl(path).attrs[LINES_ATTR].tolist() == [1, 2, 3, 4, 5]


def test_bad_json_lines_all_named(tmp_path):
    """Every bad line is listed, each with what is wrong."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": \n[1, 2]\n{"a": "\xff"}\n')
    with pytest.raises(PrefkitDataError) as info:
        read_jsonl(path)
    lines = {p.line: p.message for p in info.value.problems}
    assert set(lines) == {2, 3, 4}
    assert "not valid JSON" in lines[2] and "not a JSON object" in lines[3]
    assert "not valid UTF-8" in lines[4]


def test_empty_and_missing_files(tmp_path):
    """Empty, missing, folder and unknown-suffix inputs are clean errors."""
    (tmp_path / "e.jsonl").write_text("\n  \n")
    with pytest.raises(PrefkitDataError, match="empty file"):
        read_jsonl(tmp_path / "e.jsonl")
    with pytest.raises(PrefkitDataError, match="no such file"):
        read_table(tmp_path / "missing.jsonl")
    with pytest.raises(PrefkitDataError, match="is a folder"):
        read_jsonl(tmp_path)
    with pytest.raises(PrefkitDataError, match="unknown file type"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "g.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(PrefkitDataError, match="not a readable gzip file"):
        read_jsonl(tmp_path / "g.jsonl.gz")


def test_json_array_file(tmp_path):
    """A JSON array of objects (AlpacaEval model_outputs.json) is read too."""
    path = tmp_path / "model_outputs.json"
    records = [
        {"instruction": f"q{k}", "output": f"o{k}", "generator": "m"} for k in range(3)
    ]
    path.write_text(json.dumps(records, indent=2))
    df = load(path)
    assert df.attrs["prefkit_format"] == "alpaca_eval_outputs" and len(df) == 3
    path.write_text(json.dumps([records[0], 5]))
    with pytest.raises(
        PrefkitDataError, match=r"model_outputs.json:2: -: not a JSON object"
    ):
        read_jsonl(path)


def test_iter_jsonl_streams_in_batches(tmp_path):
    """iter_jsonl yields bounded batches carrying their line numbers."""
    path = tmp_path / "s.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        for k in range(10):
            handle.write(json.dumps({"k": k}) + "\n")
    batches = list(iter_jsonl(path, batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert batches[2].attrs[LINES_ATTR].tolist() == [9, 10]


def test_iter_jsonl_names_bad_line(tmp_path):
    """A bad line stops the stream with its number."""
    path = tmp_path / "s.jsonl"
    path.write_text('{"k": 1}\n{"k": \n')
    with pytest.raises(PrefkitDataError, match=r"s.jsonl:2: -: not valid JSON"):
        list(iter_jsonl(path))


def test_csv_reports_header_offset(tmp_path):
    """CSV row i is line i + 2 (after the header)."""
    path = tmp_path / "t.csv"
    path.write_text("model_a,model_b,winner\nx,y,a\nx,y,draw\n")
    with pytest.raises(PrefkitDataError, match=r"t.csv:3: winner"):
        load(path)


UNPARSABLE = pd.DataFrame(
    {
        "model_a": ["x", "x", "y"],
        "model_b": ["y", "y", "x"],
        "winner": ["a", None, "tie"],
        "unparsable": [False, True, False],
        "swapped": [True, None, False],
    }
)


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_round_trip_keeps_unparsable_rows(tmp_path, suffix):
    """A table with unparsable verdicts and unknown order reads back as written."""
    table = validate_comparisons(UNPARSABLE)
    back = load(write_table(table, tmp_path / f"u.{suffix}"))
    assert back["winner"].isna().tolist() == [False, True, False]
    assert back["unparsable"].tolist() == [False, True, False]
    assert back["swapped"].isna().tolist() == [False, True, False]
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 3 rows"):
        assert judged_only(back)["winner"].tolist() == ["a", "tie"]


def test_csv_keeps_na_and_null_as_model_names(tmp_path):
    """Only an empty CSV cell is missing; NA and null are model names."""
    path = tmp_path / "na.csv"
    path.write_text("model_a,model_b,winner,weight\nNA,null,a,\nnull,NA,b,2\n")
    table = load(path)
    assert table["model_a"].tolist() == ["NA", "null"]
    assert table["weight"].tolist() == [1.0, 2.0]


def test_truncated_json_line_wording(tmp_path):
    """A control character inside a string is reported without a doubled 'at'."""
    path = tmp_path / "cut.jsonl"
    path.write_text('{"model_a":"x"}\n{"model_a":"x\n')
    with pytest.raises(
        PrefkitDataError,
        match=r"cut.jsonl:2: -: not valid JSON \(Invalid control character at column",
    ):
        read_jsonl(path)


def test_csv_rows_with_extra_fields_named(tmp_path):
    """A row longer than the header is named by its line, not read shifted."""
    path = tmp_path / "c.csv"
    path.write_text("prompt_id,prompt,model,response\n1,Q1,m1,a,x\n1,Q1,m2,b,y\n")
    with pytest.raises(PrefkitDataError) as info:
        read_table(path)
    assert str(info.value).splitlines() == [
        f"{path}:2: -: 5 fields, header has 4",
        f"{path}:3: -: 5 fields, header has 4",
    ]
    # a longer row after a good one (pandas' tokenizer error) reads the same
    path.write_text("prompt_id,prompt,model,response\n1,Q1,m1,a\n1,Q1,m2,b,y,z\n")
    with pytest.raises(PrefkitDataError) as info:
        read_table(path)
    assert str(info.value).splitlines() == [f"{path}:3: -: 6 fields, header has 4"]


def test_csv_short_rows_are_missing_values(tmp_path):
    """A row shorter than the header has missing values in its last columns."""
    path = tmp_path / "c.csv"
    path.write_text("prompt_id,model,response\n1,m1,a\n2,m2\n")
    table = read_table(path)
    assert table["response"].tolist()[0] == "a"
    assert table["response"].isna().tolist() == [False, True]


def test_csv_id_columns_stay_text(tmp_path):
    """Id columns keep leading zeros: 007 and 7 are two ids; other columns parse."""
    path = tmp_path / "c.csv"
    path.write_text(
        "prompt_id,question_id,id,pair_id,model,score\n007,01,1,3,m1,2\n7,1,,4,m2,5\n"
    )
    table = read_table(path)
    assert table["prompt_id"].tolist() == ["007", "7"]
    assert table["question_id"].tolist() == ["01", "1"]
    assert table["id"].tolist()[0] == "1" and pd.isna(table["id"].iloc[1])
    assert table["pair_id"].tolist() == ["3", "4"]
    assert table["score"].tolist() == [2, 5]


def test_candidates_without_response_named(tmp_path):
    """Candidates with answer for response are reported as lacking response."""
    path = tmp_path / "c.jsonl"
    rows = [{"prompt_id": "1", "prompt": "Q", "model": m, "answer": "a"} for m in "xy"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(PrefkitDataError) as info:
        load(path)
    assert str(info.value) == (
        f"{path}: response: missing column "
        "(columns present: prompt_id, prompt, model, answer)"
    )
