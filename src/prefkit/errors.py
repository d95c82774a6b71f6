"""Exceptions and warning classes shared by every prefkit package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: How many problems one :class:`PrefkitDataError` lists before summarising.
MAX_PROBLEMS = 20


class PrefkitError(Exception):
    """Base class of every error prefkit raises on purpose.

    The CLI prints ``str(error)`` as one clean line (or one line per problem)
    and exits non-zero; it never shows a traceback for these.
    """


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input record.

    Attributes
    ----------
    source : str
        File name (or ``"<table>"`` for an in-memory table).
    line : int or None
        1-based line (JSONL), row (CSV, counting the header as line 1) or
        row number (Parquet, in-memory), or None when the problem is not
        tied to one record (a missing column, an empty file).
    field : str
        The column or field concerned (``"-"`` for the whole record).
    message : str
        What is wrong, with the received and expected values.
    """

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


def _shorten(value: object, limit: int = 60) -> str:
    """Repr of a received value, cut to ``limit`` characters.

    NumPy scalars are shown as the Python value they hold (``inf``, not
    ``np.float64(inf)``).
    """
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def got_expected(what: str, got: object, expected: str) -> str:
    """Uniform wording: ``what (got X; expected Y)``."""
    return f"{what} (got {_shorten(got)}; expected {expected})"


class PrefkitDataError(PrefkitError, ValueError):
    """Input data that cannot be used as it is.

    Parameters
    ----------
    problems : sequence of Problem
        Every problem found (the message lists up to ``MAX_PROBLEMS``).
    n_more : int, default=0
        Problems found beyond those listed, if the scan stopped early.
    """

    def __init__(self, problems: Sequence[Problem], n_more: int = 0) -> None:
        self.problems = list(problems)
        self.n_more = n_more + max(0, len(self.problems) - MAX_PROBLEMS)
        lines = [str(p) for p in self.problems[:MAX_PROBLEMS]]
        if self.n_more:
            lines.append(f"... and {self.n_more} more problems")
        super().__init__("\n".join(lines))

    @classmethod
    def single(
        cls, source: str, line: int | None, field: str, message: str
    ) -> PrefkitDataError:
        """An error made of one problem."""
        return cls([Problem(source, line, field, message)])


class PrefkitWarning(UserWarning):
    """Base class of prefkit's warnings."""


class ConvergenceWarning(PrefkitWarning):
    """An iterative fit stopped before meeting its tolerance."""


class JudgeBiasWarning(PrefkitWarning):
    """An audit found a judge bias whose whole CI leaves the unbiased band."""


class OrderDependenceWarning(PrefkitWarning):
    """A result depends on the order of the input rows (e.g. online Elo)."""


class DroppedRowsWarning(PrefkitWarning):
    """A reader left out records it cannot use (it names their lines)."""
