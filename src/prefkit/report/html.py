"""One self-contained HTML page: inline CSS and SVG, no script, no network.

Every piece of text that comes from data (model names, prompts, responses,
judge ids, notes) passes through :func:`esc` before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from prefkit.report import plots
from prefkit.report.content import ReportData, findings
from prefkit.report.effects import (
    VERDICT_PREFIXES,
    item_uncertainty,
    length_effect,
    position_effect,
    uncertain_items,
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 margin:0;color:#1d2330;background:#fafbfc}
header{background:#1f3b5c;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:21px} header p{margin:4px 0 0;opacity:.85}
nav{padding:6px 24px;background:#e8edf3;position:sticky;top:0}
nav a{margin-right:14px;color:#1f3b5c;text-decoration:none;font-weight:600}
main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
section{margin-top:22px} h2{font-size:18px;border-bottom:1px solid #d5dbe3}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #e3e7ec;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flag td{background:#fdecea} .flagmark{color:#b03a2e;font-weight:700}
.bar{position:relative;width:180px;height:12px;background:#eef1f5}
.bar span{position:absolute;top:2px;height:8px;background:#7aa6d6}
.bar i{position:absolute;top:0;width:2px;height:12px;background:#1f3b5c}
.finding{background:#fff4e5;border-left:4px solid #e08a00;padding:6px 10px;
 margin:6px 0}
.note{background:#eef5ff;border-left:4px solid #1f5fa8;padding:6px 10px;
 margin:6px 0}
figure{margin:8px 0} figure svg{max-width:100%;height:auto}
details{background:#fff;border:1px solid #dfe3e8;border-radius:4px;margin:6px 0;
 padding:4px 10px} summary{cursor:pointer;font-weight:600}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:10px}
pre{white-space:pre-wrap;word-wrap:break-word;background:#f3f5f7;padding:6px;
 margin:4px 0;max-height:320px;overflow:auto;font-size:12.5px}
.muted{color:#6b7380}
"""


#: Win-rate columns shown in the leaderboard when a baseline was given.
RATE_COLUMNS = (("win_rate", "win rate %"), ("lc_win_rate", "LC win rate %"))


def esc(value: Any) -> str:
    """Text from data, HTML-escaped (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def number(value: float) -> str:
    """A number as a reader wants it: 1 decimal above 100, 3 below, e-notation tiny."""
    if not math.isfinite(value):
        return ""
    if abs(value) >= 100:
        return f"{value:.1f}"
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.3f}"
    return f"{value:.2e}"


def _fmt(value: Any) -> str:
    """A cell's text: numbers rounded, missing values blank."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return str(value)


