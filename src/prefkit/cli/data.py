"""``prefkit info``, ``validate``, ``convert`` and ``formats``: data files."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer

from prefkit.cli.common import (
    JsonOption,
    clean_errors,
    console,
    err_console,
    print_json,
)
from prefkit.data.builtin import builtin_path
from prefkit.data.formats import FORMATS, _load_builtin_formats, get_format, load
from prefkit.data.io import FILE_FORMATS, file_format, write_table
from prefkit.data.pairs import (
    DROPPED_ATTR,
    TRL_STYLES,
    comparisons_to_pairs,
    write_trl,
)
from prefkit.data.schema import DATA_KINDS
from prefkit.data.summary import summarize
from prefkit.errors import PrefkitDataError, PrefkitWarning

FormatOption = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="Input format (see `prefkit formats`); auto detects."
    ),
]
TARGETS = ("trl", *FILE_FORMATS)
T = TypeVar("T")


def _say(text: str) -> None:
    """One line of human output, never wrapped."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


#: The kinds ``validate --kind`` checks (a plain ``table`` has no contract).
VALIDATE_KINDS = tuple(k for k in DATA_KINDS if k != "table")


def _load(path: Path, format: str) -> pd.DataFrame:
    """:func:`load`, with prefkit's warnings shown as one clean line each."""
    return _with_warnings(load, path, format)


def _with_warnings(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)``, with prefkit's warnings shown as one clean line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrefkitWarning)
        result = func(*args)
    for warning in caught:
        if issubclass(warning.category, PrefkitWarning):
            err_console.print(
                f"[yellow]warning:[/] {warning.message}",
                highlight=False,
                soft_wrap=True,
            )
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result


def _show_info(info: dict[str, Any], path: str) -> None:
    """Human-readable summary (the --json output holds every field)."""
    _say(f"{path}: {info['rows']} rows, {info['kind']} (format {info['format']})")
    if "models" in info:
        shown = ", ".join(info["models"][:12])
        more = f" ... (+{len(info['models']) - 12})" if len(info["models"]) > 12 else ""
        _say(f"models ({info['n_models']}): {shown}{more}")
    if info["kind"] == "comparisons":
        o = info["outcomes"]
        _say(
            f"comparisons: {info['n_comparisons']} over {info['n_model_pairs']} model "
            f"pairs; a {o['a']}, b {o['b']}, ties {info['ties']}, "
            f"unjudged {info['unjudged']}"
        )
        if info["connected"]:
            _say("comparison graph: connected")
        else:
            _say(f"comparison graph: NOT connected, {info['n_components']} components")
            for k, group in enumerate(info["components"][:10], start=1):
                _say(f"  {k}: {', '.join(group[:8])}{' ...' if len(group) > 8 else ''}")
    for key in ("n_prompts", "multi_turn", "unparsable", "swapped"):
        if key in info:
            _say(f"{key.replace('_', ' ')}: {info[key]}")
    if "judges" in info:
        judges = sorted(info["judges"].items(), key=lambda kv: -kv[1])
        text = ", ".join(f"{k} {v}" for k, v in judges[:10])
        more = f" ... (+{len(judges) - 10})" if len(judges) > 10 else ""
        _say(f"per judge: {text}{more}")
    if "dropped" in info:
        d = info["dropped"]
        _say(f"left out: {d['n']} rows ({d['reason']})")


@clean_errors
def info(
    file: Annotated[
        Path | None,
        typer.Argument(help="JSONL/CSV/Parquet file; omitted: a built-in demo table."),
    ] = None,
    format: FormatOption = "auto",
    json: JsonOption = False,
) -> None:
    """Summarise a file: models, pair counts, ties, judges, graph connectivity.

    Example: prefkit info ../shared/data/llmfao/crowd-comparisons.jsonl --json
    """
    path = file if file is not None else builtin_path()
    table = _load(path, format)
    summary = {"file": str(path), **summarize(table)}
    if json:
        print_json(summary)
    else:
        _show_info(summary, str(path))


