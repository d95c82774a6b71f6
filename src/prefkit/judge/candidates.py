"""The candidates table (``prompt_id, prompt, model, response``) at the boundary."""

from __future__ import annotations

import pandas as pd

from prefkit.data import inputs
from prefkit.data.schema import SOURCE_ATTR
from prefkit.judge.types import JudgeError

CANDIDATE_COLUMNS = ("prompt_id", "prompt", "model", "response")


def validate_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Check a candidates table as a judge reads it (the prompt text required).

    Returns
    -------
    DataFrame
        A copy with ``prompt_id`` as text, so ``1`` and ``"1"`` are one id.

    Raises
    ------
    JudgeError
        If a column is missing (naming the file).
    PrefkitDataError
        For missing or non-text values (naming file and line) or a repeated
        (prompt_id, model).
    """
    if not isinstance(candidates, pd.DataFrame):
        raise JudgeError(
            f"candidates must be a DataFrame (got {type(candidates).__name__}); "
            "read the file with prefkit.data.read_table"
        )
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        source = candidates.attrs.get(SOURCE_ATTR, "<table>")
        present = ", ".join(map(str, candidates.columns[:10])) or "none"
        raise JudgeError(
            f"{source}: candidates lack the column(s) {', '.join(missing)} "
            f"(columns present: {present}); expected one row per prompt x model "
            f"with {', '.join(CANDIDATE_COLUMNS)}"
        )
    return inputs.validate_candidates(candidates, require_prompt=True)
