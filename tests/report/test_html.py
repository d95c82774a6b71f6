"""Tests of the HTML page and the Markdown summary."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from prefkit.errors import PrefkitDataError
from prefkit.report import (
    ReportData,
    findings,
    render_html,
    render_markdown,
    write_report,
)
from prefkit.report.markdown import markdown_table
from tests.report.conftest import HOSTILE, make_comparisons, make_leaderboard


def test_hostile_model_text_is_escaped(report_data: ReportData) -> None:
    """Script tags and onerror handlers from data never reach the page as markup."""
    page = render_html(report_data)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert "onerror=alert(1)&gt;" in page
    # the hostile response text sits inside the uncertain items, escaped
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 5


def test_page_is_self_contained(report_data: ReportData) -> None:
    """No external URL is referenced: no src/href to http, no link tags."""
    page = render_html(report_data)
    assert not re.search(r"(src|href)\s*=\s*['\"]?https?:", page)
    assert "<link" not in page
    assert page.count("<svg") >= 4


def test_leaderboard_rows_show_rank_intervals(report_data: ReportData) -> None:
    """Each model has a row with its CI and its rank interval."""
    page = render_html(report_data)
    board = page[page.index('class="leaderboard"') : page.index("</table>")]
    assert board.count("<tr>") == 1 + 4
    assert "[1020.0, 1080.0]" in board
    assert "1–3" in board


def test_findings_name_the_position_biased_judge(report_data: ReportData) -> None:
    """A judge picking the first slot 80% of the time is called position-biased."""
    said = findings(report_data)
    assert any("'ab-judge' is position-biased" in s for s in said)
    assert any("Audit 'position' flags judge 'ab-judge'" in s for s in said)
    assert not any("verbosity" in s for s in said)


def test_an_order_blind_judge_is_not_called_biased() -> None:
    """A judge picking the first slot half the time raises no finding."""
    data = ReportData(
        "fair",
        make_leaderboard(),
        make_comparisons(n=2000, first_rate=0.5, seed=3),
    )
    assert findings(data) == []


def test_report_data_rejects_a_leaderboard_missing_columns() -> None:
    """A leaderboard without CIs is refused with the missing columns named."""
    board = make_leaderboard().drop(columns=["lower", "upper"])
    with pytest.raises(PrefkitDataError, match="lower, upper"):
        ReportData("x", board, make_comparisons(n=4))


def test_report_data_rejects_comparisons_missing_models() -> None:
    """Comparisons without model columns are refused."""
    with pytest.raises(PrefkitDataError, match="model_a, model_b"):
        ReportData("x", make_leaderboard(), pd.DataFrame({"winner": ["a"]}))


def test_report_data_rejects_an_audit_missing_columns() -> None:
    """An audit table without flags is refused."""
    audit = pd.DataFrame({"audit": ["position"]})
    with pytest.raises(PrefkitDataError, match="audit table lacks"):
        ReportData("x", make_leaderboard(), make_comparisons(n=4), audit=audit)


def test_report_data_rejects_negative_item_count() -> None:
    """A negative number of uncertain items is refused."""
    with pytest.raises(ValueError, match="n_uncertain must be >= 0"):
        ReportData("x", make_leaderboard(), make_comparisons(n=4), n_uncertain=-1)


def test_markdown_cells_cannot_break_the_table() -> None:
    """Pipes, newlines and tags in cells are neutralised."""
    table = markdown_table(pd.DataFrame({"m": ["a|b\nc<x>"], "v": [0.12345]}))
    assert table.splitlines()[2] == "| a\\|b c&lt;x&gt; | 0.123 |"


def test_markdown_summary_lists_the_leaderboard(report_data: ReportData) -> None:
    """The summary holds one table row per model and the findings."""
    text = render_markdown(report_data)
    assert text.count("| alpha |") == 1
    assert "position-biased" in text
    assert HOSTILE not in text
    # the flagged figure is named, the unflagged one is not
    assert (
        "2 figures, 1 flagged (flag = the whole 95% CI lies outside the band): "
        "position/first_rate of ab-judge." in text
    )


def test_write_report_writes_html_and_markdown(
    report_data: ReportData, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Both files land in the folder, created if absent."""
    path = write_report(report_data, tmp_path / "new" / "run")
    assert path.name == "report.html" and path.is_file()
    assert (path.parent / "summary.md").read_text().startswith("## test report")


def test_position_plot_accepts_an_interval_that_misses_by_rounding() -> None:
    """A first-slot rate of 1 with an upper bound a hair below 1 still plots."""
    from prefkit.report.plots import position_plot

    effect = pd.DataFrame(
        {"judge": ["j"], "first_rate": [1.0], "lower": [0.8], "upper": [1 - 1e-12]}
    )
    assert position_plot(effect).startswith("<svg")