@clean_errors
def validate(
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help=f"Check as this prefkit table: {', '.join(VALIDATE_KINDS)}.",
        ),
    ] = None,
    format: FormatOption = "auto",
    json: JsonOption = False,
) -> None:
    """Check a file; print one line per problem (file:line: field: ...).

    Exits 1 when there are problems, 0 with "ok: N rows" otherwise.

    Example: prefkit validate battles.jsonl --kind comparisons
    """
    if kind is not None:
        if kind not in VALIDATE_KINDS:
            raise PrefkitDataError.single(
                "--kind",
                None,
                "kind",
                f"unknown kind {kind!r}; expected one of " + ", ".join(VALIDATE_KINDS),
            )
        if format != "auto":
            raise PrefkitDataError.single(
                "--kind", None, "kind", "give --kind or --format, not both"
            )
        format = kind
    try:
        table = _load(file, format)
    except PrefkitDataError as exc:
        if json:
            problems = [
                {
                    "source": p.source,
                    "line": p.line,
                    "field": p.field,
                    "message": p.message,
                }
                for p in exc.problems
            ]
            print_json({"ok": False, "problems": problems, "n_more": exc.n_more})
        else:
            for line in str(exc).splitlines():
                typer.echo(line)
        raise typer.Exit(1) from None
    result = {
        "ok": True,
        "rows": len(table),
        "kind": table.attrs.get("prefkit_kind"),
        "format": table.attrs.get("prefkit_format"),
    }
    if json:
        print_json(result)
    else:
        typer.echo(
            f"ok: {len(table)} rows ({result['kind']}, format {result['format']})"
        )


def _nested_columns(df: pd.DataFrame) -> list[str]:
    """Columns holding lists or dicts (which CSV cannot keep)."""
    nested = []
    for col in df.columns:
        if (
            df[col].dtype == object
            and df[col].map(lambda v: isinstance(v, (list, dict, tuple))).any()
        ):
            nested.append(str(col))
    return nested


@clean_errors
def convert(
    file: Annotated[Path, typer.Argument(help="The file to convert.")],
    to: Annotated[str, typer.Option("--to", help=f"Output: {', '.join(TARGETS)}.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file.")],
    format: FormatOption = "auto",
    style: Annotated[
        str,
        typer.Option(
            "--style",
            help=f"TRL style: {', '.join(TRL_STYLES)} (auto: messages "
            "when every row has them).",
        ),
    ] = "auto",
    json: JsonOption = False,
) -> None:
    """Convert a file to TRL preference data or a prefkit table (JSONL/Parquet/CSV).

    Example: prefkit convert ../shared/data/hh_rlhf/helpful-base_test.jsonl.gz
    --to trl -o hh.jsonl
    """
    if to not in TARGETS:
        raise PrefkitDataError.single(
            "--to",
            None,
            "to",
            f"unknown target {to!r}; expected one of " + ", ".join(TARGETS),
        )
    if style not in TRL_STYLES:
        raise PrefkitDataError.single(
            "--style",
            None,
            "style",
            f"unknown style {style!r}; expected one of " + ", ".join(TRL_STYLES),
        )
    suffix_format = file_format(output)
    if to != "trl" and suffix_format != to:
        raise PrefkitDataError.single(
            str(output),
            None,
            "-",
            f"the file name says {suffix_format}, but --to "
            f"is {to}; name the output *.{to}",
        )
    table = _load(file, format)
    kind = table.attrs.get("prefkit_kind")
    source_format = table.attrs.get("prefkit_format", kind)
    if to == "trl":
        if kind == "comparisons":
            table = _with_warnings(comparisons_to_pairs, table)
        elif kind != "pairs":
            raise PrefkitDataError.single(
                str(file),
                None,
                "-",
                f"a {kind} table cannot become TRL preference "
                "data; give pairs (prompt/chosen/rejected) or comparisons with texts",
            )
        write_trl(table, output, style)  # type: ignore[arg-type]
    else:
        nested = _nested_columns(table) if to == "csv" else []
        if nested:
            raise PrefkitDataError.single(
                str(file),
                None,
                nested[0],
                f"column(s) {', '.join(nested)} hold "
                "lists, which CSV cannot keep; convert to jsonl or parquet",
            )
        write_table(table, output)
    result = {
        "input": str(file),
        "format": source_format,
        "kind": kind,
        "to": to,
        "rows": len(table),
        "output": str(output),
    }
    dropped = table.attrs.get(DROPPED_ATTR)
    if dropped:
        result["dropped"] = {"n": len(dropped["lines"]), "reason": dropped["reason"]}
    if json:
        print_json(result)
    else:
        typer.echo(f"wrote {len(table)} rows to {output} ({to})")


@clean_errors
def formats(json: JsonOption = False) -> None:
    """List the formats prefkit reads (name, table made, description).

    Example: prefkit formats --json
    """
    _load_builtin_formats()
    rows = [
        {"name": f.name, "kind": f.kind, "description": f.description}
        for f in (get_format(n) for n in FORMATS)
    ]
    if json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['name']:<26} {row['kind']:<12} {row['description']}")


def register(app: typer.Typer) -> None:
    """Add the data commands to ``app``."""
    app.command("info")(info)
    app.command("validate")(validate)
    app.command("convert")(convert)
    app.command("formats")(formats)
