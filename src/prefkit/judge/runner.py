"""Sending many requests: cache first, then async with retries and a progress bar.

Requests already in the cache cost nothing. The others run concurrently (at
most ``concurrency`` in flight, fewer if the backend says so); a transient
failure (timeout, 429, 5xx, reset connection, malformed reply) is retried
with exponential backoff and jitter, every failed attempt is recorded with
its reason, and each reply is committed to the cache as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from prefkit.judge.cache import Cache
from prefkit.judge.types import (
    Completion,
    JudgeError,
    Outcome,
    PermanentError,
    Request,
    RetryPolicy,
    TransientError,
)

logger = logging.getLogger("prefkit.judge")


@dataclass(frozen=True)
class ProgressEvent:
    """The state of a run, passed to a progress callback after each request.

    Attributes
    ----------
    done, total : int
        Requests finished (from cache or not) and requests in the run.
    cache_hits : int
        Requests answered by the cache.
    failures : int
        Requests that ended without a reply.
    """

    done: int
    total: int
    cache_hits: int
    failures: int


ProgressCallback = Callable[[ProgressEvent], None]


class _Rate(ProgressColumn):
    """Requests per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-/s" if speed is None else f"{speed:,.1f}/s")


class _Reporter:
    """Feeds a callback and, when asked, a rich progress bar on stderr."""

    def __init__(
        self, total: int, bar: bool, callback: ProgressCallback | None, what: str
    ):
        self.total, self.done, self.hits, self.failures = total, 0, 0, 0
        self.callback = callback
        self.progress: Progress | None = None
        if bar:
            self.progress = Progress(
                TextColumn(what),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[hits]} cached, {task.fields[failed]} failed"),
                console=Console(stderr=True),
                transient=False,
            )
            self.task = self.progress.add_task(what, total=total, hits=0, failed=0)
            self.progress.start()

    def step(self, cached: bool, failed: bool, n: int = 1) -> None:
        self.done += n
        self.hits += n if cached else 0
        self.failures += n if failed else 0
        if self.progress is not None:
            self.progress.update(
                self.task, advance=n, hits=self.hits, failed=self.failures
            )
        if self.callback is not None:
            self.callback(
                ProgressEvent(self.done, self.total, self.hits, self.failures)
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _request_json(request: Request) -> str:
    return json.dumps(asdict(request), ensure_ascii=False)


class _Pacer:
    """Spaces attempt starts at least ``1 / max_rate`` seconds apart."""

    def __init__(self, max_rate: float | None) -> None:
        self.interval = 0.0 if max_rate is None else 1.0 / max_rate
        self.next_start = 0.0

    async def wait(self) -> None:
        if self.interval <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self.next_start)
        self.next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


async def _attempt(
    backend: Any, request: Request, retry: RetryPolicy, pacer: _Pacer | None = None
) -> Completion:
    if pacer is not None:
        await pacer.wait()
    try:
        return await asyncio.wait_for(backend.complete(request), timeout=retry.timeout)
    except TimeoutError:
        raise TransientError("timeout") from None


async def send_one(
    backend: Any,
    request: Request,
    retry: RetryPolicy,
    rng: random.Random,
    pacer: _Pacer | None = None,
) -> Outcome:
    """One request with retries; every failed attempt's reason is kept."""
    failures: list[str] = []
    for attempt in range(retry.max_retries + 1):
        try:
            completion = await _attempt(backend, request, retry, pacer)
            return Outcome(completion, tuple(failures))
        except TransientError as exc:
            failures.append(f"attempt {attempt + 1}: {exc.reason}")
        except PermanentError as exc:
            failures.append(f"attempt {attempt + 1}: {exc.reason}")
            return Outcome(None, tuple(failures))
        except Exception as exc:  # a backend bug must not lose the whole run
            failures.append(f"attempt {attempt + 1}: {type(exc).__name__}: {exc}")
            return Outcome(None, tuple(failures))
        if attempt < retry.max_retries:
            await asyncio.sleep(retry.delay(attempt, rng.random()))
    logger.warning("request failed after %d attempts: %s", len(failures), failures[-1])
    return Outcome(None, tuple(failures))


async def _run_missing(
    backend: Any,
    todo: dict[str, Request],
    concurrency: int,
    cache: Cache | None,
    retry: RetryPolicy,
    seed: int,
    report: _Reporter,
    counts: dict[str, int],
) -> dict[str, Outcome]:
    limit = concurrency
    if getattr(backend, "max_concurrency", None):
        limit = min(limit, int(backend.max_concurrency))
    gate = asyncio.Semaphore(limit)
    # set-up (client creation, imports) must not count against the timeout
    start = getattr(backend, "start", None)
    if start is not None:
        await start()
    rng = random.Random(seed)
    pacer = _Pacer(retry.max_rate)
    results: dict[str, Outcome] = {}

    async def one(key: str, request: Request) -> None:
        async with gate:
            outcome = await send_one(backend, request, retry, rng, pacer)
        if outcome.completion is not None and cache is not None:
            cache.put(
                key,
                backend.name,
                backend.model,
                _request_json(request),
                outcome.completion.to_json(),
            )
        results[key] = outcome
        report.step(cached=False, failed=outcome.completion is None, n=counts[key])

    try:
        await asyncio.gather(*(one(k, r) for k, r in todo.items()))
    finally:
        stop = getattr(backend, "stop", None)
        if stop is not None:
            await stop()
    return results


def _run_coroutine(factory: Callable[[], Any]) -> Any:
    """``asyncio.run`` that also works when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_requests(
    backend: Any,
    requests: Sequence[Request],
    *,
    concurrency: int = 4,
    cache: Cache | None = None,
    retry: RetryPolicy | None = None,
    progress: bool | ProgressCallback = True,
    seed: int = 0,
    what: str = "judging",
) -> list[Outcome]:
    """Replies to ``requests`` in order: from the cache, else sent with retries.

    Parameters
    ----------
    backend : GenerativeBackend
        Where requests go.
    requests : sequence of Request
        Identical requests are sent once.
    concurrency : int, default=4
        Most requests in flight.
    cache : Cache or None, default=None
        Replies found here are not requested; new replies are stored at once.
    retry : RetryPolicy or None, default=None
        Retry settings (the defaults if None).
    progress : bool or callable, default=True
        True shows a rich progress bar on stderr; a callable receives a
        :class:`ProgressEvent` after each request.
    seed : int, default=0
        Seed of the backoff jitter.
    what : str, default="judging"
        Label of the progress bar.

    Returns
    -------
    list of Outcome
        One per request, in order.
    """
    if concurrency < 1:
        raise JudgeError(f"concurrency must be >= 1 (got {concurrency})")
    retry = retry or RetryPolicy()
    keys = [r.key(backend.name, backend.model) for r in requests]
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    callback = progress if callable(progress) else None
    report = _Reporter(len(requests), progress is True, callback, what)
    try:
        found: dict[str, Outcome] = {}
        todo: dict[str, Request] = {}
        stored = cache.get_many(list(counts)) if cache is not None else {}
        for key, request in zip(keys, requests, strict=True):
            if key in found or key in todo:
                continue
            hit = stored.get(key)
            if hit is not None:
                found[key] = Outcome(Completion.from_json(hit), cached=True)
                report.step(cached=True, failed=False, n=counts[key])
            else:
                todo[key] = request
        if todo:
            logger.info("%d cached, %d to request", len(found), len(todo))
            found.update(
                _run_coroutine(
                    lambda: _run_missing(
                        backend, todo, concurrency, cache, retry, seed, report, counts
                    )
                )
            )
    finally:
        report.close()
    return [found[key] for key in keys]
