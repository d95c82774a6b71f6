"""Helpers the format converters share: fields, labels, numbers, lines."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR, Collector
from prefkit.errors import MAX_PROBLEMS, PrefkitDataError, got_expected


def source_of(raw: pd.DataFrame) -> str:
    """The file name a reader recorded (``<table>`` for an in-memory frame)."""
    return str(raw.attrs.get(SOURCE_ATTR, "<table>"))


def lines_of(raw: pd.DataFrame) -> np.ndarray:
    """The source line of each raw row (1-based row numbers if unknown)."""
    lines = raw.attrs.get(LINES_ATTR)
    if lines is None or len(lines) != len(raw):
        return np.arange(1, len(raw) + 1)
    return np.asarray(lines)


def collector(raw: pd.DataFrame) -> Collector:
    """A problem collector that names ``raw``'s file and lines."""
    return Collector(source_of(raw), lines_of(raw), MAX_PROBLEMS)


def has(fields: Sequence[str], *names: str) -> bool:
    """True when every one of ``names`` is among ``fields``."""
    present = set(fields)
    return all(n in present for n in names)


def require_fields(raw: pd.DataFrame, fmt: str, *names: str) -> None:
    """Raise naming the file when ``raw`` lacks any of ``names``."""
    missing = [n for n in names if n not in raw.columns]
    if missing:
        present = ", ".join(map(str, raw.columns[:12])) or "none"
        raise PrefkitDataError.single(
            source_of(raw),
            None,
            missing[0],
            f"missing field for format {fmt!r}: {', '.join(missing)} "
            f"(fields present: {present})",
        )


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _label_key(value: Any) -> Any:
    """Normalise a raw label so ``2``, ``2.0`` and ``"2"`` look alike."""
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (float, np.floating)):
        return str(float(value))
    return ("other", repr(value))


def map_labels(
    raw: pd.DataFrame,
    field: str,
    mapping: Mapping[str, str | None],
    *,
    missing: str | bool | None = False,
    out: Collector | None = None,
) -> list[str | None]:
    """Translate the raw labels of ``field`` through ``mapping``.

    Keys of ``mapping`` are the labels as text (``"1"``, ``"left"``); ints,
    integral floats and strings with spaces around them match their text. A
    missing value maps to ``missing`` when it is a str or None, and is a
    problem when ``missing`` is False. An unknown label is always a problem
    naming file, line and field: never a silent default.
    """
    own = out is None
    problems = collector(raw) if out is None else out
    expected = "one of " + ", ".join(repr(k) for k in mapping)
    result: list[str | None] = []
    for pos, value in enumerate(raw[field].to_numpy(dtype=object)):
        if is_missing(value):
            if missing is False:
                problems.add(pos, field, f"missing value (expected {expected})")
            result.append(None if missing is False else missing)  # type: ignore[arg-type]
            continue
        key = _label_key(value)
        if isinstance(key, str) and key in mapping:
            result.append(mapping[key])
        else:
            problems.add(pos, field, got_expected("unknown label", value, expected))
            result.append(None)
    if own:
        problems.raise_if_any()
    return result


def numbers(
    raw: pd.DataFrame,
    field: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    missing_ok: bool = False,
    out: Collector | None = None,
) -> np.ndarray:
    """The values of ``field`` as floats, each checked to lie in [low, high]."""
    own = out is None
    problems = collector(raw) if out is None else out
    values = raw[field].to_numpy(dtype=object)
    result = np.full(len(values), np.nan)
    expected = f"a number in [{low:g}, {high:g}]"
    for pos, value in enumerate(values):
        if is_missing(value):
            if not missing_ok:
                problems.add(pos, field, f"missing value (expected {expected})")
            continue
        ok = isinstance(value, (int, float, np.integer, np.floating))
        if not ok or isinstance(value, (bool, np.bool_)):
            problems.add(pos, field, got_expected("not a number", value, expected))
            continue
        number = float(value)
        if not (low <= number <= high):
            problems.add(pos, field, got_expected("out of range", value, expected))
            continue
        result[pos] = number
    if own:
        problems.raise_if_any()
    return result


def texts(
    raw: pd.DataFrame,
    field: str,
    *,
    missing_ok: bool = False,
    scalars: bool = False,
    out: Collector | None = None,
) -> list[str | None]:
    """The values of ``field`` as text; integers (ids) become their text.

    ``scalars=True`` also accepts JSON booleans and floats, written as JSON
    writes them (``true``, ``1.5``): some files store a response "True" as a
    JSON boolean.
    """
    own = out is None
    problems = collector(raw) if out is None else out
    result: list[str | None] = []
    for pos, value in enumerate(raw[field].to_numpy(dtype=object)):
        if is_missing(value):
            if not missing_ok:
                problems.add(pos, field, "missing value (expected text)")
            result.append(None)
        elif isinstance(value, str):
            result.append(value)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            result.append(str(int(value)))
        elif scalars and isinstance(value, (bool, np.bool_)):
            result.append("true" if value else "false")
        elif scalars and isinstance(value, (float, np.floating)):
            result.append(repr(float(value)))
        else:
            problems.add(pos, field, got_expected("not text", value, "text"))
            result.append(None)
    if own:
        problems.raise_if_any()
    return result


def is_none(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Boolean mask of the entries that are None."""
    return np.fromiter((v is None for v in values), bool, len(values))


def text_id(text: str) -> str:
    """A short stable id for a prompt that has none (first 12 hex of SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def frame(
    columns: Mapping[str, Any], raw: pd.DataFrame, lines: Sequence[int] | np.ndarray
) -> pd.DataFrame:
    """A converted table carrying ``raw``'s source and the given lines."""
    df = pd.DataFrame(dict(columns))
    df.attrs[SOURCE_ATTR] = source_of(raw)
    df.attrs[LINES_ATTR] = np.asarray(lines)
    return df


def meta(raw: pd.DataFrame, used: Sequence[str]) -> dict[str, Any]:
    """Raw fields not consumed by a converter, kept as free metadata."""
    return {str(c): raw[c].reset_index(drop=True) for c in raw.columns if c not in used}


_FLAGS = {"true": True, "false": False, "1": True, "0": False}


def booleans(
    raw: pd.DataFrame, field: str, *, out: Collector | None = None
) -> list[bool | None]:
    """The values of ``field`` as booleans (``true``/``false``/``1``/``0`` too)."""
    own = out is None
    problems = collector(raw) if out is None else out
    result: list[bool | None] = []
    for pos, value in enumerate(raw[field].to_numpy(dtype=object)):
        if isinstance(value, (bool, np.bool_)):
            result.append(bool(value))
            continue
        key = _label_key(value)
        if isinstance(key, str) and key.lower() in _FLAGS:
            result.append(_FLAGS[key.lower()])
        else:
            what = "missing value" if is_missing(value) else "not a boolean"
            problems.add(pos, field, got_expected(what, value, "true or false"))
            result.append(None)
    if own:
        problems.raise_if_any()
    return result
