"""A short Markdown summary of a report, for pasting into a pull request."""

from __future__ import annotations

from typing import Any

import pandas as pd

from prefkit.report.content import ReportData, findings
from prefkit.report.html import number


def _cell(value: Any) -> str:
    """A Markdown table cell: numbers rounded, pipes and newlines neutralised."""
    if isinstance(value, float):
        return number(value)
    text = "" if value is None or value is pd.NA else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """``df`` as a GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(_cell(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    rows = [
        "| " + " | ".join(_cell(v) for v in row) + " |"
        for row in df.itertuples(index=False, name=None)
    ]
    return "\n".join([head, rule, *rows])


def render_markdown(data: ReportData) -> str:
    """Findings (flagged audit figures in words first), then the leaderboard."""
    board = data.leaderboard
    columns = [
        c
        for c in (
            "rank",
            "model",
            "rating",
            "lower",
            "upper",
            "rank_lower",
            "rank_upper",
            "n_battles",
        )
        if c in board
    ]
    parts = [f"## {_cell(data.title)}"]
    # what the audit flags comes first: it says how far to trust the rest
    said = findings(data) + list(data.notes)
    if said:
        parts += ["", "### Findings", ""]
        parts += [f"- {_cell(s)}" for s in said]
    parts += ["", "### Leaderboard", "", markdown_table(board[columns])]
    for name, table in data.tables.items():
        parts += ["", f"### {_cell(name)}", "", markdown_table(table)]
    if data.audit is not None and len(data.audit):
        flagged = data.audit[data.audit["flag"].fillna(False).astype(bool)]
        names = [
            f"{r['audit']}/{r['figure']} of {r['judge']}"
            for r in flagged.to_dict(orient="records")
        ]
        parts += [
            "",
            f"Audit: {len(data.audit)} figures, {len(flagged)} flagged "
            "(flag = the whole 95% CI lies outside the band)"
            + (f": {_cell('; '.join(names))}." if names else "."),
        ]
    parts += ["", f"{len(data.comparisons)} comparisons. Full report: report.html", ""]
    return "\n".join(parts)
