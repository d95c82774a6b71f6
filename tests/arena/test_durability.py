"""Every vote acknowledged to a voter survives SIGKILL of the server."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.arena.helpers import (
    ADMIN,
    Server,
    candidate_rows,
    form_fields,
    write_jsonl,
)


def _voter(url: str, acked: list[int], stop: threading.Event) -> None:
    """Vote in a loop, recording the battle id of every acknowledged vote."""
    with httpx.Client(base_url=url, timeout=10.0) as client:
        while not stop.is_set():
            try:
                fields = form_fields(client.get("/").text)
                response = client.post("/vote", data={**fields, "choice": "left"})
            except httpx.HTTPError:
                return
            if response.status_code == 303:
                found = re.search(r"/reveal/(\d+)", response.headers["location"])
                assert found is not None
                acked.append(int(found.group(1)))


@pytest.mark.slow
def test_acknowledged_votes_survive_sigkill(tmp_path: Path):
    """Kill -9 the server mid-stream; after a restart every acked vote is there."""
    db = tmp_path / "arena.sqlite"
    candidates = write_jsonl(tmp_path / "c.jsonl", candidate_rows(6))
    server = Server(db, candidates, rate_limit=0)
    acked: list[int] = []
    stop = threading.Event()
    voters = [
        threading.Thread(target=_voter, args=(server.url, acked, stop))
        for _ in range(4)
    ]
    for thread in voters:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for thread in voters:
        thread.join(timeout=30)
    assert len(acked) >= 25, "the voters could not vote before the deadline"

    restarted = Server(db, None, rate_limit=0)
    try:
        export = httpx.get(
            restarted.url + "/admin/export",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30.0,
        )
    finally:
        restarted.kill()
    stored = {json.loads(line)["battle_id"] for line in export.text.splitlines()}
    assert set(acked) <= stored
    # an unacknowledged vote may have committed just before the kill, no more
    assert len(stored) - len(set(acked)) <= 4
