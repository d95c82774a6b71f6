"""The web app over HTTP: votes, reveal, leaderboard, export, and its defences."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prefkit.arena import ArenaConfig, ArenaConfigError
from prefkit.arena.export import EXPORT_COLUMNS
from tests.arena.helpers import (
    ADMIN,
    candidate_rows,
    form_fields,
    make_client,
    open_battle,
    queue_rows,
    vote,
)

BEARER = {"Authorization": f"Bearer {ADMIN}"}


def test_vote_then_reveal_shows_the_names(client: TestClient):
    """A vote redirects to a page naming both models; before it, none is named."""
    page = client.get("/").text
    assert not any(f">{m}<" in page for m in ("alpha", "beta", "gamma"))
    response = vote(client, form_fields(page), "left", reason="clearer")
    assert response.status_code == 303
    reveal = client.get(response.headers["location"])
    assert reveal.status_code == 200
    named = [m for m in ("alpha", "beta", "gamma") if f">{m}</span>" in reveal.text]
    assert len(named) == 2
    assert "A is better" in reveal.text


def test_vote_without_token_is_refused(client: TestClient):
    """No token, or a made-up one, is refused with 403 and nothing is stored."""
    fields = open_battle(client)
    for token in ("", "made-up-token"):
        response = vote(client, {**fields, "token": token})
        assert response.status_code == 403
        assert "not valid" in response.text
    assert client.get("/healthz").json()["votes"] == 0


def test_second_vote_on_a_battle_is_refused(client: TestClient):
    """Replaying the form of a battle already voted on gives 409."""
    fields = open_battle(client)
    assert vote(client, fields).status_code == 303
    again = vote(client, fields, "right")
    assert again.status_code == 409
    assert "already has a vote" in again.text
    assert client.get("/healthz").json()["votes"] == 1


def test_vote_for_a_pair_not_shown_is_refused(client: TestClient):
    """A token of one battle with the pair digest of another is refused."""
    first, second = open_battle(client), open_battle(client)
    response = vote(client, {**first, "pair": second["pair"]})
    assert response.status_code == 400
    assert "not for the pair that was shown" in response.text


def test_token_of_another_voter_is_refused(client: TestClient):
    """A battle token stolen by another browser (own cookie and CSRF) is refused."""
    fields = open_battle(client)
    thief = TestClient(client.app)
    own = open_battle(thief)
    response = vote(thief, {**fields, "csrf": own["csrf"]})
    assert response.status_code == 403
    assert "another voter" in response.text


def test_csrf_token_is_required(client: TestClient):
    """A vote with a missing or foreign CSRF token is refused with 403."""
    fields = open_battle(client)
    for csrf in ("", "0" * 64):
        response = vote(client, {**fields, "csrf": csrf})
        assert response.status_code == 403
        assert "CSRF" in response.text
    client.cookies.clear()
    assert vote(client, fields).status_code == 403


def test_reveal_needs_the_voters_own_finished_battle(client: TestClient):
    """Names stay hidden before the vote and from other voters."""
    page = client.get("/")
    battle_id = 1
    assert client.get(f"/reveal/{battle_id}").status_code == 403
    vote(client, form_fields(page.text))
    other = TestClient(client.app)
    assert other.get(f"/reveal/{battle_id}").status_code == 404
    assert client.get("/reveal/999").status_code == 404


def test_reason_length_is_limited(tmp_path: Path):
    """A reason longer than the configured limit is refused."""
    with make_client(tmp_path, reason_max_chars=10) as c:
        response = vote(c, open_battle(c), reason="x" * 11)
        assert response.status_code == 400
        assert "got 11 characters; max 10" in response.text


def test_text_is_escaped_in_every_page(tmp_path: Path):
    """Markup in prompts, responses and model names reaches the page as text."""
    rows = candidate_rows(1, ("<b>evil</b>", "good"))
    rows[0]["response"] = "<script>alert(1)</script>"
    rows[1]["prompt"] = rows[0]["prompt"] = '<img src=x onerror="alert(2)">'
    with make_client(tmp_path, rows=rows) as c:
        page = c.get("/")
        assert "<script>alert(1)" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<img" not in page.text
        reveal = c.get(vote(c, form_fields(page.text)).headers["location"]).text
        board = c.get("/leaderboard").text
        for html in (reveal, board):
            assert "<b>evil</b>" not in html
            assert "&lt;b&gt;evil&lt;/b&gt;" in html


def test_security_headers_forbid_inline_script(client: TestClient):
    """Every answer carries a CSP without 'unsafe-inline', and no-framing headers."""
    for path in ("/", "/leaderboard", "/static/arena.css", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_rate_limit_per_client(tmp_path: Path):
    """The sixth request in a minute from one client gets 429."""
    with make_client(tmp_path, rate_limit=5) as c:
        codes = [c.get("/healthz").status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        assert c.get("/healthz").headers["retry-after"] == "60"


def test_request_size_limit(client: TestClient):
    """Bodies above the limit get 413, whether declared or streamed."""
    fields = open_battle(client)
    big = vote(client, fields, reason="x" * 70_000)
    assert big.status_code == 413

    def chunks():
        for _ in range(70):
            yield b"x" * 1024

    streamed = client.post(
        "/vote",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    assert client.get("/healthz").json()["votes"] == 0


def test_admin_routes_disabled_without_a_token(tmp_path: Path):
    """With no admin token configured every admin route answers 403."""
    with make_client(tmp_path, admin_token=None) as c:
        response = c.get("/admin/export", headers=BEARER)
        assert response.status_code == 403
        assert "PREFKIT_ARENA_ADMIN_TOKEN" in response.json()["detail"]


def test_admin_token_is_checked(client: TestClient):
    """Export needs the right bearer token; a wrong or missing one gets 403."""
    wrong = {"Authorization": "Bearer " + "x" * len(ADMIN)}
    assert client.get("/admin/export", headers=wrong).status_code == 403
    assert client.get("/admin/export").status_code == 403
    assert client.get("/admin/export", headers=BEARER).status_code == 200


def test_admin_form_needs_csrf_as_well_as_the_token(client: TestClient):
    """An admin form with the right token but no CSRF token is refused."""
    page = client.get("/admin").text
    csrf = form_fields(page)["csrf"]
    data = {"admin_token": ADMIN, "confirm": "reset"}
    assert client.post("/admin/reset", data=data).status_code == 403
    ok = client.post("/admin/reset", data={**data, "csrf": csrf})
    assert ok.status_code == 200
    assert ok.json() == {"deleted_votes": 0}


def test_reset_needs_confirmation(client: TestClient):
    """Reset without confirm=reset is refused; with it, votes are gone."""
    vote(client, open_battle(client))
    refused = client.post("/admin/reset", headers=BEARER, data={"confirm": "yes"})
    assert refused.status_code == 400
    done = client.post("/admin/reset", headers=BEARER, data={"confirm": "reset"})
    assert done.json() == {"deleted_votes": 1}
    assert client.get("/healthz").json()["votes"] == 0


def test_upload_candidates_and_queue(client: TestClient):
    """Uploaded candidates and queue are validated and served (queue first)."""
    body = "".join(json.dumps(r) + "\n" for r in candidate_rows(2, ("x", "y")))
    files = {"file": ("more.jsonl", io.BytesIO(body.encode()), "application/json")}
    up = client.post("/admin/upload/candidates", headers=BEARER, files=files)
    assert up.json() == {"loaded": {"candidates": 4}}
    queue = "".join(json.dumps(r) + "\n" for r in queue_rows())
    files = {"file": ("q.jsonl", io.BytesIO(queue.encode()), "application/json")}
    assert client.post("/admin/upload/queue", headers=BEARER, files=files).json() == {
        "loaded": {"queue": 3}
    }
    assert "Queue question 1?" in client.get("/").text


def test_upload_of_a_bad_file_names_the_problem(client: TestClient):
    """A candidates upload missing a column is refused with 422 and the column."""
    files = {"file": ("bad.jsonl", io.BytesIO(b'{"prompt_id": 1}\n'), "text/plain")}
    response = client.post("/admin/upload/candidates", headers=BEARER, files=files)
    assert response.status_code == 422
    assert "prompt: missing column" in response.json()["detail"]


def test_export_is_a_comparisons_table(tmp_path: Path):
    """Export rows carry winner in a/b terms, the voter pseudonym and the source."""
    with make_client(tmp_path, queue=queue_rows()) as c:
        vote(c, open_battle(c), "bothbad")
        vote(c, open_battle(c), "left")
        lines = c.get("/admin/export", headers=BEARER).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["winner"] == "tie" and rows[0]["tie_kind"] == "bothbad"
    assert rows[1]["tie_kind"] is None
    expected = "b" if rows[1]["swapped"] else "a"
    assert rows[1]["winner"] == expected
    assert {r["source"] for r in rows} == {"queue"}
    assert (
        rows[0]["judge"].startswith("voter-") and rows[0]["judge"] == rows[1]["judge"]
    )
    assert rows[0]["uncertainty"] == 0.9


def test_leaderboard_updates_after_votes(client: TestClient):
    """The JSON leaderboard counts each vote and lists the models voted on."""
    assert client.get("/leaderboard.json").json()["n_votes"] == 0
    for _ in range(4):
        vote(client, open_battle(client), "left")
    board = client.get("/leaderboard.json").json()
    assert board["n_votes"] == 4 and board["n_voters"] == 1
    assert sum(r["n_battles"] for r in board["human"]) == 8
    assert "4 votes from 1 voters" in client.get("/leaderboard").text


def test_empty_arena_says_what_to_do(tmp_path: Path):
    """With no candidates the arena page answers 503 and names the option."""
    from prefkit.arena import create_app

    app = create_app(ArenaConfig(db=tmp_path / "e.sqlite", rate_limit=0))
    with TestClient(app) as c:
        response = c.get("/")
    assert response.status_code == 503
    assert "--candidates FILE" in response.text


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"admin_token": "short"}, r"admin_token is too short \(got 5 characters"),
        ({"rate_limit": -1}, r"rate_limit is out of range \(got -1"),
        ({"queue_votes": 0}, r"queue_votes is out of range \(got 0"),
        ({"max_body_bytes": 10}, r"max_body_bytes is out of range"),
        ({"battle_ttl_s": 0}, r"battle_ttl_s is out of range"),
        ({"max_upload_bytes": 5}, r"max_upload_bytes is out of range"),
        ({"reason_max_chars": -2}, r"reason_max_chars is out of range"),
    ],
)
def test_config_rejects_bad_settings(tmp_path: Path, setting, match):
    """Each setting is checked once, with the value received in the message."""
    with pytest.raises(ArenaConfigError, match=match):
        ArenaConfig(db=tmp_path / "x.sqlite", **setting)


def test_judged_file_puts_the_judge_beside_the_people(tmp_path: Path):
    """Uploaded judges' verdicts appear as a judge board with agreement."""
    with make_client(tmp_path) as c:
        for _ in range(3):
            vote(c, open_battle(c), "left")
        export = c.get("/admin/export", headers=BEARER).text.splitlines()
        voted = [json.loads(line) for line in export]
        judged = [
            {k: r[k] for k in ("prompt_id", "model_a", "model_b", "winner")}
            | {"judge": "smol"}
            for r in voted
        ]
        body = "".join(json.dumps(r) + "\n" for r in judged).encode()
        c.get("/leaderboard")
        files = {"file": ("judged.jsonl", io.BytesIO(body), "application/json")}
        up = c.post("/admin/upload/verdicts", headers=BEARER, files=files)
        assert up.json() == {"loaded": {"verdicts": 3}}
        board = c.get("/leaderboard.json").json()
    assert list(board["judges"]) == ["smol"]
    assert board["agreement"][0]["n"] == 3
    assert board["agreement"][0]["agree"] == 3


def test_admin_page_forms_carry_csrf(tmp_path: Path):
    """The admin page has one CSRF-protected form per action; disabled says why."""
    with make_client(tmp_path) as c:
        page = c.get("/admin").text
    assert page.count('name="csrf"') == 5
    assert "Admin routes are disabled" not in page
    with make_client(tmp_path / "off", admin_token=None) as c:
        assert "Admin routes are disabled" in c.get("/admin").text


def test_upload_with_an_unknown_suffix_is_refused(client: TestClient):
    """An upload that is not JSONL, CSV or Parquet gets 422 naming the suffix."""
    files = {"file": ("notes.txt", io.BytesIO(b"hello"), "text/plain")}
    response = client.post("/admin/upload/queue", headers=BEARER, files=files)
    assert response.status_code == 422
    assert "unknown file type (got '.txt'" in response.json()["detail"]
