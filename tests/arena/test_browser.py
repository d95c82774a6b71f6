"""End to end in a real headless Chromium: vote, reveal, leaderboard, no XSS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.arena.helpers import Server, candidate_rows, write_jsonl

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "arena"
PAYLOADS = (
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    "<a href=\"javascript:window.__pwned = 3; alert('link')\">click me</a>",
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent; install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_vote_five_battles_and_see_the_leaderboard(tmp_path: Path, browser: Any):
    """Five votes reveal two names each; the leaderboard then counts five votes."""
    rows = candidate_rows(5)
    server = Server(tmp_path / "a.sqlite", write_jsonl(tmp_path / "c.jsonl", rows))
    try:
        page = browser.new_page()
        page.goto(server.url + "/")
        for k, button in enumerate(["left", "right", "tie", "bothbad", "left"]):
            assert page.locator("#left").inner_text().strip()
            _shot(page, f"battle-{k + 1}")
            page.click(f"#vote-{button}")
            page.wait_for_url("**/reveal/*")
            names = {
                page.locator("#model-left").inner_text(),
                page.locator("#model-right").inner_text(),
            }
            assert len(names) == 2 and names <= {"alpha", "beta", "gamma"}
            _shot(page, f"reveal-{k + 1}")
            page.click("#next")
            page.wait_for_selector("#vote-left")
        page.goto(server.url + "/leaderboard")
        summary = page.locator("#summary").inner_text()
        _shot(page, "leaderboard")
        assert summary.startswith("5 votes from 1 voters")
        shown = page.locator("#human td.model").all_inner_texts()
        assert set(shown) <= {"alpha", "beta", "gamma"} and len(shown) >= 2
    finally:
        server.kill()


def test_hostile_text_never_executes(tmp_path: Path, browser: Any):
    """Script tags, onerror images and javascript: links show as inert text."""
    rows = candidate_rows(1, ("<b onmouseover=alert(9)>evil</b>", "plain"))
    rows[0]["response"], rows[1]["response"] = PAYLOADS[0], PAYLOADS[1]
    rows[0]["prompt"] = rows[1]["prompt"] = PAYLOADS[2]
    server = Server(tmp_path / "x.sqlite", write_jsonl(tmp_path / "c.jsonl", rows))
    dialogs: list[str] = []
    try:
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/")
        page.wait_for_timeout(300)
        _shot(page, "xss-battle")
        texts = page.locator(".text").all_inner_texts()
        assert PAYLOADS[2] in texts[0]
        assert {PAYLOADS[0], PAYLOADS[1]} == {t.strip() for t in texts[1:]}
        page.get_by_text("click me").first.click()
        page.click("#vote-left")
        page.wait_for_url("**/reveal/*")
        page.locator(".model").first.hover()
        _shot(page, "xss-reveal")
        reveal_names = page.locator(".model").all_inner_texts()
        assert "<b onmouseover=alert(9)>evil</b>" in reveal_names
        page.goto(server.url + "/leaderboard")
        page.locator("td.model").first.hover()
        _shot(page, "xss-leaderboard")
        for path in ("/", "/leaderboard"):
            page.goto(server.url + path)
            found = page.evaluate(
                "() => [document.scripts.length,"
                " document.querySelectorAll('main img, main a[href^=javascript],"
                " main b').length, window.__pwned === undefined]"
            )
            assert found == [0, 0, True]
        assert dialogs == []
    finally:
        server.kill()
