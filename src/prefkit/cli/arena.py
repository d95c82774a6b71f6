"""``prefkit arena``: serve the voting app, export its votes, show its board."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    clean_errors,
    console,
    print_frame,
    print_json,
)

ADMIN_TOKEN_ENV = "PREFKIT_ARENA_ADMIN_TOKEN"

DbOption = Annotated[
    Path, typer.Option("--db", help="The arena's SQLite file (created if absent).")
]

F = TypeVar("F", bound=Callable[..., Any])


def _database_errors(func: F) -> F:
    """Turn SQLite's errors on the ``--db`` file into one line naming the file."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            db = kwargs.get("db", args[0] if args else "?")
            raise CliError(
                f"--db {db}: not a readable arena database ({exc}); "
                "give the SQLite file `prefkit arena serve` made"
            ) from None

    return wrapper  # type: ignore[return-value]


@clean_errors
@_database_errors
def serve(
    db: DbOption,
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates",
            help="Responses to pit against each other: prompt_id, prompt, model, "
            "response (JSONL, CSV or Parquet).",
        ),
    ] = None,
    queue: Annotated[
        Path | None,
        typer.Option(
            "--queue",
            help="Human-review queue from `prefkit judge --route-to-humans`; "
            "served first, most uncertain first.",
        ),
    ] = None,
    judged: Annotated[
        Path | None,
        typer.Option(
            "--judged",
            help="Judges' verdicts (a comparisons table) shown beside the votes.",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    rate_limit: Annotated[
        int,
        typer.Option("--rate-limit", help="Requests a minute per client; 0 = off."),
    ] = 120,
    queue_votes: Annotated[
        int, typer.Option("--queue-votes", help="Votes wanted per queue item.")
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pair sampler.")] = 0,
) -> None:
    """Start the arena web app: people vote on anonymous pairs.

    Admin routes (uploads, export, reset) are on only when the environment
    variable PREFKIT_ARENA_ADMIN_TOKEN holds a token of 16+ characters.

    Example: prefkit arena serve --db arena.sqlite --candidates answers.jsonl
    --queue to_humans.jsonl --port 8000
    """
    import uvicorn

    from prefkit.arena import ArenaConfig, ArenaStore, create_app, load_inputs

    config = ArenaConfig(
        db=db,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        rate_limit=rate_limit,
        queue_votes=queue_votes,
        seed=seed,
    )
    store = ArenaStore(db)
    loaded = load_inputs(store, candidates=candidates, queue=queue, judged=judged)
    counts = store.counts()
    store.close()
    for name, n in loaded.items():
        console.print(f"loaded {n} rows of {name}", highlight=False)
    if counts["candidates"] == 0 and counts["queue"] == 0:
        console.print(
            f"{db} holds no candidates or queue yet; pass --candidates FILE "
            "or upload them on /admin",
            highlight=False,
        )
    console.print(f"arena on http://{host}:{port}/", highlight=False)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")


@clean_errors
@_database_errors
def export(
    db: DbOption,
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Output file (.jsonl, .csv, .parquet).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Write every vote as a comparisons table (voter pseudonym as `judge`).

    Example: prefkit arena export --db arena.sqlite -o votes.jsonl
    """
    from prefkit.arena import ArenaStore, votes_to_comparisons
    from prefkit.data import write_table

    _must_exist(db)
    store = ArenaStore(db)
    table = votes_to_comparisons(store.votes())
    store.close()
    write_table(table, out)
    summary = {"file": str(out), "votes": len(table)}
    if as_json:
        print_json(summary)
    else:
        console.print(f"wrote {len(table)} votes to {out}", highlight=False)


@clean_errors
@_database_errors
def board(db: DbOption, as_json: JsonOption = False) -> None:
    """Show the leaderboard from the votes so far, beside the judges'.

    Example: prefkit arena leaderboard --db arena.sqlite --json
    """
    from prefkit.arena import ArenaStore, board_json, build_board, votes_to_comparisons

    _must_exist(db)
    store = ArenaStore(db)
    result = build_board(votes_to_comparisons(store.votes()), store.verdicts())
    store.close()
    if as_json:
        print_json(board_json(result))
        return
    title = f"people ({result.n_votes} votes, {result.n_voters} voters)"
    print_frame(result.human, title=title, floatfmt="{:.0f}")
    for name, table in result.judges.items():
        print_frame(table, title=f"judge {name}, same pairs", floatfmt="{:.0f}")
    if not result.agreement.empty:
        print_frame(result.agreement, title="judge-human agreement")


def _must_exist(db: Path) -> None:
    if not db.is_file():
        raise CliError(f"--db {db}: no such file; start `prefkit arena serve` first")


def register(app: typer.Typer) -> None:
    """Add ``prefkit arena serve|export|leaderboard`` to ``app``."""
    arena = typer.Typer(
        help="The arena: people vote on anonymous pairs; votes become comparisons.",
        no_args_is_help=True,
    )
    arena.command("serve")(serve)
    arena.command("export")(export)
    arena.command("leaderboard")(board)
    app.add_typer(arena, name="arena")
