"""Small HTTP servers for the judge tests: an OpenAI-compatible stub judge and
a fault-injecting proxy, each on 127.0.0.1 in a background thread."""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx

RESET = "reset"
Reply = tuple[int, bytes] | str
Handler = Callable[[str, bytes], Awaitable[Reply]]


class HttpServer:
    """A minimal HTTP/1.1 server (keep-alive, Content-Length bodies)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", 0)
            )
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                path = line.decode().split()[1]
                length = 0
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                reply = await self.handler(path, body)
                if reply == RESET:
                    writer.transport.abort()
                    return
                status, data = reply  # type: ignore[misc]
                head = (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                )
                writer.write(head.encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return

    async def _shutdown(self) -> None:
        me = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not me:
                task.cancel()
        self.loop.call_soon(self.loop.stop)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
        self.thread.join(5)


def _answers(user: str) -> tuple[str, str] | None:
    m = re.search(r"\[Answer A\]\n(.*?)\n\n\[Answer B\]\n(.*?)\n\n", user, re.S)
    return None if m is None else (m.group(1), m.group(2))


def stub_verdict(user: str) -> str:
    """The stub judge prefers the longer answer (position-free); C when equal."""
    found = _answers(user)
    if found is None:
        return "Hello."
    a, b = found
    return "A" if len(a) > len(b) else "B" if len(b) > len(a) else "C"


class StubJudge:
    """An OpenAI-compatible chat server answering A/B/C with log-probs.

    ``answered`` counts, per request body, the replies sent; ``received``
    counts requests that arrived (replied or not). ``hang_after`` makes
    every request after that many replies wait forever.
    """

    def __init__(self, hang_after: int | None = None) -> None:
        self.answered: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.hang_after = hang_after
        self.hanging = threading.Event()
        self.server = HttpServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    async def handle(self, path: str, body: bytes) -> Reply:
        request = json.loads(body)
        key = json.dumps([request["messages"], request.get("seed")], sort_keys=True)
        self.received[key] += 1
        if (
            self.hang_after is not None
            and sum(self.answered.values()) >= self.hang_after
        ):
            self.hanging.set()
            await asyncio.sleep(3600)
        text = stub_verdict(request["messages"][-1]["content"])
        self.answered[key] += 1
        return 200, json.dumps(completion_body(text, request)).encode()

    def close(self) -> None:
        self.server.close()


def completion_body(text: str, request: dict[str, object]) -> dict[str, object]:
    """A chat-completion JSON body; the label gets 0.7, the others share 0.3."""
    content = None
    if request.get("logprobs"):
        others = [t for t in ("A", "B", "C") if t != text]
        tops = [{"token": text, "logprob": math.log(0.7), "bytes": None}]
        tops += [
            {"token": t, "logprob": math.log(0.1), "bytes": None} for t in others
        ] + [{"token": " " + others[0], "logprob": math.log(0.1), "bytes": None}]
        content = [
            {
                "token": text,
                "logprob": math.log(0.7),
                "bytes": None,
                "top_logprobs": tops,
            }
        ]
    return {
        "id": "stub",
        "object": "chat.completion",
        "created": 0,
        "model": str(request.get("model")),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
                "logprobs": None if content is None else {"content": content},
            }
        ],
    }


class FaultProxy:
    """Forwards to ``upstream``; request n (0-based) gets ``faults.get(n)``.

    Faults: ``"429"``, ``"500"``, ``"slow"`` (sleeps ``slow_seconds`` first),
    ``"garbage"`` (a 200 reply whose text is not a verdict), ``"reset"``
    (closes the connection without a reply), ``"badjson"`` (a 200 body that is
    not JSON).
    """

    def __init__(
        self, upstream: str, faults: dict[int, str], slow_seconds: float = 3.0
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = faults
        self.slow_seconds = slow_seconds
        self.count = 0
        self.log: list[str] = []
        self.client: httpx.AsyncClient | None = None
        self.server = HttpServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    async def handle(self, path: str, body: bytes) -> Reply:
        n = self.count
        self.count += 1
        fault = self.faults.get(n, "ok")
        self.log.append(fault)
        if fault == "429":
            return 429, b'{"error": {"message": "rate limited", "type": "rate"}}'
        if fault == "500":
            return 500, b'{"error": {"message": "boom", "type": "server"}}'
        if fault == "reset":
            return RESET
        if fault == "badjson":
            return 200, b"<html>not json"
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if fault == "garbage":
            request = json.loads(body)
            garbage = completion_body(
                "Lorem ipsum dolor", {**request, "logprobs": None}
            )
            return 200, json.dumps(garbage).encode()
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=600)
        reply = await self.client.post(
            self.upstream + path.removeprefix("/v1"),
            content=body,
            headers={"Content-Type": "application/json"},
        )
        return reply.status_code, reply.content

    def close(self) -> None:
        self.server.close()
