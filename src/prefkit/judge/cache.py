"""The on-disk SQLite cache that makes every judge run resumable.

Every reply is stored under a key hashed from (backend, model, prompt text,
sampling settings, sample index) and committed as soon as it arrives, in
write-ahead-log mode: a run killed at any point (``kill -9`` included) keeps
every reply it received, and a re-run sends only the requests still missing.
Failed attempts are never stored, so a re-run retries them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from prefkit.judge.types import Completion, JudgeError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    reply TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class Cache:
    """A SQLite store of replies (one row per request key).

    Parameters
    ----------
    path : str or PathLike
        The database file (created with its folder if absent).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # the event loop, progress thread and worker threads may all touch it
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise JudgeError(
                f"cache {self.path} cannot be opened as a SQLite database ({exc}); "
                "pass another --cache path or delete the file"
            ) from None
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The stored reply text for ``key``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT reply FROM replies WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, backend: str, model: str, request: str, reply: str) -> None:
        """Store one reply and commit at once (an existing key is kept)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
                (key, backend, model, request, reply, time.time()),
            )
            self._db.commit()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        """The stored replies of those ``keys`` that are present."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, reply FROM replies WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update((str(k), str(v)) for k, v in rows)
        return found

    def get_completion(self, key: str) -> Completion | None:
        """The stored :class:`Completion` for ``key``, or None."""
        text = self.get(key)
        return None if text is None else Completion.from_json(text)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def open_cache(cache: str | os.PathLike[str] | Cache | None) -> Cache | None:
    """A :class:`Cache` from a path (or the cache itself, or None for none)."""
    if cache is None or isinstance(cache, Cache):
        return cache
    return Cache(cache)
