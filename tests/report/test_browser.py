"""The report opened in a real headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prefkit.report import ReportData, write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def open_report(path: Path, screenshot: Path) -> dict[str, object]:
    """Load ``path`` in Chromium; return console errors, failed requests and counts."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    found: dict[str, object] = {"errors": [], "requests": [], "dialogs": []}
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 800})
            page.on(
                "console",
                lambda m: m.type == "error" and found["errors"].append(m.text),  # type: ignore[union-attr]
            )
            page.on("pageerror", lambda e: found["errors"].append(str(e)))  # type: ignore[union-attr]
            page.on(
                "request",
                lambda r: r.url.startswith("file:") or found["requests"].append(r.url),  # type: ignore[union-attr]
            )
            # an alert() from injected model text would open a dialog
            page.on("dialog", lambda d: found["dialogs"].append(d.message))  # type: ignore[union-attr]
            page.goto(path.as_uri())
            found["leaderboard_rows"] = page.locator(
                "table.leaderboard tbody tr"
            ).count()
            found["svgs"] = page.locator("figure svg").count()
            found["items"] = page.locator("#uncertain details").count()
            page.locator("#uncertain details").first.click()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return found


@pytest.mark.browser
def test_report_renders_in_chromium(report_data: ReportData, tmp_path: Path) -> None:
    """The page loads with no console error, no request, its table and plots present."""
    path = write_report(report_data, tmp_path)
    shot = ARTIFACTS / "report-synthetic.png"
    found = open_report(path, shot)
    assert found["errors"] == []
    assert found["requests"] == []
    assert found["dialogs"] == []
    assert found["leaderboard_rows"] == 4
    assert found["svgs"] >= 4  # type: ignore[operator]
    assert found["items"] == 5
    assert shot.stat().st_size > 10_000
