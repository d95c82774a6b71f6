"""Judge throughput: prefkit vs a bare ``openai`` client loop, and cache re-runs.

Against llama-cpp-python's server on the embedded SmolLM2 (started here on a
free port unless ``--url`` is given), the same A/B judge requests (both
orders, ``max_tokens=4``, ``top_logprobs=20``, temperature 0) are sent

- by prefkit's ``judge_pairs`` (fresh SQLite cache, retries, parsing), and
- by a bare ``AsyncOpenAI`` loop with a semaphore (no cache, no parsing),

at concurrency 1, 4 and 8; the ratio prefkit / bare is printed (target
>= 0.90). Then a re-run entirely from the cache is timed on many pairs
(target >= 1,000 verdicts/s; a verdict is one pair in one order).

Run: .venv/bin/python bench/judge.py [--pairs 8] [--cached-pairs 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

from prefkit.judge import judge_pairs
from prefkit.judge.prompts import load_prompt, render
from prefkit.judge.types import Completion, Request

PROMPTS = [
    ("What is the capital of France?", "Paris.", "Berlin."),
    ("What is 2 + 2?", "4.", "5."),
    ("Name a primary colour.", "Red.", "Green."),
    ("How many legs has a spider?", "Eight.", "Six."),
    ("What gas do plants absorb?", "Carbon dioxide.", "Oxygen."),
    ("Which planet is largest?", "Jupiter.", "Mars."),
    ("What is H2O?", "Water.", "Salt."),
    ("Who wrote Hamlet?", "Shakespeare.", "Dickens."),
]


def pairs_table(n: int) -> pd.DataFrame:
    rows = [PROMPTS[i % len(PROMPTS)] for i in range(n)]
    return pd.DataFrame(
        {
            "prompt_id": [str(i) for i in range(n)],
            # a distinct prompt per pair, so no two requests are identical
            "prompt": [f"{q} (question {i})" for i, (q, _, _) in enumerate(rows)],
            "model_a": "good",
            "model_b": "bad",
            "response_a": [a for _, a, _ in rows],
            "response_b": [b for _, _, b in rows],
        }
    )


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    from prefkit.models import smollm2_gguf_path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_gguf_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--model_alias",
        "smollm2",
    ]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("llama.cpp server did not start")


def messages(pairs: pd.DataFrame) -> list[list[dict[str, str]]]:
    """The exact chat messages prefkit sends (both orders)."""
    template = load_prompt("pairwise_ab")
    system = load_prompt("system").strip()
    out = []
    for swapped in (False, True):
        for rec in pairs.to_dict("records"):
            first, second = (
                (rec["response_b"], rec["response_a"])
                if swapped
                else (rec["response_a"], rec["response_b"])
            )
            user = render(template, prompt=rec["prompt"], first=first, second=second)
            out.append(
                [
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ]
            )
    return out


async def bare_loop(
    url: str, msgs: list[list[dict[str, str]]], concurrency: int
) -> float:
    """Seconds for a plain AsyncOpenAI loop to send every request."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0, timeout=600)
    gate = asyncio.Semaphore(concurrency)

    async def one(m: list[dict[str, str]]) -> None:
        async with gate:
            await client.chat.completions.create(
                model="smollm2",
                messages=m,
                max_tokens=4,
                temperature=0.0,
                seed=0,
                logprobs=True,
                top_logprobs=20,
            )

    start = time.perf_counter()
    await asyncio.gather(*(one(m) for m in msgs))
    seconds = time.perf_counter() - start
    await client.close()
    return seconds


def prefkit_run(url: str, pairs: pd.DataFrame, concurrency: int, cache: Path) -> float:
    start = time.perf_counter()
    judge_pairs(
        pairs,
        f"openai:smollm2@{url}",
        concurrency=concurrency,
        cache=cache,
        progress=False,
    )
    return time.perf_counter() - start


class Instant:
    """A judge that answers at once (to fill a cache for the re-run figure)."""

    name, model, max_concurrency = "instant", "a", None

    async def complete(self, request: Request) -> Completion:
        return Completion("A", ["A"], [{"A": math.log(0.7), "B": math.log(0.3)}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--pairs", type=int, default=8, help="pairs per live run")
    parser.add_argument("--cached-pairs", type=int, default=5000)
    parser.add_argument("--concurrency", default="1,4,8")
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        server, url = start_server()
    tmp = Path(tempfile.mkdtemp(prefix="prefkit-bench-"))
    try:
        pairs = pairs_table(args.pairs)
        msgs = messages(pairs)
        n = len(msgs)
        # one warm-up request each, so neither side pays for first-call set-up
        asyncio.run(bare_loop(url, msgs[:1], 1))
        print(f"live: {args.pairs} pairs x 2 orders = {n} requests per run")
        print("concurrency  bare verdicts/s  prefkit verdicts/s  prefkit/bare")
        for c in [int(x) for x in args.concurrency.split(",")]:
            bare = asyncio.run(bare_loop(url, msgs, c))
            mine = prefkit_run(url, pairs, c, tmp / f"live{c}.sqlite")
            print(
                f"{c:>11}  {n / bare:>15.2f}  {n / mine:>18.2f}  {bare / mine:>12.2f}"
            )

        big = pairs_table(args.cached_pairs)
        cache = tmp / "big.sqlite"
        judge_pairs(big, Instant(), cache=cache, progress=False)
        start = time.perf_counter()
        judge_pairs(big, Instant(), cache=cache, progress=False)
        secs = time.perf_counter() - start
        verdicts = 2 * args.cached_pairs
        print(
            f"re-run from cache: {verdicts} verdicts in {secs:.2f} s = "
            f"{verdicts / secs:,.0f} verdicts/s (target >= 1,000)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
