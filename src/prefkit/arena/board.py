"""The live leaderboard: people's ratings, the judges' on the same pairs, agreement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prefkit.arena.ratings import (
    LEADERBOARD_COLUMNS,
    agreement,
    fit_bt,
    judges_on_human_pairs,
    leaderboard_table,
)
from prefkit.rank import DisconnectedGraphError, leaderboard

#: Ridge penalty of every live fit: keeps a model that never lost finite.
L2 = 1e-2
#: Battles every model needs before the board switches to sandwich intervals.
MIN_BATTLES = 30


@dataclass(frozen=True)
class Board:
    """Everything the leaderboard page shows.

    Attributes
    ----------
    human : DataFrame
        Leaderboard (``docs/tables.md``) fitted to the human votes.
    judges : dict of str to DataFrame
        For each judge, the leaderboard fitted to its verdicts on the pairs
        people voted on.
    notes : dict of str to str
        How each board was fitted (``"human"`` and each judge's name).
    agreement : DataFrame
        ``judge, n, agree, rate, lower, upper`` (see
        :func:`~prefkit.arena.ratings.agreement`).
    n_votes : int
        Votes behind ``human``.
    n_voters : int
        Distinct voter pseudonyms among them.
    """

    human: pd.DataFrame
    judges: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    agreement: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_votes: int = 0
    n_voters: int = 0


def _board_of(comparisons: pd.DataFrame, level: float) -> tuple[pd.DataFrame, str]:
    """A leaderboard and a note on how it was fitted.

    :func:`prefkit.rank.leaderboard` (sandwich intervals) once the comparison
    graph is connected and every model has :data:`MIN_BATTLES` battles. Before
    that, early in a collection, the sandwich estimate is far too narrow (a
    model that lost its only two battles gets a tight interval), so the board
    uses the ridge fit of :func:`~prefkit.arena.ratings.fit_bt` with Wald
    intervals from the penalised information, which stay wide.
    """
    if comparisons.empty:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS)), "no comparisons yet"
    table = comparisons.loc[:, ["model_a", "model_b", "winner"]]
    fewest = pd.concat([table["model_a"], table["model_b"]]).value_counts().min()
    early = (
        f"ridge Bradley-Terry with Wald intervals (sandwich intervals once "
        f"every model has {MIN_BATTLES} battles and the graph is connected)"
    )
    if fewest < MIN_BATTLES:
        return leaderboard_table(fit_bt(table, l2=L2), level=level), early
    try:
        board = leaderboard(table, l2=L2, ci="sandwich", alpha=1.0 - level)
    except DisconnectedGraphError as exc:
        return leaderboard_table(fit_bt(table, l2=L2), level=level), f"{exc}; {early}"
    columns = list(LEADERBOARD_COLUMNS)
    return board.table.loc[:, columns], "Bradley-Terry with sandwich intervals"


def build_board(
    human: pd.DataFrame, verdicts: pd.DataFrame, *, level: float = 0.95
) -> Board:
    """Fit the human and judge leaderboards and their agreement.

    Parameters
    ----------
    human : DataFrame
        Comparisons from votes (``prompt_id, model_a, model_b, winner,
        judge``; ``judge`` is the voter pseudonym).
    verdicts : DataFrame
        Judges' verdicts (``prompt_id, model_a, model_b, judge, winner``).
    level : float, default=0.95
        Confidence level of every interval.

    Returns
    -------
    Board
    """
    paired = judges_on_human_pairs(human, verdicts)
    human_board, human_note = _board_of(human, level)
    judges, notes = {}, {"human": human_note}
    for judge, rows in paired.groupby("judge", sort=True):
        as_comparisons = rows.rename(columns={"judge_winner": "winner"})
        judges[str(judge)], notes[str(judge)] = _board_of(as_comparisons, level)
    return Board(
        human=human_board,
        judges=judges,
        notes=notes,
        agreement=agreement(paired, level=level),
        n_votes=len(human),
        n_voters=int(human["judge"].nunique()) if "judge" in human else 0,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NaN becomes None)."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return None if np.isnan(value) else float(value)
        return value

    rows = frame.to_dict("records")
    return [{str(k): plain(v) for k, v in row.items()} for row in rows]


def board_json(board: Board) -> dict[str, Any]:
    """The leaderboard as plain JSON values."""
    return {
        "n_votes": board.n_votes,
        "n_voters": board.n_voters,
        "notes": board.notes,
        "human": _records(board.human),
        "judges": {k: _records(v) for k, v in board.judges.items()},
        "agreement": _records(board.agreement),
    }