def table_html(df: pd.DataFrame, flag_column: str | None = None) -> str:
    """A plain HTML table of ``df`` (all cells escaped)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = []
    for _, row in df.iterrows():
        flagged = bool(flag_column and bool(row.get(flag_column) is True))
        cells = []
        for col in df.columns:
            value = row[col]
            numeric = isinstance(value, (int, float, np.integer, np.floating))
            numeric = numeric and not isinstance(value, (bool, np.bool_))
            cls = ' class="num"' if numeric else ""
            text = esc(_fmt(value))
            if col == flag_column and flagged:
                text = '<span class="flagmark">FLAG</span>'
            cells.append(f"<td{cls}>{text}</td>")
        tr = ' class="flag"' if flagged else ""
        body.append(f"<tr{tr}>{''.join(cells)}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _ci_bar(value: float, lower: float, upper: float, lo: float, hi: float) -> str:
    """A small CSS bar: the CI as a band, the estimate as a tick."""
    span = hi - lo if hi > lo else 1.0

    def pos(x: float) -> float:
        return max(0.0, min(100.0, 100.0 * (x - lo) / span))

    left, right = pos(lower), pos(upper)
    return (
        f'<div class="bar"><span style="left:{left:.1f}%;width:{right - left:.1f}%">'
        f'</span><i style="left:{pos(value):.1f}%"></i></div>'
    )


def leaderboard_html(table: pd.DataFrame) -> str:
    """The leaderboard with a CI bar and the rank interval on every row."""
    lo = float(np.nanmin(table["lower"].to_numpy(float)))
    hi = float(np.nanmax(table["upper"].to_numpy(float)))
    has_ranks = {"rank_lower", "rank_upper"} <= set(table.columns)
    head = "<th>rank</th><th>model</th><th>rating</th><th>95% CI</th><th></th>"
    head += "<th>rank interval</th>" if has_ranks else ""
    head += "<th>battles</th>" if "n_battles" in table.columns else ""
    rates = [(c, t) for c, t in RATE_COLUMNS if c in table.columns]
    head += "".join(f"<th>{t}</th>" for _, t in rates)
    rows = []
    for _, row in table.iterrows():
        cells = [
            f'<td class="num">{esc(_fmt(row["rank"]))}</td>',
            f"<td>{esc(row['model'])}</td>",
            f'<td class="num">{esc(_fmt(row["rating"]))}</td>',
            f'<td class="num">[{esc(_fmt(row["lower"]))}, '
            f"{esc(_fmt(row['upper']))}]</td>",
            f"<td>{_ci_bar(row['rating'], row['lower'], row['upper'], lo, hi)}</td>",
        ]
        if has_ranks:
            cells.append(
                f'<td class="num">{esc(_fmt(row["rank_lower"]))}–'
                f"{esc(_fmt(row['rank_upper']))}</td>"
            )
        if "n_battles" in table.columns:
            cells.append(f'<td class="num">{esc(_fmt(row["n_battles"]))}</td>')
        cells += [f'<td class="num">{esc(_fmt(row[c]))}</td>' for c, _ in rates]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(svg: str, caption: str) -> str:
    return (
        f"<figure>{svg}<figcaption class='muted'>{esc(caption)}</figcaption></figure>"
    )


def _verdict_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns of an item's rows that say who judged what, in what order."""
    keep = [
        c
        for c in ("judge", "model_a", "model_b", "swapped", "winner", "p_a")
        if c in rows.columns
    ]
    keep += [
        c for c in rows.columns if c.startswith(VERDICT_PREFIXES) and c not in keep
    ]
    out = rows[keep].copy()
    if "swapped" in out.columns:
        out["swapped"] = np.where(
            out["swapped"].astype(bool), "b shown first", "a shown first"
        )
        out = out.rename(columns={"swapped": "order"})
    unc = item_uncertainty(rows)
    if unc.notna().any():
        out["uncertainty"] = unc.to_numpy()
    return out


def item_html(rows: pd.DataFrame) -> str:
    """One uncertain item: prompt, both responses, every verdict on it."""
    first = rows.iloc[0]
    unc = item_uncertainty(rows).max()
    title = f"{first.get('prompt_id', '')}: {first['model_a']} vs {first['model_b']}"
    if pd.notna(unc):
        title += f" (uncertainty {unc:.2f})"
    prompt = first.get("prompt", "")
    parts = [f"<details><summary>{esc(title)}</summary>"]
    parts.append(f"<p><b>Prompt</b></p><pre>{esc(prompt)}</pre>")
    if "response_a" in rows.columns:
        parts.append('<div class="pair">')
        for side in ("a", "b"):
            parts.append(
                f"<div><b>{esc(first[f'model_{side}'])}</b>"
                f"<pre>{esc(first.get(f'response_{side}', ''))}</pre></div>"
            )
        parts.append("</div>")
    parts.append("<p><b>Verdicts</b> (a and b as labelled above)</p>")
    parts.append(table_html(_verdict_rows(rows)))
    parts.append("</details>")
    return "".join(parts)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def _effects_html(comparisons: pd.DataFrame) -> str:
    """Position and length effect plots with their numbers."""
    parts = []
    position = position_effect(comparisons)
    if position.empty:
        parts.append(
            "<p class='muted'>No display order recorded (column "
            "<code>swapped</code>), so no position effect can be shown.</p>"
        )
    else:
        parts.append("<h3>Position</h3>")
        parts.append(
            _figure(
                plots.position_plot(position),
                "Share of verdicts given to the first-shown response; "
                "0.5 (dashed) is an order-blind judge.",
            )
        )
        parts.append(table_html(position))
    length = length_effect(comparisons)
    if length.empty:
        parts.append(
            "<p class='muted'>No responses in the table, so no length "
            "effect can be shown.</p>"
        )
    else:
        parts.append("<h3>Length</h3>")
        parts.append(
            _figure(
                plots.length_plot(length),
                "Share of verdicts won by the longer response, by how "
                "much longer it is.",
            )
        )
    return "".join(parts)


