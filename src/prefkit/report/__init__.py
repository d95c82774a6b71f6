"""HTML and Markdown reports of an evaluation (leaderboard, audit, effects).

:func:`write_report` writes ``report.html`` (one self-contained file: inline
CSS and SVG, no script, nothing fetched at view time) and ``summary.md``
beside it, from a :class:`ReportData`.
"""

from __future__ import annotations

import os
from pathlib import Path

from prefkit.report.content import ReportData, findings
from prefkit.report.html import render_html
from prefkit.report.markdown import render_markdown

__all__ = ["ReportData", "findings", "render_html", "render_markdown", "write_report"]


def write_report(data: ReportData, folder: str | os.PathLike[str]) -> Path:
    """Write ``report.html`` and ``summary.md`` into ``folder``.

    Parameters
    ----------
    data : ReportData
        What to show.
    folder : str or PathLike
        Output folder (created if absent).

    Returns
    -------
    Path
        The path of ``report.html``.

    Examples
    --------
    >>> path = write_report(data, "runs/today")  # doctest: +SKIP
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "report.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    (out / "summary.md").write_text(render_markdown(data), encoding="utf-8")
    return html_path
