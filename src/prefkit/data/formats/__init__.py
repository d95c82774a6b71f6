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
from prefkit.data.schema import (
    DATA_KINDS,
    LINES_ATTR,
    SCHEMAS,
    SOURCE_ATTR,
    DataKind,
    guess_kind,
    validate,
)
from prefkit.errors import PrefkitDataError, Problem

logger = logging.getLogger("prefkit.data")

#: ``df.attrs`` keys recording what :func:`load` decided.
KIND_ATTR = "prefkit_kind"
FORMAT_ATTR = "prefkit_format"


def _accept(raw: pd.DataFrame) -> bool:
    return True


@dataclass(frozen=True)
class Format:
    """A file format prefkit can read.

    Attributes
    ----------
    name : str
        Registry key, as given to ``load(..., format=name)``.
    kind : DataKind
        The table it produces (comparisons, rankings, ratings, pairs,
        candidates, prompts or a plain table).
    description : str
        One line for ``prefkit formats`` and error messages.
    detect : callable
        ``detect(field_names) -> bool``; True when a file with these fields is
        in this format. Detectors are tried in registration order.
    convert : callable
        ``convert(raw_df) -> df``: raw fields to canonical columns. It keeps
        ``attrs[LINES_ATTR]`` aligned with its output rows and raises
        :class:`PrefkitDataError` naming file and line for values it cannot
        map (never a silent default).
    sniff : callable, default=accept all
        ``sniff(raw_df) -> bool``, asked after ``detect`` when field names
        alone cannot tell two formats apart (it may look at the values).
    require_winner : bool, default=True
        False for comparison formats that keep rows without a verdict (a
        judge output that could not be parsed), flagged in a column.
    """

    name: str
    kind: DataKind
    description: str
    detect: Callable[[Sequence[str]], bool]
    convert: Callable[[pd.DataFrame], pd.DataFrame]
    sniff: Callable[[pd.DataFrame], bool] = _accept
    require_winner: bool = True


FORMATS: dict[str, Format] = {}

#: Names of the formats that are prefkit's own tables (tried last).
CANONICAL = ("comparisons", "rankings", "ratings", "pairs", "candidates", "prompts")


def register(fmt: Format) -> Format:
    """Add ``fmt`` to :data:`FORMATS` (the same name again replaces it)."""
    FORMATS[fmt.name] = fmt
    return fmt


def _identity(df: pd.DataFrame) -> pd.DataFrame:
    return df


def _canonical_detector(kind: str) -> Callable[[Sequence[str]], bool]:
    return lambda fields: guess_kind(fields) == kind


for _kind in CANONICAL:
    register(
        Format(
            name=_kind,
            kind=_kind,  # type: ignore[arg-type]
            description=f"prefkit's own {_kind} table",
            detect=_canonical_detector(_kind),
            convert=_identity,
        )
    )


def detect_format(
    columns: Sequence[str], raw: pd.DataFrame | None = None
) -> Format | None:
    """The first registered format that accepts ``columns`` (and ``raw``).

    Converters of other formats are tried first, in registration order;
    prefkit's own tables last. ``raw``, when given, lets a format look at
    values to tell itself apart from one with the same fields.
    """
    _load_builtin_formats()
    fields = [str(c) for c in columns]
    for fmt in FORMATS.values():
        if fmt.name in CANONICAL or not fmt.detect(fields):
            continue
        if raw is None or fmt.sniff(raw):
            return fmt
    kind = guess_kind(fields)
    return FORMATS.get(kind) if kind else None


def get_format(name: str) -> Format:
    """The registered format ``name``; an unknown name lists the valid ones."""
    _load_builtin_formats()
    try:
        return FORMATS[name]
    except KeyError:
        valid = ", ".join(sorted(FORMATS))
        raise PrefkitDataError.single(
            "<format>",
            None,
            "format",
            f"unknown format {name!r}; expected 'auto' or one of {valid}",
        ) from None


def convert(
    raw: pd.DataFrame,
    format: str = "auto",
    *,
    require_winner: bool | None = None,
) -> pd.DataFrame:
    """Convert an already-read raw table with the named (or detected) format.

    Parameters
    ----------
    raw : DataFrame
        The file's records as read (``attrs`` carry source and lines).
    format : str, default="auto"
        A key of :data:`FORMATS`, or ``"auto"``.
    require_winner : bool or None, default=None
        For comparisons: None follows the format (False for formats that keep
        unparsable verdicts), True/False forces it.

    Returns
    -------
    DataFrame
        The validated table with ``attrs["prefkit_kind"]`` and
        ``attrs["prefkit_format"]`` set.
    """
    _load_builtin_formats()
    source = str(raw.attrs.get(SOURCE_ATTR, "<table>"))
    if format == "auto":
        found = detect_format(list(raw.columns), raw)
        if found is None:
            _raise_if_near_table(raw, source)
            fields = ", ".join(map(str, raw.columns[:15]))
            raise PrefkitDataError.single(
                source,
                None,
                "-",
                f"cannot tell the format from the fields ({fields}); "
                f"pass a format, one of {', '.join(sorted(FORMATS))}",
            )
        fmt = found
        logger.info("%s: read as format %r (%s)", source, fmt.name, fmt.description)
    else:
        fmt = get_format(format)
    table = _run_converter(fmt, raw, source)
    table.attrs.setdefault(SOURCE_ATTR, source)
    keep_lines = LINES_ATTR not in table.attrs and LINES_ATTR in raw.attrs
    if keep_lines and len(raw) == len(table):
        table.attrs[LINES_ATTR] = raw.attrs[LINES_ATTR]
    kwargs: dict[str, Any] = {}
    if fmt.kind == "comparisons":
        need = fmt.require_winner if require_winner is None else require_winner
        kwargs["require_winner"] = need
    checked = validate(table, fmt.kind, **kwargs)
    checked.attrs[KIND_ATTR] = fmt.kind
    checked.attrs[FORMAT_ATTR] = fmt.name
    return checked


