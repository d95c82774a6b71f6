"""Converters from the formats people already have to the canonical tables.

Each format is a :class:`Format` in the :data:`FORMATS` registry: a name, the
table it produces, a ``detect`` test on the raw field names and a ``convert``
function from the raw table to the canonical one. A new format is one module
that calls :func:`register`; nothing else changes. :func:`load` reads a file,
picks the format (``format="auto"`` detects it from the fields and says which
it chose), converts and validates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from prefkit.data.io import read_table
from prefkit.data.schema import LINES_ATTR, SOURCE_ATTR, TableKind, guess_kind, validate
from prefkit.errors import PrefkitDataError

logger = logging.getLogger("prefkit.data")

#: ``df.attrs`` keys recording what :func:`load` decided.
KIND_ATTR = "prefkit_kind"
FORMAT_ATTR = "prefkit_format"


@dataclass(frozen=True)
class Format:
    """A file format prefkit can read.

    Attributes
    ----------
    name : str
        Registry key, as given to ``load(..., format=name)``.
    kind : {"comparisons", "rankings", "ratings"}
        The canonical table it produces.
    description : str
        One line for ``prefkit formats`` and error messages.
    detect : callable
        ``detect(field_names) -> bool``; True when a file with these fields is
        in this format. Detectors are tried in registration order, so more
        specific formats register first.
    convert : callable
        ``convert(raw_df) -> df``: raw fields to canonical columns. It keeps
        ``attrs[LINES_ATTR]`` aligned with its output rows and raises
        :class:`PrefkitDataError` naming file and line for values it cannot
        map (never a silent default).
    """

    name: str
    kind: TableKind
    description: str
    detect: Callable[[Sequence[str]], bool]
    convert: Callable[[pd.DataFrame], pd.DataFrame]


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add ``fmt`` to :data:`FORMATS` (a later registration with the same name replaces it)."""
    FORMATS[fmt.name] = fmt
    return fmt


def _identity(df: pd.DataFrame) -> pd.DataFrame:
    return df


for _kind in ("comparisons", "rankings", "ratings"):
    register(
        Format(
            name=_kind,
            kind=_kind,  # type: ignore[arg-type]
            description=f"prefkit's canonical {_kind} table",
            detect=lambda fields, k=_kind: guess_kind(fields) == k,
            convert=_identity,
        )
    )


def detect_format(columns: Sequence[str]) -> Format | None:
    """The first registered format whose detector accepts ``columns``."""
    _load_builtin_formats()
    fields = [str(c) for c in columns]
    for fmt in FORMATS.values():
        if fmt.name in ("comparisons", "rankings", "ratings"):
            continue
        if fmt.detect(fields):
            return fmt
    kind = guess_kind(fields)
    return FORMATS[kind] if kind else None


def convert(
    raw: pd.DataFrame, format: str = "auto", *, require_winner: bool = True
) -> pd.DataFrame:
    """Convert an already-read raw table with the named (or detected) format."""
    _load_builtin_formats()
    source = str(raw.attrs.get(SOURCE_ATTR, "<table>"))
    if format == "auto":
        fmt = detect_format(list(raw.columns))
        if fmt is None:
            fields = ", ".join(map(str, raw.columns[:15]))
            raise PrefkitDataError.single(
                source, None, "-",
                f"cannot tell the format from the fields ({fields}); "
                f"pass format= one of {', '.join(sorted(FORMATS))}",
            )
        logger.info("%s: read as format %r (%s)", source, fmt.name, fmt.description)
    else:
        try:
            fmt = FORMATS[format]
        except KeyError:
            raise ValueError(
                f"unknown format {format!r}; expected 'auto' or one of {', '.join(sorted(FORMATS))}"
            ) from None
    table = fmt.convert(raw)
    table.attrs.setdefault(SOURCE_ATTR, source)
    if LINES_ATTR not in table.attrs and LINES_ATTR in raw.attrs and len(raw) == len(table):
        table.attrs[LINES_ATTR] = raw.attrs[LINES_ATTR]
    kwargs: dict[str, Any] = {}
    if fmt.kind == "comparisons":
        kwargs["require_winner"] = require_winner
    checked = validate(table, fmt.kind, **kwargs)
    checked.attrs[KIND_ATTR] = fmt.kind
    checked.attrs[FORMAT_ATTR] = fmt.name
    return checked


def load(
    path: str | os.PathLike[str], format: str = "auto", *, require_winner: bool = True
) -> pd.DataFrame:
    """Read a file of preferences as a validated canonical table.

    Parameters
    ----------
    path : str or PathLike
        A JSONL, CSV or Parquet file (``.gz`` allowed).
    format : str, default="auto"
        A key of :data:`FORMATS`, or ``"auto"`` to detect it from the fields
        (the choice is logged and stored in ``df.attrs["prefkit_format"]``).
    require_winner : bool, default=True
        For comparisons: False accepts pairs not judged yet.

    Returns
    -------
    DataFrame
        The canonical table; ``df.attrs["prefkit_kind"]`` names which.

    Raises
    ------
    PrefkitDataError
        Naming file, line and field of every problem found.

    Examples
    --------
    >>> df = load("battles.jsonl")  # doctest: +SKIP
    >>> df.attrs["prefkit_format"]  # doctest: +SKIP
    'arena'
    """
    return convert(read_table(path), format, require_winner=require_winner)


_BUILTINS_LOADED = False


def _load_builtin_formats() -> None:
    """Import the modules that register the built-in converters (once)."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
