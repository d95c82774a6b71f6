"""Reading and writing tables as JSONL, CSV and Parquet.

JSONL is read by Arrow's multithreaded block reader (a million short lines in
about a second, memory bounded by the resulting table); when Arrow rejects the
file, a line-by-line pass finds every bad line so the error names it. Gzipped
files (``.gz``) are read transparently. Every reader records the file name and
the line of each row in ``df.attrs`` so later validation can point at them.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR
from prefkit.errors import MAX_PROBLEMS, PrefkitDataError, Problem, got_expected

FileFormat = Literal["jsonl", "csv", "parquet"]
FILE_FORMATS: tuple[FileFormat, ...] = ("jsonl", "csv", "parquet")


def file_format(path: str | os.PathLike[str]) -> FileFormat:
    """The file format implied by a path's suffix (``.gz`` is looked through)."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".json", "jsonl"),
        (".ndjson", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
    ):
        if name.endswith(suffix):
            return fmt  # type: ignore[return-value]
    raise PrefkitDataError.single(
        str(path),
        None,
        "-",
        got_expected(
            "unknown file type",
            Path(path).suffix,
            ".jsonl, .csv or .parquet (optionally .gz)",
        ),
    )


def _read_bytes(path: Path) -> bytes:
    _check_file(path)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise PrefkitDataError.single(
                str(path), None, "-", f"not a readable gzip file ({exc})"
            ) from None
    return raw


def _check_file(path: Path) -> None:
    if not path.exists():
        raise PrefkitDataError.single(str(path), None, "-", "no such file")
    if path.is_dir():
        raise PrefkitDataError.single(str(path), None, "-", "is a folder, not a file")


def _open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when its name ends in ``.gz``."""
    _check_file(path)
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _gzip_error(path: Path, exc: Exception) -> PrefkitDataError:
    return PrefkitDataError.single(
        str(path), None, "-", f"not a readable gzip file ({exc})"
    )


def _scan(path: Path) -> tuple[bool, bool, int]:
    """(has content, lines are plain, first non-blank byte) in one streaming pass.

    Plain means valid UTF-8 with no blank line and no carriage return, so
    that Arrow's row ``i`` is line ``i + 1``.
    """
    content, plain, first, previous = False, True, -1, b"\n"
    # Arrow passes invalid UTF-8 through into its strings: check it here
    utf8 = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_binary(path) as handle:
            while chunk := handle.read(1 << 22):
                if (
                    b"\r" in chunk
                    or b"\n\n" in chunk
                    or (previous == b"\n" and chunk.startswith(b"\n"))
                ):
                    plain = False
                if plain:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        plain = False
                stripped = chunk.lstrip()
                if stripped and not content:
                    content, first = True, stripped[0]
                previous = chunk[-1:]
    except (OSError, EOFError) as exc:
        raise _gzip_error(path, exc) from None
    return content, plain, first


def read_jsonl(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a JSONL file (one JSON object per line) into a DataFrame.

    Arrow's block reader parses the file straight from disk (memory bounded
    by the resulting table, not by a copy of the file). When Arrow rejects
    the file, a line-by-line pass names every bad line. A file holding one
    JSON array of objects (``model_outputs.json``) is read too.

    Parameters
    ----------
    path : str or PathLike
        The file; ``.gz`` is decompressed.

    Returns
    -------
    DataFrame
        One row per non-blank line; ``df.attrs`` records the source and the
        line number of each row.

    Raises
    ------
    PrefkitDataError
        Naming every line that is not a JSON object (bad JSON, bad UTF-8, a
        list or scalar instead of an object) and an empty file.
    """
    p = Path(path)
    content, plain, first = _scan(p)
    if not content:
        raise PrefkitDataError.single(str(p), None, "-", "empty file (no records)")
    if first == ord("[") and p.name.lower().removesuffix(".gz").endswith(".json"):
        array = _read_json_array(p)
        if array is not None:
            return array
        plain = False
    df = _read_jsonl_fast(p) if plain else None
    if df is None:
        return _read_jsonl_slow(p)
    df.attrs[SOURCE_ATTR] = str(p)
    df.attrs[LINES_ATTR] = np.arange(1, len(df) + 1)
    return df


