"""``prefkit audit``: every passive audit a file allows, plus live probes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from prefkit.cli.common import (
    CliError,
    JsonOption,
    SeedOption,
    clean_errors,
    console,
    print_frame,
    print_json,
    to_jsonable,
)


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """The computed rows as figure, value, CI, band and flag columns."""
    shown = table[table["value"].notna()].copy()

    def interval(lo: float, hi: float) -> str:
        return "" if pd.isna(lo) else f"[{lo:.3f}, {hi:.3f}]"

    shown["CI"] = list(map(interval, shown["lower"], shown["upper"]))
    shown["band"] = list(map(interval, shown["band_low"], shown["band_high"]))
    shown["flag"] = shown["flag"].map({True: "FLAG", False: ""})
    cols = ["judge", "audit", "figure", "value", "CI", "band", "flag", "n"]
    return shown[cols]


def _families(values: list[str] | None) -> dict[str, str]:
    """``NAME=FAMILY`` options as a mapping; a malformed one is a CLI error."""
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, family = value.partition("=")
        if not sep or not name.strip() or not family.strip():
            raise CliError(
                f"--family {value!r}: expected NAME=FAMILY (a judge or model "
                "name and its family), e.g. --family gpt4_1106_preview=gpt-4"
            )
        out[name.strip()] = family.strip()
    return out


def audit(
    file: Annotated[
        Path,
        typer.Argument(help="Comparisons (judge verdicts): JSONL, CSV or Parquet."),
    ],
    gold: Annotated[
        Path | None,
        typer.Option("--gold", help="Human/gold comparisons on the same pairs."),
    ] = None,
    ratings: Annotated[
        Path | None,
        typer.Option("--ratings", help="Pointwise grades (scale use, DBG)."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Reference model for (LC) win rates."),
    ] = None,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            help="NAME=FAMILY: the model family of a judge or model, for the "
            "self-preference audit (repeatable). A judge's family is otherwise "
            "its own name, so give the judge and its models the same family, "
            "e.g. --family weighted_alpaca_eval_gpt4_turbo=gpt-4 "
            "--family gpt4_1106_preview=gpt-4.",
        ),
    ] = None,
    probes: Annotated[
        str | None,
        typer.Option(
            "--probes",
            help="Live probes: all or a list of bandwagon, authority, distraction, "
            "reflection, verbosity, position (needs --judge).",
        ),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Judge spec for the probes, e.g. local."),
    ] = None,
    mitigations: Annotated[
        str,
        typer.Option(
            "--mitigations",
            help="Probe mitigations: none, system_prompt, icl, reflection.",
        ),
    ] = "none",
    max_pairs: Annotated[
        int | None,
        typer.Option("--max-pairs", help="Probe at most this many pairs (first N)."),
    ] = None,
    rounds: Annotated[
        int, typer.Option("--rounds", help="Cluster-bootstrap rounds.")
    ] = 1000,
    alpha: Annotated[
        float, typer.Option("--alpha", help="One minus the confidence level.")
    ] = 0.05,
    fmt: Annotated[
        str, typer.Option("--format", help="Input format (auto detects it).")
    ] = "auto",
    seed: SeedOption = 0,
    as_json: JsonOption = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result as JSON.")
    ] = None,
) -> None:
    """Audit a judge: position, verbosity, self-preference, calibration,
    consistency, agreement with gold, and live bias probes.

    Each figure has a cluster-bootstrap CI over prompts; FLAG marks a CI lying
    wholly outside the band an unbiased judge could occupy.

    Self-preference compares the judge's family with the others: map the
    judge and the models of its family to one name with --family.

    Example: prefkit audit verdicts.jsonl --gold humans.jsonl -o audit.json
    """
    from prefkit.audit import AuditResult
    from prefkit.audit import audit as run_audit
    from prefkit.audit.probes import parse_probes, probe
    from prefkit.data import load

    if probes is not None and judge is None:
        raise CliError("--probes needs --judge (e.g. --judge local)")
    names = parse_probes(probes) if probes is not None else []
    families = _families(family)
    table = load(file, fmt, require_winner=not names)
    if table.attrs.get("prefkit_kind") != "comparisons":
        raise CliError(
            f"{file} holds {table.attrs.get('prefkit_kind')}; expected comparisons"
        )
    gold_df = load(gold, require_winner=False) if gold is not None else None
    ratings_df = load(ratings) if ratings is not None else None

    parts: list[AuditResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if table["winner"].notna().any():
            parts.append(
                run_audit(
                    table,
                    gold=gold_df,
                    ratings=ratings_df,
                    baseline=baseline,
                    rounds=rounds,
                    alpha=alpha,
                    seed=seed,
                    families=families,
                    warn=False,
                )
            )
        if names:
            pairs = table if max_pairs is None else table.head(max_pairs)
            parts.append(
                probe(
                    pairs,
                    judge,
                    probes=names,
                    mitigations=[m.strip() for m in mitigations.split(",")],
                    rounds=rounds,
                    alpha=alpha,
                    seed=seed,
                    warn=False,
                )
            )
    if not parts:
        raise CliError(f"{file} holds no verdicts; pass --probes and --judge to probe")
    result = AuditResult(
        pd.concat([p.table for p in parts], ignore_index=True),
        {k: v for p in parts for k, v in p.details.items() if k != "probe_verdicts"},
    )
    if output is not None:
        output.write_text(
            json.dumps(to_jsonable(result.to_dict()), indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    if as_json:
        print_json(result.to_dict())
        return
    level = round(100 * (1 - alpha))
    print_frame(_display(result.table), title=f"judge audit ({level}% CIs)")
    skipped = int(result.table["value"].isna().sum())
    n_flags = int(result.table["flag"].sum())
    console.print(
        f"{n_flags} flagged; {skipped} figures skipped (the data do not allow "
        "them; --json shows why)"
    )
    shown = {
        "win_rates": ["model", "win_rate", "lower", "upper", "n_total"],
        "lc_win_rates": [
            "model",
            "lc_win_rate",
            "lower",
            "upper",
            "length_coef",
            "note",
        ],
    }
    for name, cols in shown.items():
        if name in result.details:
            frame = result.details[name][cols]
            print_frame(frame, title=name.replace("_", " ") + " (%)", floatfmt="{:.2f}")
    if output is not None:
        console.print(f"written to {output}")


def register(app: typer.Typer) -> None:
    """Add ``prefkit audit`` to ``app``."""
    app.command("audit")(clean_errors(audit))
