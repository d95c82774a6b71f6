"""A forced-choice conjoint experiment [HHY14]_ as a choice table (comparisons).

Each choice task is two consecutive records (``profile`` 1 and 2 of the same
``respondent`` and ``task``), exactly one with ``selected = 1``. A task
becomes one comparison: the profiles are the two "models", named by their
attribute values (``military=...|religion=...``), the winner is the selected
one, ``judge`` is the respondent, and every attribute is kept as a covariate
column ``a_<attribute>`` / ``b_<attribute>`` (plus ``rating_a``/``rating_b``
where the source rates profiles). This is the layout a Bradley-Terry model
with covariates (an AMCE analysis) needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    lines_of,
    map_labels,
    numbers,
    require_fields,
    texts,
)

KEYS = ("respondent", "task", "profile", "selected")
NOT_ATTRIBUTES = (*KEYS, "rating")


def profile_name(attributes: dict[str, Any]) -> str:
    """``name=value`` pairs joined by ``|``, in the file's column order."""
    return "|".join(f"{k}={v}" for k, v in attributes.items())


def _fields(raw: pd.DataFrame, attributes: list[str], out: Any) -> dict[str, list[Any]]:
    """Every record's keys, choice and attributes, checked one record at a time."""
    values: dict[str, list[Any]] = {
        "respondent": texts(raw, "respondent", out=out),
        "task": texts(raw, "task", out=out),
        "profile": map_labels(raw, "profile", {"1": "1", "2": "2"}, out=out),
        "selected": map_labels(raw, "selected", {"0": "0", "1": "1"}, out=out),
    }
    for name in attributes:
        values[name] = texts(raw, name, scalars=True, missing_ok=True, out=out)
    if "rating" in raw.columns:
        rating = numbers(raw, "rating", low=0.0, high=1.0, missing_ok=True, out=out)
        values["rating"] = [None if np.isnan(r) else float(r) for r in rating]
    return values


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """Pairs of profile records to one comparison per choice task."""
    require_fields(raw, "conjoint", *KEYS)
    out = collector(raw)
    attributes = [str(c) for c in raw.columns if c not in NOT_ATTRIBUTES]
    values = _fields(raw, attributes, out)
    out.raise_if_any()
    n = len(raw)
    if n % 2:
        out.add(n - 1, "profile", "odd number of records: a task lacks a profile")
    rows: list[dict[str, Any]] = []
    for first in range(0, n - 1, 2):
        one = {k: v[first] for k, v in values.items()}
        two = {k: v[first + 1] for k, v in values.items()}
        same = (one["respondent"], one["task"]) == (two["respondent"], two["task"])
        if not same or (one["profile"], two["profile"]) != ("1", "2"):
            # a broken pair is reported on both of its lines
            message = "lines do not hold profiles 1 and 2 of one respondent's task"
            out.add(first, "profile", message)
            out.add(first + 1, "profile", message)
            continue
        chosen = (one["selected"], two["selected"])
        if chosen not in (("1", "0"), ("0", "1")):
            message = f"exactly one profile of a task is selected (got {chosen})"
            out.add(first, "selected", message)
            out.add(first + 1, "selected", message)
            continue
        row: dict[str, Any] = {
            "prompt_id": f"{one['respondent']}-{one['task']}",
            "model_a": profile_name({a: one[a] for a in attributes}),
            "model_b": profile_name({a: two[a] for a in attributes}),
            "winner": "a" if chosen == ("1", "0") else "b",
            "judge": one["respondent"],
        }
        for a in attributes:
            row[f"a_{a}"], row[f"b_{a}"] = one[a], two[a]
        if "rating" in values:
            row["rating_a"], row["rating_b"] = one["rating"], two["rating"]
        rows.append(row)
    out.raise_if_any()
    lines = lines_of(raw)[0::2][: len(rows)]
    table = pd.DataFrame.from_records(rows)
    columns = {str(c): table[c].to_numpy(dtype=object) for c in table.columns}
    return frame(columns, raw, lines)


register(
    Format(
        name="conjoint",
        kind="comparisons",
        description="forced-choice conjoint (respondent, task, profile, selected)",
        detect=lambda f: has(f, *KEYS),
        convert=convert,
    )
)