def _read_jsonl_fast(path: Path) -> pd.DataFrame | None:
    """Arrow's reader; None when the file needs the careful path."""
    try:
        table = pa_json.read_json(
            str(path), read_options=pa_json.ReadOptions(block_size=1 << 24)
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    except (OSError, EOFError) as exc:
        raise _gzip_error(path, exc) from None
    # nested objects become Python dicts, lists numpy arrays
    return table.to_pandas(maps_as_pydicts="strict")


def _parse_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) or (None, what is wrong with the line)."""
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start} of the line)"
    except json.JSONDecodeError as exc:
        # some messages of the json module end in "at" already
        what = exc.msg.removesuffix(" at")
        return None, f"not valid JSON ({what} at column {exc.colno})"
    except RecursionError:
        return None, "JSON nested too deeply"
    if not isinstance(value, dict):
        return None, got_expected("not a JSON object", value, "one object per line")
    return value, None


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line, streamed."""
    try:
        with _open_binary(path) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except (OSError, EOFError) as exc:
        raise _gzip_error(path, exc) from None


def _read_jsonl_slow(path: Path) -> pd.DataFrame:
    """Line-by-line parse that names every bad line."""
    source = str(path)
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    n_more = 0
    for number, line in _lines(path):
        value, problem = _parse_line(line)
        if value is not None:
            records.append(value)
            lines.append(number)
        elif len(problems) < MAX_PROBLEMS:
            problems.append(Problem(source, number, "-", str(problem)))
        else:
            n_more += 1
    if problems:
        raise PrefkitDataError(problems, n_more)
    if not records:
        raise PrefkitDataError.single(source, None, "-", "empty file (no records)")
    return _batch(records, lines, source)


def _read_json_array(path: Path) -> pd.DataFrame | None:
    """A ``.json`` file holding one array of objects; None if it is not JSON."""
    source = str(path)
    with _open_binary(path) as handle:
        value, _ = _parse_line(b'{"records": ' + handle.read() + b"}")
    if value is None:
        # not one JSON document: the line-by-line pass names the bad lines
        return None
    records = value["records"]
    if not isinstance(records, list) or not records:
        raise PrefkitDataError.single(source, None, "-", "empty JSON array")
    bad = [k for k, r in enumerate(records) if not isinstance(r, dict)]
    if bad:
        problems = [
            Problem(
                source,
                k + 1,
                "-",
                got_expected("not a JSON object", records[k], "an array of objects"),
            )
            for k in bad
        ]
        raise PrefkitDataError(problems)
    # record k is reported as "line" k + 1: the array's k-th element
    return _batch(records, list(range(1, len(records) + 1)), source)


def iter_jsonl(
    path: str | os.PathLike[str], batch_size: int = 65_536
) -> Iterator[pd.DataFrame]:
    """Stream a JSONL file as DataFrames of at most ``batch_size`` rows.

    Memory stays bounded by one batch, whatever the file size. Each batch
    carries its source and line numbers in ``attrs``. A bad line raises
    :class:`PrefkitDataError` naming it.
    """
    p = Path(path)
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, line in _lines(p):
        value, problem = _parse_line(line)
        if value is None:
            raise PrefkitDataError.single(str(p), number, "-", str(problem))
        records.append(value)
        lines.append(number)
        if len(records) >= batch_size:
            yield _batch(records, lines, str(p))
            records, lines = [], []
    if records:
        yield _batch(records, lines, str(p))


