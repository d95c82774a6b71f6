"""The arena: people vote on anonymous pairs, fed by the judges' hardest items.

``prefkit arena serve`` runs :func:`create_app`; votes live in an SQLite file
(:class:`ArenaStore`) and leave it as a comparisons table
(:func:`votes_to_comparisons`). See ``docs/tables.md`` for the human-review
queue it reads.
"""

from prefkit.arena.app import create_app
from prefkit.arena.board import Board, board_json, build_board
from prefkit.arena.config import ArenaConfig, ArenaConfigError
from prefkit.arena.export import EXPORT_COLUMNS, votes_to_comparisons
from prefkit.arena.inputs import (
    read_candidates,
    read_queue,
    validate_candidates,
    validate_queue,
)
from prefkit.arena.ratings import BTFit, fit_bt, leaderboard_table
from prefkit.arena.state import Arena, load_inputs
from prefkit.arena.store import ArenaStore, Battle, VoteError

__all__ = [
    "EXPORT_COLUMNS",
    "Arena",
    "ArenaConfig",
    "ArenaConfigError",
    "ArenaStore",
    "BTFit",
    "Battle",
    "Board",
    "VoteError",
    "board_json",
    "build_board",
    "create_app",
    "fit_bt",
    "leaderboard_table",
    "load_inputs",
    "read_candidates",
    "read_queue",
    "validate_candidates",
    "validate_queue",
    "votes_to_comparisons",
]
