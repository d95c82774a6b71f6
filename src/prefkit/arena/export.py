"""Votes as a canonical ``comparisons`` table, for every other prefkit command."""

from __future__ import annotations

import pandas as pd

from prefkit.data import validate_comparisons

#: Columns of the exported table, in order (see ``docs/tables.md``).
EXPORT_COLUMNS: tuple[str, ...] = (
    "prompt_id", "prompt", "model_a", "model_b", "response_a", "response_b",
    "winner", "judge", "swapped", "time", "source", "tie_kind", "reason",
    "battle_id", "uncertainty",
)  # fmt: skip


def votes_to_comparisons(votes: pd.DataFrame) -> pd.DataFrame:
    """Turn the store's votes (:meth:`ArenaStore.votes`) into comparisons.

    Parameters
    ----------
    votes : DataFrame
        One row per vote joined with its battle.

    Returns
    -------
    DataFrame
        A validated comparisons table: ``winner`` in the battle's a/b
        labelling, ``judge`` the voter's pseudonym, ``swapped`` True when
        ``model_b`` was shown on the left, ``time`` the vote's UTC time (ISO
        8601), ``source`` ``queue`` or ``sampling``, ``tie_kind`` ``"bothbad"``
        for a both-bad vote, ``reason`` the voter's optional reason and
        ``uncertainty`` the judge's uncertainty for queue items.
    """
    if votes.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in EXPORT_COLUMNS})
        return validate_comparisons(empty, source="<arena votes>")
    time = pd.to_datetime(votes["created_at"], unit="s", utc=True)
    table = pd.DataFrame(
        {
            "prompt_id": votes["prompt_id"].astype(str),
            "prompt": votes["prompt"],
            "model_a": votes["model_a"],
            "model_b": votes["model_b"],
            "response_a": votes["response_a"],
            "response_b": votes["response_b"],
            "winner": votes["winner"],
            "judge": votes["voter"],
            "swapped": votes["swapped"].astype(bool),
            "time": time.map(lambda t: t.isoformat(timespec="milliseconds")),
            "source": votes["source"],
            "tie_kind": votes["choice"].map({"bothbad": "bothbad"}),
            "reason": votes["reason"],
            "battle_id": votes["battle_id"].astype(int),
            "uncertainty": pd.to_numeric(votes["uncertainty"]).astype(float),
        }
    )
    return validate_comparisons(table, source="<arena votes>")