def _raise_if_near_table(raw: pd.DataFrame, source: str) -> None:
    """Name the missing columns of a file that is almost one of prefkit's tables.

    A file with all but one required column of a preference table (say
    ``model_a`` and ``winner`` but no ``model_b``) was meant as that table.
    """
    fields = {str(c) for c in raw.columns}
    present = ", ".join(map(str, raw.columns[:12])) or "none"
    for kind, schema in SCHEMAS.items():
        required = [c.name for c in schema if c.required]
        hits = [c for c in required if c in fields]
        missing = [c for c in required if c not in fields]
        if missing and set(hits) - {"prompt_id"} and len(hits) >= len(required) - 1:
            raise PrefkitDataError(
                [
                    Problem(
                        source,
                        None,
                        name,
                        f"missing column of a {kind} table "
                        f"(columns present: {present})",
                    )
                    for name in missing
                ]
            )


def _run_converter(fmt: Format, raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """``fmt.convert(raw)``, with a field the format needs but lacks reported."""
    try:
        return fmt.convert(raw)
    except KeyError as exc:
        field = str(exc.args[0]) if exc.args else "?"
        if field in map(str, raw.columns):
            raise
        present = ", ".join(map(str, raw.columns[:12])) or "none"
        raise PrefkitDataError.single(
            source,
            None,
            field,
            f"missing field for format {fmt.name!r} (fields present: {present}); "
            "pass the format these fields are in, or omit --format to detect it",
        ) from None


def load(
    path: str | os.PathLike[str],
    format: str = "auto",
    *,
    require_winner: bool | None = None,
) -> pd.DataFrame:
    """Read a file of preferences as a validated canonical table.

    Parameters
    ----------
    path : str or PathLike
        A JSONL, CSV or Parquet file (``.gz`` allowed; a JSON array too).
    format : str, default="auto"
        A key of :data:`FORMATS`, or ``"auto"`` to detect it from the fields
        (the choice is logged and stored in ``df.attrs["prefkit_format"]``).
    require_winner : bool or None, default=None
        For comparisons: False accepts pairs not judged yet; None follows the
        format.

    Returns
    -------
    DataFrame
        The table; ``df.attrs["prefkit_kind"]`` names which.

    Raises
    ------
    PrefkitDataError
        Naming file, line and field of every problem found.

    Examples
    --------
    >>> df = load("crowd-comparisons.jsonl")  # doctest: +SKIP
    >>> df.attrs["prefkit_format"]  # doctest: +SKIP
    'llmfao'
    """
    if format != "auto":
        get_format(format)
    return convert(read_table(path), format, require_winner=require_winner)


def load_kind(
    path: str | os.PathLike[str], kind: DataKind, format: str = "auto"
) -> pd.DataFrame:
    """:func:`load`, then check that the table is of ``kind``."""
    if kind not in DATA_KINDS:
        raise ValueError(
            f"unknown table kind {kind!r}; expected one of {', '.join(DATA_KINDS)}"
        )
    table = load(path, format)
    got = table.attrs[KIND_ATTR]
    if got != kind:
        raise PrefkitDataError.single(
            str(path),
            None,
            "-",
            f"holds a {got} table (format {table.attrs[FORMAT_ATTR]!r}), not "
            f"{kind}; pass a file of {kind} or name its format",
        )
    return table


def load_candidates(path: str | os.PathLike[str], format: str = "auto") -> pd.DataFrame:
    """Read responses to be judged: ``prompt_id, prompt, model, response``.

    Accepts prefkit's candidates table, Arena-Hard answers, AlpacaEval model
    outputs and FairEval answers (anything whose format makes candidates).

    Examples
    --------
    >>> c = load_candidates("arena_hard_v0.1_answers.jsonl.gz")  # doctest: +SKIP
    """
    return load_kind(path, "candidates", format)


def load_prompts(path: str | os.PathLike[str], format: str = "auto") -> pd.DataFrame:
    """Read a prompt set: ``prompt_id, prompt`` and maybe ``reference``.

    Accepts prefkit's prompts table and the MT-Bench, Vicuna-bench and
    arena-bench question files.

    Examples
    --------
    >>> p = load_prompts("mt_bench_questions.jsonl")  # doctest: +SKIP
    """
    return load_kind(path, "prompts", format)


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
