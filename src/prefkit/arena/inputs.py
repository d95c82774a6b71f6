"""Reading the arena's inputs: candidates, the human-review queue, verdicts.

Each reader validates once, at the boundary, and names the file and line of
every problem (see ``docs/tables.md`` for the tables).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from prefkit.data import load_candidates, read_table, validate_comparisons
from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR
from prefkit.errors import MAX_PROBLEMS, PrefkitDataError, Problem, got_expected

#: Columns of a candidates table, all text.
CANDIDATE_COLUMNS: tuple[str, ...] = ("prompt_id", "prompt", "model", "response")
#: Columns every human-review queue line carries.
QUEUE_COLUMNS: tuple[str, ...] = (
    "prompt_id",
    "prompt",
    "model_a",
    "model_b",
    "response_a",
    "response_b",
    "uncertainty",
)


class _Problems:
    """Problems of one table, each with its file and line."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.source = str(df.attrs.get(SOURCE_ATTR, "<table>"))
        self.lines: Any = df.attrs.get(LINES_ATTR)
        self.found: list[Problem] = []

    def add(self, position: int | None, field: str, message: str) -> None:
        line = None
        if position is not None:
            known = self.lines is not None and position < len(self.lines)
            line = int(self.lines[position]) if known else position + 1
        self.found.append(Problem(self.source, line, field, message))

    def missing_columns(self, df: pd.DataFrame, columns: Sequence[str]) -> bool:
        present = ", ".join(map(str, df.columns[:12])) or "none"
        gone = [c for c in columns if c not in df.columns]
        for name in gone:
            self.add(None, name, f"missing column (columns present: {present})")
        return bool(gone)

    def check_text(self, df: pd.DataFrame, columns: Sequence[str]) -> None:
        for name in columns:
            for pos, value in enumerate(df[name].to_numpy(dtype=object)):
                if len(self.found) >= MAX_PROBLEMS:
                    return
                if not isinstance(value, str) or (
                    name != "response" and not value.strip()
                ):
                    self.add(pos, name, got_expected("not text", value, "a string"))

    def raise_if_any(self) -> None:
        if self.found:
            raise PrefkitDataError(self.found)


def _ids_as_text(values: pd.Series) -> pd.Series:
    """Integer ids become text so joins on ``prompt_id`` agree."""

    def one(v: Any) -> Any:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return str(v)
        return v

    return values.map(one)


def validate_candidates(df: pd.DataFrame) -> pd.DataFrame:
    """Check a candidates table (one response per prompt and model).

    Parameters
    ----------
    df : DataFrame
        Columns ``prompt_id, prompt, model, response``, all text;
        ``(prompt_id, model)`` unique; at least one prompt answered by two
        or more models.

    Returns
    -------
    DataFrame
        The four columns, ``prompt_id`` as text, in the input's order.

    Raises
    ------
    PrefkitDataError
        Naming the file, line and column of every problem.
    """
    out = _Problems(df)
    if out.missing_columns(df, CANDIDATE_COLUMNS):
        out.raise_if_any()
    table = df.loc[:, list(CANDIDATE_COLUMNS)].copy()
    table["prompt_id"] = _ids_as_text(table["prompt_id"])
    out.check_text(table, CANDIDATE_COLUMNS)
    out.raise_if_any()

    dup = np.flatnonzero(table.duplicated(["prompt_id", "model"]).to_numpy())
    for pos in dup[:MAX_PROBLEMS]:
        key = (table["prompt_id"].iloc[pos], table["model"].iloc[pos])
        out.add(int(pos), "prompt_id+model", got_expected("duplicated", key, "once"))
    if not len(dup) and table.groupby("prompt_id")["model"].nunique().max() < 2:
        out.add(
            None,
            "model",
            "no prompt has responses from two models (a battle needs two); "
            "add a second model's responses",
        )
    out.raise_if_any()
    return table.reset_index(drop=True)


