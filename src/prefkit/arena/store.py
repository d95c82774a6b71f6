"""The arena's SQLite store: candidates, queue, judges' verdicts, battles, votes.

One connection in WAL mode with ``synchronous=FULL``: a vote is committed (its
WAL frame synced to disk) before the voter is told it counted, so it survives
the server being killed, or the machine losing power. Opening a battle skips
that sync (a lost open battle loses nothing acknowledged). Every statement is
parameterised. One lock serialises access, which also makes "pick a queue item
and open a battle on it" atomic between concurrent voters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from prefkit.errors import PrefkitError

#: What a voter can say about the two responses, as shown on screen.
Choice = Literal["left", "right", "tie", "bothbad"]
CHOICES: tuple[Choice, ...] = ("left", "right", "tie", "bothbad")
#: Where a battle's pair came from.
Source = Literal["queue", "sampling"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL, prompt TEXT NOT NULL,
    model TEXT NOT NULL, response TEXT NOT NULL,
    UNIQUE (prompt_id, model)
);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL, prompt TEXT NOT NULL,
    model_a TEXT NOT NULL, model_b TEXT NOT NULL,
    response_a TEXT NOT NULL, response_b TEXT NOT NULL,
    uncertainty REAL NOT NULL, p_a REAL, judge TEXT NOT NULL,
    UNIQUE (prompt_id, model_a, model_b, judge)
);
CREATE TABLE IF NOT EXISTS verdicts (
    prompt_id TEXT NOT NULL, model_a TEXT NOT NULL, model_b TEXT NOT NULL,
    judge TEXT NOT NULL, winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
    PRIMARY KEY (prompt_id, model_a, model_b, judge)
);
CREATE TABLE IF NOT EXISTS battles (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    voter TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('queue', 'sampling')),
    queue_id INTEGER REFERENCES queue (id) ON DELETE SET NULL,
    prompt_id TEXT NOT NULL, prompt TEXT NOT NULL,
    model_a TEXT NOT NULL, model_b TEXT NOT NULL,
    response_a TEXT NOT NULL, response_b TEXT NOT NULL,
    swapped INTEGER NOT NULL CHECK (swapped IN (0, 1)),
    created_at REAL NOT NULL, expires_at REAL NOT NULL, voted_at REAL
);
CREATE INDEX IF NOT EXISTS battles_queue ON battles (queue_id);
CREATE INDEX IF NOT EXISTS battles_voter ON battles (voter);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    battle_id INTEGER NOT NULL UNIQUE REFERENCES battles (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie', 'bothbad')),
    winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
    reason TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class VoteError(PrefkitError):
    """A vote the arena refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Battle:
    """One pair shown to one voter (``swapped``: ``model_b`` shown on the left)."""

    id: int
    voter: str
    source: Source
    queue_id: int | None
    prompt_id: str
    prompt: str
    model_a: str
    model_b: str
    response_a: str
    response_b: str
    swapped: bool
    created_at: float
    expires_at: float
    voted_at: float | None

    @property
    def left(self) -> tuple[str, str]:
        """(model, response) shown on the left."""
        if self.swapped:
            return self.model_b, self.response_b
        return self.model_a, self.response_a

    @property
    def right(self) -> tuple[str, str]:
        """(model, response) shown on the right."""
        if self.swapped:
            return self.model_a, self.response_a
        return self.model_b, self.response_b


def hash_token(token: str) -> str:
    """The stored form of a one-time token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def winner_of(choice: Choice, swapped: bool) -> str:
    """The verdict in the battle's a/b labelling for a choice made on screen."""
    if choice in ("tie", "bothbad"):
        return "tie"
    left_is_a = not swapped
    return "a" if (choice == "left") == left_is_a else "b"


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating) the arena database in WAL mode with full syncs."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), check_same_thread=False, timeout=30.0, isolation_level=None
    )
    conn.row_factory = sqlite3.Row
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise PrefkitError(
            f"{path}: the database could not be put in WAL mode (got {mode!r}); "
            "keep it on a local disk, not a network share"
        )
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(SCHEMA)
    return conn


