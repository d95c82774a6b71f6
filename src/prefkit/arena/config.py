"""Settings of one arena server, validated once when they are made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefkit.errors import PrefkitError

#: Shortest admin token accepted (a guessable token is no protection).
MIN_ADMIN_TOKEN_CHARS = 16


class ArenaConfigError(PrefkitError, ValueError):
    """A setting of the arena server that cannot be used."""


@dataclass(frozen=True)
class ArenaConfig:
    """How an arena server behaves.

    Attributes
    ----------
    db : Path
        The SQLite file that holds candidates, the queue, battles and votes.
    admin_token : str or None, default=None
        Secret that admin routes (uploads, export, reset) require; None
        disables them. The CLI reads it from ``PREFKIT_ARENA_ADMIN_TOKEN``.
    rate_limit : int, default=120
        Requests a minute one client (IP address) may make; 0 disables.
    max_body_bytes : int, default=65536
        Largest request body accepted outside the admin upload routes.
    max_upload_bytes : int, default=20971520
        Largest body accepted by the admin upload routes.
    battle_ttl_s : float, default=3600.0
        Seconds a battle's one-time token stays valid.
    queue_votes : int, default=1
        Human votes wanted on each queue item before it leaves the queue.
    reason_max_chars : int, default=1000
        Longest optional reason a voter may give.
    seed : int, default=0
        Seed of the pair sampler and of the left/right order.
    """

    db: Path
    admin_token: str | None = None
    rate_limit: int = 120
    max_body_bytes: int = 64 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    battle_ttl_s: float = 3600.0
    queue_votes: int = 1
    reason_max_chars: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "db", Path(self.db))
        token = self.admin_token
        if token is not None and len(token) < MIN_ADMIN_TOKEN_CHARS:
            raise ArenaConfigError(
                f"admin_token is too short (got {len(token)} characters; expected "
                f"at least {MIN_ADMIN_TOKEN_CHARS}); set PREFKIT_ARENA_ADMIN_TOKEN "
                "to a long random string, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`"
            )
        _at_least("rate_limit", self.rate_limit, 0)
        _at_least("max_body_bytes", self.max_body_bytes, 1024)
        _at_least("max_upload_bytes", self.max_upload_bytes, 1024)
        _at_least("battle_ttl_s", self.battle_ttl_s, 1)
        _at_least("queue_votes", self.queue_votes, 1)
        _at_least("reason_max_chars", self.reason_max_chars, 0)


def _at_least(name: str, value: float, low: float) -> None:
    """Reject a setting below its smallest sensible value."""
    if isinstance(value, bool) or not value >= low:
        raise ArenaConfigError(
            f"{name} is out of range (got {value!r}; expected a number >= {low:g})"
        )
