"""Small tables shipped with prefkit (``prefkit info`` runs on one by default)."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent

#: Shipped tables by name.
BUILTIN_TABLES = {"demo_battles": "demo_battles.jsonl"}


def builtin_path(name: str = "demo_battles") -> Path:
    """Path of a shipped table; an unknown name lists the valid ones."""
    try:
        return FOLDER / BUILTIN_TABLES[name]
    except KeyError:
        valid = ", ".join(sorted(BUILTIN_TABLES))
        raise ValueError(
            f"unknown built-in table {name!r}; expected one of {valid}"
        ) from None
