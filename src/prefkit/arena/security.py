"""The arena's defences: voter pseudonyms, CSRF tokens, admin checks, limits.

Every secret comparison is constant-time (:func:`hmac.compare_digest`). The
limits are plain ASGI middleware so they run before any route reads a body.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Headers on every response: no inline script, no framing, no sniffing.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; "
        b"script-src 'self'; form-action 'self'; base-uri 'none'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}\x1f{value}".encode(), "sha256").hexdigest()


def pseudonym(secret: bytes, voter_id: str) -> str:
    """The voter's stable pseudonym (the cookie value itself is never stored)."""
    return "voter-" + _mac(secret, "voter", voter_id)[:12]


def csrf_token(secret: bytes, voter_id: str) -> str:
    """The CSRF token every form of this voter carries."""
    return _mac(secret, "csrf", voter_id)


def csrf_ok(secret: bytes, voter_id: str | None, token: str | None) -> bool:
    """Whether a form's CSRF token matches the voter's cookie."""
    if not voter_id or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, voter_id), token)


def admin_ok(expected: str | None, given: str | None) -> bool:
    """Whether ``given`` is the admin token (always False when none is set)."""
    if expected is None or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class RateLimiter:
    """Token buckets, one per client: ``per_minute`` requests, refilled evenly.

    Parameters
    ----------
    per_minute : int
        Bucket size and refill per minute; 0 allows everything.
    max_clients : int, default=10000
        Buckets kept (least recently used dropped first), bounding memory.
    """

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Take one token from ``client``'s bucket; False when it is empty."""
        if self.per_minute == 0:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(
                float(self.per_minute), tokens + (now - last) * self.per_minute / 60
            )
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed


async def _plain(send: Send, status: int, text: str, extra: list[Any]) -> None:
    body = json.dumps({"detail": text}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Rate limit per client, cap request bodies, add security headers.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    limiter : RateLimiter
        Applied to every request, keyed by the client's IP address.
    max_body : int
        Largest body in bytes for most routes.
    max_upload : int
        Largest body for paths starting with ``upload_prefix``.
    upload_prefix : str, default="/admin/upload"
        Routes that accept files.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        max_body: int,
        max_upload: int,
        upload_prefix: str = "/admin/upload",
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if not self.limiter.allow(str(client)):
            retry = [(b"retry-after", b"60")]
            await _plain(send, 429, "too many requests; wait and retry", retry)
            return
        path = str(scope.get("path", ""))
        limit = (
            self.max_upload if path.startswith(self.upload_prefix) else self.max_body
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _plain(send, 413, f"request body too large (limit {limit} bytes)", [])
            return
        body = await _read_body(receive, limit)
        if body is None:
            await _plain(send, 413, f"request body too large (limit {limit} bytes)", [])
            return
        await self.app(scope, _replay(body, receive), _with_headers(send))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then waits."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send) -> Send:
    """A ``send`` that adds :data:`SECURITY_HEADERS` the app did not set."""

    async def headed(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [h for h in SECURITY_HEADERS if h[0] not in present]
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return headed
