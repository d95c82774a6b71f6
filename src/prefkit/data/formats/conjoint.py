"""A forced-choice conjoint experiment as a choice table (comparisons).

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
    is_missing,
    lines_of,
    require_fields,
)

KEYS = ("respondent", "task", "profile", "selected")
NOT_ATTRIBUTES = (*KEYS, "rating")


def profile_name(attributes: dict[str, Any]) -> str:
    """``name=value`` pairs joined by ``|``, in the file's column order."""
    return "|".join(f"{k}={v}" for k, v in attributes.items())


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """Pairs of profile records to one comparison per choice task."""
    require_fields(raw, "conjoint", *KEYS)
    out = collector(raw)
    attributes = [str(c) for c in raw.columns if c not in NOT_ATTRIBUTES]
    records = raw.to_dict(orient="records")
    if len(records) % 2:
        out.add(
            len(records) - 1,
            "profile",
            "odd number of records: a task lacks its second profile",
        )
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for first in range(0, len(records) - 1, 2):
        one, two = records[first], records[first + 1]
        same = all(one[k] == two[k] for k in ("respondent", "task"))
        if not same or (one["profile"], two["profile"]) != (1, 2):
            out.add(
                first + 1,
                "profile",
                "records do not come in profile 1 / 2 pairs of one task",
            )
            continue
        chosen = (one["selected"], two["selected"])
        if chosen not in ((1, 0), (0, 1)):
            out.add(
                first,
                "selected",
                f"exactly one profile of a task must be selected (got {chosen})",
            )
            continue
        row: dict[str, Any] = {
            "prompt_id": f"{one['respondent']}-{one['task']}",
            "model_a": profile_name({a: one[a] for a in attributes}),
            "model_b": profile_name({a: two[a] for a in attributes}),
            "winner": "a" if chosen == (1, 0) else "b",
            "judge": str(one["respondent"]),
        }
        for a in attributes:
            row[f"a_{a}"], row[f"b_{a}"] = one[a], two[a]
        if "rating" in one:
            row["rating_a"] = None if is_missing(one["rating"]) else one["rating"]
            row["rating_b"] = None if is_missing(two["rating"]) else two["rating"]
        rows.append(row)
        lines.append(int(lines_of(raw)[first]))
    out.raise_if_any()
    table = pd.DataFrame.from_records(rows)
    return frame(
        {c: table[c].to_numpy(dtype=object) for c in table.columns},
        raw,
        np.asarray(lines),
    )


register(
    Format(
        name="conjoint",
        kind="comparisons",
        description="forced-choice conjoint (respondent, task, profile, selected)",
        detect=lambda f: has(f, *KEYS),
        convert=convert,
    )
)
