"""Helpers of the arena tests: small input files, an app, form fields."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from prefkit.arena import ArenaConfig, ArenaStore, create_app, load_inputs

ADMIN = "admin-token-for-tests-0123456789"
MODELS = ("alpha", "beta", "gamma")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSONL and return the path."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def candidate_rows(n_prompts: int = 4, models: tuple[str, ...] = MODELS) -> list[dict]:
    """One response per prompt and model."""
    return [
        {
            "prompt_id": f"p{k}",
            "prompt": f"Question {k}?",
            "model": m,
            "response": f"{m} answers question {k}.",
        }
        for k in range(n_prompts)
        for m in models
    ]


def queue_rows() -> list[dict]:
    """Three queue items with distinct uncertainties, written out of order."""
    rows = []
    for k, u in enumerate([0.2, 0.9, 0.5]):
        rows.append(
            {
                "prompt_id": f"q{k}",
                "prompt": f"Queue question {k}?",
                "model_a": "alpha",
                "model_b": "beta",
                "response_a": f"alpha on queue {k}",
                "response_b": f"beta on queue {k}",
                "uncertainty": u,
                "p_a": 0.6,
                "judge": "smol",
            }
        )
    return rows


def make_client(
    tmp_path: Path,
    rows: list[dict] | None = None,
    queue: list[dict] | None = None,
    **settings: Any,
) -> TestClient:
    """An app over a fresh database loaded with ``rows`` (and ``queue``)."""
    db = tmp_path / "arena.sqlite"
    store = ArenaStore(db)
    cand = write_jsonl(tmp_path / "c.jsonl", rows or candidate_rows())
    q = None if queue is None else write_jsonl(tmp_path / "q.jsonl", queue)
    load_inputs(store, candidates=cand, queue=q)
    store.close()
    settings.setdefault("admin_token", ADMIN)
    settings.setdefault("rate_limit", 0)
    return TestClient(create_app(ArenaConfig(db=db, **settings)))


def form_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's form, by name."""
    pattern = r'<input type="hidden" name="(\w+)" value="([^"]*)">'
    return {k: html.unescape(v) for k, v in re.findall(pattern, page)}


def open_battle(client: TestClient) -> dict[str, str]:
    """GET / and return the battle form's hidden fields."""
    response = client.get("/")
    assert response.status_code == 200, response.text
    return form_fields(response.text)


def vote(client: TestClient, fields: dict[str, str], choice: str = "left", **extra):
    """POST a vote with the given form fields (no redirect following)."""
    data = {**fields, "choice": choice, **extra}
    return client.post("/vote", data=data, follow_redirects=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``prefkit arena serve`` in a subprocess on 127.0.0.1 (killable)."""

    def __init__(self, db: Path, candidates: Path | None, **options: Any) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "prefkit.cli.main", "arena", "serve"]
        cmd += ["--db", str(db), "--port", str(self.port)]
        if candidates is not None:
            cmd += ["--candidates", str(candidates)]
        for name, value in options.items():
            cmd += [f"--{name.replace('_', '-')}", str(value)]
        env = {**os.environ, "PREFKIT_ARENA_ADMIN_TOKEN": ADMIN}
        self.log = db.with_suffix(".log").open("w")
        self.process = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env
        )
        self._wait()

    def _wait(self, timeout: float = 90.0) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"arena server exited with {self.process.returncode}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"arena server did not answer within {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL the server (no chance to flush or close anything)."""
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()