class ArenaStore:
    """All the arena's persistent state, behind one lock.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with its tables when absent).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        self._lock = threading.Lock()
        self.secret = self._secret()

    def close(self) -> None:
        """Close the connection (a checkpoint folds the WAL into the file)."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One locked, immediate transaction (committed before returning).

        ``durable`` syncs the WAL at commit (``synchronous=FULL``); without it
        the commit survives a killed process but not a power cut until the
        next durable commit, which syncs the WAL frames before its own.
        """
        with self._lock:
            mode = "FULL" if durable else "NORMAL"
            self._conn.execute(f"PRAGMA synchronous={mode}")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _secret(self) -> bytes:
        """The server's HMAC key, made once per database and kept in it."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('secret', ?)", (value,)
                )
            else:
                value = row["value"]
        return bytes.fromhex(value)

    # inputs -------------------------------------------------------------

    def put_candidates(self, table: pd.DataFrame) -> int:
        """Add or replace responses by ``(prompt_id, model)``; returns the count."""
        rows = list(
            table.loc[:, ["prompt_id", "prompt", "model", "response"]].itertuples(
                index=False, name=None
            )
        )
        with self._tx() as db:
            db.executemany(
                "INSERT INTO candidates (prompt_id, prompt, model, response) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (prompt_id, model) DO UPDATE SET "
                "prompt = excluded.prompt, response = excluded.response",
                rows,
            )
        return len(rows)

    def put_queue(self, queue: pd.DataFrame) -> int:
        """Add or update queue items (from :func:`~prefkit.arena.inputs.read_queue`).

        The judge's verdict on each item is kept in the verdicts table.
        """
        columns = [
            "prompt_id", "prompt", "model_a", "model_b",
            "response_a", "response_b", "uncertainty", "p_a", "judge",
        ]  # fmt: skip
        rows = [
            tuple(None if isinstance(v, float) and np.isnan(v) else v for v in r)
            for r in queue.loc[:, columns].itertuples(index=False, name=None)
        ]
        with self._tx() as db:
            db.executemany(
                "INSERT INTO queue (prompt_id, prompt, model_a, model_b, response_a, "
                "response_b, uncertainty, p_a, judge) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (prompt_id, model_a, model_b, judge) DO UPDATE SET "
                "uncertainty = excluded.uncertainty, p_a = excluded.p_a",
                rows,
            )
        judged = queue[queue["judge_winner"].notna()]
        verdicts = judged.rename(columns={"judge_winner": "winner"})
        self.put_verdicts(verdicts)
        return len(rows)

    def put_verdicts(self, table: pd.DataFrame) -> int:
        """Add or replace judges' verdicts (``prompt_id, model_a, model_b,
        judge, winner``) on pairs people may vote on."""
        cols = ["prompt_id", "model_a", "model_b", "judge", "winner"]
        rows = [
            tuple(str(v) for v in r)
            for r in table.loc[:, cols].itertuples(index=False, name=None)
        ]
        with self._tx() as db:
            db.executemany(
                "INSERT INTO verdicts (prompt_id, model_a, model_b, judge, winner) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (prompt_id, model_a, model_b, "
                "judge) DO UPDATE SET winner = excluded.winner",
                rows,
            )
        return len(rows)

    def candidates(self) -> pd.DataFrame:
        """Every candidate response, as a candidates table."""
        return self._frame(
            "SELECT prompt_id, prompt, model, response FROM candidates ORDER BY id"
        )

    def verdicts(self) -> pd.DataFrame:
        """Every judge verdict, as a comparisons table without responses."""
        return self._frame(
            "SELECT prompt_id, model_a, model_b, judge, winner FROM verdicts"
        )

    def _frame(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=names)

    # battles and votes --------------------------------------------------

    def open_battle(
        self,
        voter: str,
        pair: dict[str, str] | None,
        *,
        swapped: bool,
        ttl_s: float,
        queue_votes: int,
        now: float | None = None,
    ) -> tuple[Battle, str] | None:
        """Open a battle for ``voter`` and return it with its one-time token.

        The most uncertain queue item this voter has not seen and that still
        wants votes comes first (counting votes and unexpired open battles);
        otherwise ``pair`` (a sampled pair with ``prompt_id, prompt, model_a,
        model_b, response_a, response_b``); None when neither exists.
        """
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(24)
        # losing an unvoted battle costs nothing (its vote would be refused),
        # so opening one skips the fsync that a vote pays
        with self._tx(durable=False) as db:
            item = db.execute(
                "SELECT q.* FROM queue q WHERE (SELECT COUNT(*) FROM battles b "
                "WHERE b.queue_id = q.id AND (b.voted_at IS NOT NULL OR "
                "b.expires_at > ?)) < ? AND NOT EXISTS (SELECT 1 FROM battles b "
                "WHERE b.queue_id = q.id AND b.voter = ?) "
                "ORDER BY q.uncertainty DESC, q.id LIMIT 1",
                (now, queue_votes, voter),
            ).fetchone()
            if item is not None:
                source, queue_id, fields = "queue", item["id"], dict(item)
            elif pair is not None:
                source, queue_id, fields = "sampling", None, pair
            else:
                return None
            cursor = db.execute(
                "INSERT INTO battles (token_hash, voter, source, queue_id, prompt_id,"
                " prompt, model_a, model_b, response_a, response_b, swapped, "
                "created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    hash_token(token), voter, source, queue_id,
                    fields["prompt_id"], fields["prompt"],
                    fields["model_a"], fields["model_b"],
                    fields["response_a"], fields["response_b"],
                    int(swapped), now, now + ttl_s,
                ),
            )  # fmt: skip
            battle_id = cursor.lastrowid
            row = db.execute("SELECT * FROM battles WHERE id = ?", (battle_id,))
            battle = _battle(row.fetchone())
        return battle, token

    def battle(self, battle_id: int) -> Battle | None:
        """The battle with this id, if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM battles WHERE id = ?", (battle_id,)
            ).fetchone()
        return None if row is None else _battle(row)

    def battle_by_token(self, token: str) -> Battle | None:
        """The battle a one-time token belongs to, if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM battles WHERE token_hash = ?", (hash_token(token),)
            ).fetchone()
        return None if row is None else _battle(row)

    def cast_vote(
        self,
        token: str,
        voter: str,
        pair_digest: str,
        choice: str,
        reason: str,
        now: float | None = None,
    ) -> Battle:
        """Record one vote, durably, or raise :class:`VoteError`.

        The token must belong to an unexpired battle of this voter that has no
        vote yet, and ``pair_digest`` must be that battle's (the pair shown).
        Marking the battle voted and inserting the vote are one transaction.
        """
        now = time.time() if now is None else now
        if choice not in CHOICES:
            raise VoteError(
                f"unknown choice {choice[:20]!r}; expected one of {', '.join(CHOICES)}"
            )
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM battles WHERE token_hash = ?", (hash_token(token),)
            ).fetchone()
            if row is None:
                raise VoteError("this battle token is not valid", 403)
            battle = _battle(row)
            if not hmac.compare_digest(battle.voter, voter):
                raise VoteError("this battle was shown to another voter", 403)
            if not hmac.compare_digest(pair_digest, self.pair_digest(battle)):
                raise VoteError("the vote is not for the pair that was shown", 400)
            if battle.expires_at <= now:
                raise VoteError("this battle has expired; open a new one", 410)
            done = db.execute(
                "UPDATE battles SET voted_at = ? WHERE id = ? AND voted_at IS NULL",
                (now, battle.id),
            )
            if done.rowcount != 1:
                raise VoteError("this battle already has a vote", 409)
            db.execute(
                "INSERT INTO votes (battle_id, voter, choice, winner, reason, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (battle.id, voter, choice, winner_of(choice, battle.swapped),
                 reason, now),
            )  # fmt: skip
        return battle

    def pair_digest(self, battle: Battle) -> str:
        """A keyed digest of the pair a battle shows (left, right, prompt)."""
        shown = "\x1f".join(
            [str(battle.id), battle.prompt_id, battle.left[0], battle.right[0]]
        )
        return hmac.new(self.secret, shown.encode(), "sha256").hexdigest()[:32]

    def choice_of(self, battle_id: int) -> str | None:
        """What the voter chose in a battle (None before the vote)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT choice FROM votes WHERE battle_id = ?", (battle_id,)
            ).fetchone()
        return None if row is None else str(row["choice"])

    def outcomes(self) -> pd.DataFrame:
        """``model_a, model_b, winner`` of every vote (light, for sampling)."""
        return self._frame(
            "SELECT b.model_a, b.model_b, v.winner FROM votes v "
            "JOIN battles b ON b.id = v.battle_id"
        )

    def counts(self) -> dict[str, int]:
        """Rows held: candidates, queue items, verdicts, battles and votes."""
        with self._lock:
            return {
                name: int(
                    self._conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                )
                for name in ("candidates", "queue", "verdicts", "battles", "votes")
            }

    def n_votes(self) -> int:
        """How many votes are stored."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0])

    def votes(self) -> pd.DataFrame:
        """Every vote joined with its battle, oldest first."""
        return self._frame(
            "SELECT v.id AS vote_id, v.battle_id, v.voter, v.choice, v.winner, "
            "v.reason, v.created_at, b.source, b.queue_id, b.prompt_id, b.prompt, "
            "b.model_a, b.model_b, b.response_a, b.response_b, b.swapped, "
            "q.uncertainty FROM votes v JOIN battles b ON b.id = v.battle_id "
            "LEFT JOIN queue q ON q.id = b.queue_id ORDER BY v.id"
        )

    def reset(self) -> int:
        """Delete every battle and vote (inputs stay); returns votes deleted."""
        with self._tx() as db:
            n = int(db.execute("SELECT COUNT(*) FROM votes").fetchone()[0])
            db.execute("DELETE FROM votes")
            db.execute("DELETE FROM battles")
        return n


def _battle(row: sqlite3.Row) -> Battle:
    return Battle(
        id=int(row["id"]),
        voter=row["voter"],
        source=row["source"],
        queue_id=row["queue_id"],
        prompt_id=row["prompt_id"],
        prompt=row["prompt"],
        model_a=row["model_a"],
        model_b=row["model_b"],
        response_a=row["response_a"],
        response_b=row["response_b"],
        swapped=bool(row["swapped"]),
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
        voted_at=row["voted_at"],
    )
