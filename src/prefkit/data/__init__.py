"""Canonical tables, validation, readers/writers and format converters."""

from prefkit.data.formats import FORMATS, Format, convert, detect_format, load, register
from prefkit.data.io import iter_jsonl, read_table, write_table
from prefkit.data.schema import (
    COMPARISONS,
    OUTCOMES,
    RANKINGS,
    RATINGS,
    TABLE_KINDS,
    TableKind,
    guess_kind,
    validate,
    validate_comparisons,
    validate_rankings,
    validate_ratings,
)

__all__ = [
    "COMPARISONS",
    "FORMATS",
    "OUTCOMES",
    "RANKINGS",
    "RATINGS",
    "TABLE_KINDS",
    "Format",
    "TableKind",
    "convert",
    "detect_format",
    "guess_kind",
    "iter_jsonl",
    "load",
    "read_table",
    "register",
    "validate",
    "validate_comparisons",
    "validate_rankings",
    "validate_ratings",
    "write_table",
]