def read_candidates(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a candidates file.

    A file laid out as prefkit's candidates table (it has ``prompt_id`` or
    ``response``) is checked directly, so a missing column is named; any other
    layout goes through :func:`prefkit.data.load_candidates` (Arena-Hard
    answers, AlpacaEval outputs, ...). The arena also needs the prompt text
    and a prompt answered by two models.
    """
    table = read_table(path)
    if {"prompt_id", "response"} & set(table.columns):
        return validate_candidates(table)
    return validate_candidates(load_candidates(path))


def judge_winner(row: dict[Any, Any]) -> str | None:
    """The judge's verdict on a queue item, in the item's a/b labelling.

    From ``p_a`` when present (``a`` above one half, ``b`` below, ``tie`` at
    it), else the majority of ``verdicts`` (a split is a tie), else None.
    """
    p_a = row.get("p_a")
    if p_a is not None and np.isfinite(p_a):
        return "a" if p_a > 0.5 else "b" if p_a < 0.5 else "tie"
    verdicts = row.get("verdicts")
    if verdicts is None or isinstance(verdicts, float):
        return None
    labels = [v for v in list(verdicts) if v in ("a", "b", "tie")]
    if not labels:
        return None
    n_a, n_b = labels.count("a"), labels.count("b")
    return "a" if n_a > n_b else "b" if n_b > n_a else "tie"


def validate_queue(df: pd.DataFrame) -> pd.DataFrame:
    """Check a human-review queue and sort it, highest ``uncertainty`` first.

    Parameters
    ----------
    df : DataFrame
        One pair a row: ``prompt_id, prompt, model_a, model_b, response_a,
        response_b, uncertainty`` (>= 0), optionally ``p_a``, ``judge`` and
        ``verdicts`` (the judge's per-order verdicts, each ``a``/``b``/``tie``).

    Returns
    -------
    DataFrame
        The queue columns plus ``judge`` (text, ``"judge"`` when absent),
        ``p_a`` and ``judge_winner`` (the judge's verdict or None), sorted by
        decreasing ``uncertainty`` (stable among equals).

    Raises
    ------
    PrefkitDataError
        Naming the file, line and column of every problem.
    """
    out = _Problems(df)
    if out.missing_columns(df, QUEUE_COLUMNS):
        out.raise_if_any()
    table = validate_comparisons(df, require_winner=False)
    out.check_text(table, [c for c in QUEUE_COLUMNS if c != "uncertainty"])
    uncertainty = pd.to_numeric(df["uncertainty"], errors="coerce").to_numpy(float)
    raw = df["uncertainty"].to_numpy(dtype=object)
    for pos in np.flatnonzero(~(np.isfinite(uncertainty) & (uncertainty >= 0))):
        out.add(
            int(pos),
            "uncertainty",
            got_expected("not a non-negative number", raw[pos], "a number >= 0"),
        )
    out.raise_if_any()

    result = table.loc[:, [c for c in QUEUE_COLUMNS if c != "uncertainty"]].copy()
    result["uncertainty"] = uncertainty
    result["judge"] = table["judge"] if "judge" in table.columns else "judge"
    result["judge"] = result["judge"].fillna("judge")
    p_a = table["p_a"] if "p_a" in table.columns else pd.Series(np.nan, df.index)
    result["p_a"] = p_a.astype(float)
    records = pd.DataFrame({"p_a": result["p_a"]})
    if "verdicts" in df.columns:
        records["verdicts"] = df["verdicts"].to_numpy(dtype=object)
    result["judge_winner"] = [judge_winner(r) for r in records.to_dict("records")]
    order = np.argsort(-uncertainty, kind="stable")
    return result.iloc[order].reset_index(drop=True)


def read_queue(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a human-review queue file (see :func:`validate_queue`)."""
    return validate_queue(read_table(path))


def validate_verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """Check judges' verdicts (a comparisons table) to show beside the votes.

    Parameters
    ----------
    df : DataFrame
        A comparisons table with ``prompt_id``; ``judge`` optional (missing
        judges are called ``"judge"``). Rows without a ``winner`` (a judge
        that failed to answer) are dropped.

    Returns
    -------
    DataFrame
        ``prompt_id, model_a, model_b, judge, winner``.

    Raises
    ------
    PrefkitDataError
        Naming the file, line and column of every problem.
    """
    out = _Problems(df)
    if out.missing_columns(df, ["prompt_id", "winner"]):
        out.raise_if_any()
    table = validate_comparisons(df, require_winner=False)
    judge = table["judge"] if "judge" in table.columns else pd.Series("judge", df.index)
    table = table.assign(judge=judge.fillna("judge"))
    table = table[table["winner"].notna()]
    columns = ["prompt_id", "model_a", "model_b", "judge", "winner"]
    return table.loc[:, columns].reset_index(drop=True)


def read_verdicts(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a judged file (see :func:`validate_verdicts`)."""
    return validate_verdicts(read_table(path))
