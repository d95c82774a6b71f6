"""The judge prompts: text files a user can override with a folder of their own."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from prefkit.judge.types import JudgeError

PROMPTS_DIR = Path(__file__).with_name("prompts")


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip() + "\n"


def load_prompt(name: str, prompts_dir: str | os.PathLike[str] | None = None) -> str:
    """The template ``name`` (``"pairwise_ab"``, ``"grade"``, ...).

    Parameters
    ----------
    name : str
        File stem under ``prefkit/judge/prompts``.
    prompts_dir : str, PathLike or None, default=None
        A folder whose ``NAME.txt`` files replace the built-in ones (files it
        lacks fall back to the built-in ones).

    Raises
    ------
    JudgeError
        If no such template exists.
    """
    if prompts_dir is not None:
        custom = Path(prompts_dir) / f"{name}.txt"
        if custom.is_file():
            return _read(custom)
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROMPTS_DIR.glob("*.txt")))
        raise JudgeError(f"no prompt template {name!r}; expected one of {known}")
    return _read(path)


def render(template: str, **fields: str) -> str:
    """Fill ``{field}`` slots of a template (values are inserted verbatim)."""
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise JudgeError(
            f"prompt template has a slot that cannot be filled ({exc}); "
            f"available slots: {', '.join(sorted(fields))}; write literal braces "
            "as {{ and }}"
        ) from None
