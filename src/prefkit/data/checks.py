"""Building blocks of table validation: columns, problem collection, checks.

Each ``_check_*`` function inspects one column, reports every bad value to a
:class:`Collector` (which knows the file and the line of each row) and returns
the column in its canonical dtype. :mod:`prefkit.data.schema` and
:mod:`prefkit.data.inputs` assemble them into one validator per table.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from prefkit.errors import PrefkitDataError, Problem, got_expected

#: The outcome labels of a pairwise comparison, in this order.
OUTCOMES: tuple[str, str, str] = ("a", "b", "tie")
WINNER_DTYPE = pd.CategoricalDtype(list(OUTCOMES))

#: ``df.attrs`` keys that readers set so validation can name file and line.
SOURCE_ATTR = "prefkit_source"
LINES_ATTR = "prefkit_lines"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: Literal["str", "float", "bool", "outcome", "list", "any"]
    required: bool
    doc: str


class Collector:
    """Gathers problems with file and line, stopping the scan at a limit."""

    def __init__(
        self, source: str, lines: Sequence[int] | np.ndarray | None, limit: int
    ):
        self.source = source
        self.lines = lines
        self.limit = limit
        self.problems: list[Problem] = []
        self.n_more = 0

    def line_of(self, position: int) -> int:
        if self.lines is not None and position < len(self.lines):
            return int(self.lines[position])
        return position + 1

    def add(self, position: int | None, field: str, message: str) -> None:
        if len(self.problems) >= self.limit:
            self.n_more += 1
            return
        line = None if position is None else self.line_of(position)
        self.problems.append(Problem(self.source, line, field, message))

    def add_rows(
        self,
        positions: np.ndarray,
        field: str,
        values: Sequence[Any] | np.ndarray,
        describe: Callable[[Any], str],
    ) -> None:
        for k, pos in enumerate(positions):
            if len(self.problems) >= self.limit:
                self.n_more += len(positions) - k
                return
            self.add(int(pos), field, describe(values[k]))

    def raise_if_any(self) -> None:
        if self.problems:
            problems = sorted(
                self.problems, key=lambda p: (p.line is not None, p.line or 0)
            )
            raise PrefkitDataError(problems, self.n_more)


def _source_of(df: pd.DataFrame, source: str | None) -> tuple[str, Any]:
    src = source or str(df.attrs.get(SOURCE_ATTR, "<table>"))
    return src, df.attrs.get(LINES_ATTR)


def _is_missing(values: pd.Series) -> np.ndarray:
    return np.asarray(values.isna(), dtype=bool)


def _check_str(col: pd.Series, name: str, required: bool, out: Collector) -> None:
    values = col.to_numpy(dtype=object)
    missing = _is_missing(col)
    if required and missing.any():
        idx = np.flatnonzero(missing)
        out.add_rows(
            idx, name, values[idx], lambda v: got_expected("missing value", v, "text")
        )
    if isinstance(col.dtype, pd.CategoricalDtype):
        values = np.asarray(col.astype(object).to_numpy(), dtype=object)
    if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
        not_str = np.fromiter(
            (not isinstance(v, str) for v in values), bool, len(values)
        )
    else:
        # a numeric or boolean column where text belongs: every value is wrong
        not_str = np.full(len(values), not pd.api.types.is_string_dtype(col))
    if not_str.any():
        bad = np.flatnonzero(not_str & ~missing)
        out.add_rows(
            bad,
            name,
            values[bad],
            lambda v: got_expected("not a string", v, "text"),
        )


def _check_float(
    col: pd.Series,
    name: str,
    required: bool,
    out: Collector,
    low: float | None = None,
    high: float | None = None,
) -> pd.Series:
    values = col.to_numpy(dtype=object)
    numeric = pd.to_numeric(col, errors="coerce")
    originally_missing = _is_missing(col)
    not_number = np.asarray(numeric.isna(), dtype=bool) & ~originally_missing
    if col.dtype == object:
        # bools and numeric strings are not numbers in a typed table
        not_number |= np.fromiter(
            (isinstance(v, (bool, str)) for v in values), bool, len(values)
        )
    bad = np.flatnonzero(not_number)
    out.add_rows(
        bad, name, values[bad], lambda v: got_expected("not a number", v, "a number")
    )
    arr = numeric.to_numpy(dtype=float, na_value=np.nan)
    nan = np.isnan(arr) & ~not_number
    if required:
        idx = np.flatnonzero(nan)
        out.add_rows(
            idx,
            name,
            values[idx],
            lambda v: got_expected("missing value", v, "a number"),
        )
    inf = np.flatnonzero(np.isinf(arr))
    out.add_rows(
        inf, name, arr[inf], lambda v: got_expected("not finite", v, "a finite number")
    )
    if low is not None or high is not None:
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        with np.errstate(invalid="ignore"):
            out_of_range = np.flatnonzero(np.isfinite(arr) & ((arr < lo) | (arr > hi)))
        out.add_rows(
            out_of_range,
            name,
            arr[out_of_range],
            lambda v: got_expected(
                "out of range", float(v), f"a number in [{lo:g}, {hi:g}]"
            ),
        )
    return numeric.astype(float)


def _check_bool(col: pd.Series, name: str, out: Collector) -> pd.Series:
    """Booleans; a missing value (None, NaN, NA) stays missing (unknown)."""
    values = col.to_numpy(dtype=object)
    missing = _is_missing(col)
    ok = missing | np.fromiter(
        (isinstance(v, (bool, np.bool_)) for v in values), bool, len(values)
    )
    if col.dtype == bool or str(col.dtype) == "boolean":
        ok[:] = True
    bad = np.flatnonzero(~ok)
    out.add_rows(
        bad,
        name,
        values[bad],
        lambda v: got_expected("not a boolean", v, "true or false"),
    )
    if not ok.all():
        return col
    if missing.any():
        return pd.Series(
            pd.array(
                [None if m else bool(v) for v, m in zip(values, missing, strict=True)],
                dtype="boolean",
            ),
            index=col.index,
        )
    return col.astype(bool)


def _check_outcome(
    col: pd.Series, required: bool, out: Collector, excused: np.ndarray | None = None
) -> pd.Series:
    values = col.to_numpy(dtype=object)
    missing = _is_missing(col)
    allowed = np.isin(values, list(OUTCOMES)) & ~missing
    if required:
        # rows flagged unparsable keep their missing verdict on purpose
        lacking = missing if excused is None else missing & ~excused
        idx = np.flatnonzero(lacking)
        out.add_rows(
            idx,
            "winner",
            values[idx],
            lambda v: f"missing value (got {v!r}; expected one of a, b, tie)",
        )
    bad = np.flatnonzero(~allowed & ~missing)
    out.add_rows(
        bad,
        "winner",
        values[bad],
        lambda v: got_expected("unknown outcome label", v, "one of a, b, tie"),
    )
    return pd.Series(
        pd.Categorical(
            col.where(pd.Series(allowed, index=col.index)), dtype=WINNER_DTYPE
        ),
        index=col.index,
    )


def _check_columns(
    df: pd.DataFrame, schema: Sequence[Column], out: Collector, skip: set[str]
) -> None:
    for column in schema:
        if (
            column.required
            and column.name not in df.columns
            and column.name not in skip
        ):
            present = ", ".join(map(str, df.columns[:12])) or "none"
            out.add(None, column.name, f"missing column (columns present: {present})")


def _finish(df: pd.DataFrame, out: Collector) -> pd.DataFrame:
    out.raise_if_any()
    return df


def duplicated_positions(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Positions of rows whose ``key`` repeats an earlier row's.

    Unhashable values (a list where an id belongs, already reported) are
    compared by their repr so the check itself never fails.
    """
    keys = df[key].map(lambda v: v if isinstance(v, Hashable) else repr(v))
    return np.flatnonzero(keys.duplicated(keep="first").to_numpy())


def _ids_as_str(col: pd.Series) -> pd.Series:
    """Ids may arrive as integers; they are kept as text so joins agree."""
    if col.dtype != object and pd.api.types.is_string_dtype(col):
        return col
    if col.dtype == object:
        return col.map(
            lambda v: (
                str(v)
                if isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                else v
            )
        )
    if pd.api.types.is_integer_dtype(col):
        return col.astype("Int64").astype(str).where(col.notna(), None).astype(object)
    return col


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return None
