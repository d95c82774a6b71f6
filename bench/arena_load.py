"""Load on the arena: concurrent simulated voters on loopback, bounded in time.

Starts ``prefkit arena serve`` on 127.0.0.1 in a subprocess over a fresh
database, runs ``--voters`` asynchronous voters (each its own cookie jar:
GET a battle, POST a vote) for ``--seconds``, stopping early after
``--max-votes``. Prints votes/s, p50/p99 latency of the battle page and of
the vote, and the votes acknowledged (303) against those stored (must be
equal). The peer is plain SQLite on the same disk: single-threaded
``INSERT`` + ``COMMIT`` with WAL and ``synchronous=FULL``, the durability
floor every acknowledged vote pays.

Usage: .venv/bin/python bench/arena_load.py [--voters 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ADMIN = "bench-admin-token-0123456789abcdef"
#: Seconds at the start (50 voters arriving at once) left out of "warm" figures.
WARMUP_S = 5.0
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def write_candidates(path: Path, n_models: int = 8, n_prompts: int = 50) -> None:
    """A candidates file: every model answers every prompt."""
    with path.open("w") as f:
        for p in range(n_prompts):
            for m in range(n_models):
                row = {
                    "prompt_id": f"p{p}",
                    "prompt": f"Prompt number {p}: explain something.",
                    "model": f"model-{m}",
                    "response": f"Answer of model {m} to prompt {p}. " * 20,
                }
                f.write(json.dumps(row) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, candidates: Path, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "prefkit.cli.main", "arena", "serve", "--db",
           str(db), "--candidates", str(candidates), "--host", "127.0.0.1",
           "--port", str(port), "--rate-limit", "10000000"]  # fmt: skip
    env = {**os.environ, "PREFKIT_ARENA_ADMIN_TOKEN": ADMIN}
    proc = subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early; see {log}")
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                == 200
            ):
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


async def voter(url: str, stop_at: float, budget: list[int], out: dict) -> None:
    """Vote until the time is up or the shared budget of votes is spent."""
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as c:
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            try:
                t0 = time.perf_counter()
                page = await c.get("/")
                t1 = time.perf_counter()
                fields = {k: html.unescape(v) for k, v in HIDDEN.findall(page.text)}
                fields["choice"] = ("left", "right", "tie", "bothbad")[budget[0] % 4]
                response = await c.post("/vote", data=fields)
                t2 = time.perf_counter()
            except httpx.HTTPError as exc:
                out["errors"].append(type(exc).__name__)
                continue
            out["get"].append((t0, t1 - t0))
            if response.status_code == 303:
                out["vote"].append((t1, t2 - t1))
                out["acked"] += 1
            else:
                out["errors"].append(str(response.status_code))


async def run_voters(url: str, n: int, seconds: float, max_votes: int) -> dict:
    out: dict = {"get": [], "vote": [], "acked": 0, "errors": []}
    stop_at = time.monotonic() + seconds
    budget = [max_votes]
    start = time.perf_counter()
    out["start"] = start
    await asyncio.gather(*(voter(url, stop_at, budget, out) for _ in range(n)))
    out["elapsed"] = time.perf_counter() - start
    return out


def sqlite_floor(folder: Path, seconds: float = 5.0) -> float:
    """Commits/s of plain SQLite (WAL, synchronous=FULL), one row each."""
    conn = sqlite3.connect(folder / "floor.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b REAL)")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", ("vote", time.time()))
        conn.execute("COMMIT")
        n += 1
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def ms(timed: list[tuple[float, float]], q: float, after: float = -np.inf) -> float:
    """Percentile ``q`` in ms of the latencies of requests sent after ``after``."""
    values = [d for t, d in timed if t >= after]
    return float(np.percentile(values, q) * 1000) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-votes", type=int, default=200_000)
    args = parser.parse_args()
    if not (1 <= args.voters <= 500 and 1 <= args.seconds <= 600):
        raise SystemExit("--voters must be in [1, 500] and --seconds in [1, 600]")

    with tempfile.TemporaryDirectory(prefix="arena-load-") as tmp:
        folder = Path(tmp)
        candidates = folder / "candidates.jsonl"
        write_candidates(candidates)
        port = free_port()
        server = start_server(folder / "arena.sqlite", candidates, port, folder / "log")
        url = f"http://127.0.0.1:{port}"
        try:
            out = asyncio.run(
                run_voters(url, args.voters, args.seconds, args.max_votes)
            )
            stored = httpx.get(url + "/healthz", timeout=60).json()["votes"]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        floor = sqlite_floor(folder)

    rate = out["acked"] / out["elapsed"]
    print(f"voters={args.voters} seconds={out['elapsed']:.1f} (loopback only)")
    print(f"votes acknowledged={out['acked']} stored={stored} "
          f"equal={out['acked'] == stored} errors={len(out['errors'])}")  # fmt: skip
    print(f"votes/s={rate:.1f}")
    warm = out["start"] + WARMUP_S
    for name, key in (("battle page", "get"), ("vote", "vote")):
        timed = out[key]
        print(f"{name} latency p50={ms(timed, 50):.0f} ms "
              f"p99={ms(timed, 99):.0f} ms; after the first {WARMUP_S:g} s "
              f"p50={ms(timed, 50, warm):.0f} ms "
              f"p99={ms(timed, 99, warm):.0f} ms")  # fmt: skip
    print(f"peer: plain SQLite WAL+FULL commits/s={floor:.0f}; "
          f"arena votes/s as a ratio of it={rate / floor:.3f}")  # fmt: skip
    if out["errors"]:
        kinds = {k: out["errors"].count(k) for k in set(out["errors"])}
        print(f"error kinds: {kinds}")


if __name__ == "__main__":
    main()
