"""The candidates table (``prompt_id, prompt, model, response``) at the boundary."""

from __future__ import annotations

import pandas as pd

from prefkit.data.schema import validate_ratings
from prefkit.judge.types import JudgeError

CANDIDATE_COLUMNS = ("prompt_id", "prompt", "model", "response")


def validate_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Check a candidates table (validated as ``ratings`` minus ``score``).

    Raises
    ------
    JudgeError
        If a column is missing.
    PrefkitDataError
        For bad values (naming file and line) or a repeated (prompt_id, model).
    """
    if not isinstance(candidates, pd.DataFrame):
        raise JudgeError(
            f"candidates must be a DataFrame (got {type(candidates).__name__}); "
            "read the file with prefkit.data.read_table"
        )
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        present = ", ".join(map(str, candidates.columns[:10])) or "none"
        raise JudgeError(
            f"candidates lack the column(s) {', '.join(missing)} (columns present: "
            f"{present}); expected one row per prompt x model with "
            f"{', '.join(CANDIDATE_COLUMNS)}"
        )
    checked = validate_ratings(candidates.assign(score=0.0))
    return checked.drop(columns="score")