def _batch(
    records: list[dict[str, Any]], lines: list[int], source: str
) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records)
    df.attrs[SOURCE_ATTR] = source
    df.attrs[LINES_ATTR] = np.asarray(lines)
    return df


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV file; row ``i`` is reported as line ``i + 2`` (after the header).

    Only an empty cell is a missing value; text such as ``NA`` or ``null``
    stays text.
    """
    p = Path(path)
    raw = _read_bytes(p)
    if not raw.strip():
        raise PrefkitDataError.single(str(p), None, "-", "empty file (no records)")
    try:
        header = pd.read_csv(io.BytesIO(raw), encoding="utf-8", nrows=0).columns
        # only an empty cell is missing: a model may be called "NA" or "null"
        df = pd.read_csv(
            io.BytesIO(raw),
            encoding="utf-8",
            keep_default_na=False,
            na_values=[""],
            # ids stay text: 007 and 7 are two prompts
            dtype={name: str for name in header if is_id_column(str(name))},
        )
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PrefkitDataError.single(str(p), line, "-", "not valid UTF-8") from None
    except pd.errors.ParserError as exc:
        _raise_if_long_rows(raw, str(p))
        raise PrefkitDataError.single(
            str(p), _csv_error_line(str(exc)), "-", f"not valid CSV ({exc})"
        ) from None
    except pd.errors.EmptyDataError:
        raise PrefkitDataError.single(
            str(p), None, "-", "empty file (no records)"
        ) from None
    if not isinstance(df.index, pd.RangeIndex):
        # pandas took the first field of longer rows as an index
        _raise_if_long_rows(raw, str(p))
    df.attrs[SOURCE_ATTR] = str(p)
    df.attrs[LINES_ATTR] = np.arange(2, len(df) + 2)
    return df


def is_id_column(name: str) -> bool:
    """True for a column holding ids (``id``, ``uid``, ``idx``, ``*_id``)."""
    return name in ("id", "uid", "idx") or name.endswith("_id")


def _raise_if_long_rows(raw: bytes, source: str) -> None:
    """Name every CSV row with more fields than the header (rows are 1-based)."""
    text = raw.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    problems: list[Problem] = []
    n_more, start = 0, 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header = record
            elif len(record) > len(header):
                if len(problems) < MAX_PROBLEMS:
                    what = f"{len(record)} fields, header has {len(header)}"
                    problems.append(Problem(source, line, "-", what))
                else:
                    n_more += 1
    except csv.Error:
        # not CSV the csv module reads: the caller reports pandas' error
        return
    if problems:
        raise PrefkitDataError(problems, n_more)


def _csv_error_line(message: str) -> int | None:
    words = message.replace(",", " ").split()
    for k, word in enumerate(words[:-1]):
        if word == "line" and words[k + 1].isdigit():
            return int(words[k + 1])
    return None


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet file; rows are numbered from 1 in messages."""
    p = Path(path)
    if not p.exists():
        raise PrefkitDataError.single(str(p), None, "-", "no such file")
    try:
        df = pq.read_table(p).to_pandas(maps_as_pydicts="strict")
    except (pa.ArrowInvalid, OSError) as exc:
        raise PrefkitDataError.single(
            str(p), None, "-", f"not a readable Parquet file ({exc})"
        ) from None
    df.attrs[SOURCE_ATTR] = str(p)
    df.attrs[LINES_ATTR] = np.arange(1, len(df) + 1)
    return df


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a JSONL, CSV or Parquet file by its suffix, with no conversion."""
    return READERS[file_format(path)](path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def write_jsonl(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write one JSON object per row (UTF-8, ``.gz`` compressed by suffix)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    columns = [str(c) for c in df.columns]
    opener = gzip.open if p.name.endswith(".gz") else open
    with opener(p, "wt", encoding="utf-8") as handle:
        for row in df.itertuples(index=False, name=None):
            record = {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` as JSONL, CSV or Parquet by the path's suffix."""
    p = Path(path)
    fmt = file_format(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        write_jsonl(df, p)
    elif fmt == "csv":
        df.to_csv(p, index=False)
    else:
        out = df.copy()
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype(object)
        out.attrs = {}
        out.to_parquet(p, index=False)
    return p