def _audit_html(audit: pd.DataFrame) -> str:
    """Measured audit figures in a table; figures the data did not allow, folded."""
    if not len(audit):
        return "<p class='muted'>No audit figures.</p>"
    measured = audit["value"].notna()
    parts = [table_html(audit[measured], flag_column="flag")]
    if (~measured).any():
        parts.append(
            f"<details><summary>{int((~measured).sum())} figures not computed "
            "(the data do not allow them; the note says why)</summary>"
            f"{table_html(audit[~measured], flag_column='flag')}</details>"
        )
    return "".join(parts)


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document (no script, no external resource)."""
    models = pd.unique(data.comparisons[["model_a", "model_b"]].to_numpy().ravel())
    judges = (
        sorted(data.comparisons["judge"].astype(str).unique())
        if "judge" in data.comparisons.columns
        else []
    )
    subtitle = f"{len(data.comparisons)} comparisons · {len(models)} models" + (
        f" · judges: {', '.join(judges)}" if judges else ""
    )
    sections = []

    # what the audit flags comes first: it says how far to trust the rest
    said = [f'<div class="finding">{esc(f)}</div>' for f in findings(data)]
    said += [f'<div class="note">{esc(n)}</div>' for n in data.notes]
    if said:
        sections.append(_section("findings", "Findings", "".join(said)))

    board = leaderboard_html(data.leaderboard)
    board += _figure(
        plots.leaderboard_plot(data.leaderboard, data.rating_label),
        f"{data.rating_label} with 95% confidence intervals.",
    )
    sections.append(_section("leaderboard", "Leaderboard", board))

    for name, table in data.tables.items():
        sections.append(
            _section("t-" + esc(name).replace(" ", "-"), name, table_html(table))
        )

    if data.win_probabilities is not None and len(data.win_probabilities) > 1:
        sections.append(
            _section(
                "heatmap",
                "Predicted win probabilities",
                _figure(
                    plots.heatmap_plot(data.win_probabilities),
                    "P(row model beats column model) predicted by the fitted model.",
                ),
            )
        )

    if data.audit is not None:
        audit = _audit_html(data.audit)
        audit = (
            "<p class='muted'>A figure is flagged only when its whole 95% CI "
            "[lower, upper] lies outside the band [band_low, band_high].</p>" + audit
        )
        sections.append(_section("audit", "Judge audit", audit))

    sections.append(
        _section(
            "effects", "Position and length effects", _effects_html(data.comparisons)
        )
    )

    items = uncertain_items(data.comparisons, data.n_uncertain)
    body = (
        "<p class='muted'>The items the judges were least sure about: the "
        "ones that would go to human review. Click to open.</p>"
        + "".join(item_html(rows) for rows in items)
    )
    sections.append(_section("uncertain", "Most uncertain items", body))

    settings = json.dumps(data.settings, indent=2, default=str, sort_keys=True)
    sections.append(
        _section(
            "settings",
            "Settings",
            f"<details><summary>run settings</summary>"
            f"<pre>{esc(settings)}</pre></details>",
        )
    )

    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("findings", "Findings"),
            ("leaderboard", "Leaderboard"),
            ("heatmap", "Win probabilities"),
            ("audit", "Audit"),
            ("effects", "Effects"),
            ("uncertain", "Uncertain items"),
        )
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(data.title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(data.title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(sections)}</main></body></html>\n"
    )
