"""Faults a real server rarely gives on demand, through a fault-injecting proxy."""

from __future__ import annotations

import pandas as pd
import pytest

from prefkit.judge import JudgeFailureWarning, RetryPolicy, generate, judge_pairs
from prefkit.judge.cache import Cache
from tests.judge.fakeserver import FaultProxy, StubJudge

# generous timeouts: the test machine may be heavily loaded
FAST = RetryPolicy(max_retries=5, base_delay=0.01, max_delay=0.05, timeout=20.0)


@pytest.fixture()
def stub():
    """A stub OpenAI-compatible judge preferring the longer answer."""
    server = StubJudge()
    yield server
    server.close()


def _pairs(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt_id": [str(i) for i in range(n)],
            "prompt": ["Say something."] * n,
            "model_a": ["x"] * n,
            "model_b": ["y"] * n,
            "response_a": ["a much longer answer"] * n,
            "response_b": [f"short {i}" for i in range(n)],
        }
    )


def _judge(proxy: FaultProxy, **kwargs) -> pd.DataFrame:
    return judge_pairs(
        _pairs(kwargs.pop("n", 3)),
        f"openai:stub@{proxy.url}",
        progress=False,
        concurrency=1,
        retry=kwargs.pop("retry", FAST),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("429", "429 rate limited"),
        ("500", "500 server error"),
        ("reset", "connection error"),
        ("slow", "timeout"),
        ("badjson", "malformed reply"),
    ],
)
def test_transient_faults_are_retried_and_recorded(
    stub, fault: str, reason: str
) -> None:
    """A burst of three faults is retried; each failed attempt keeps its reason."""
    proxy = FaultProxy(stub.url, {0: fault, 1: fault, 2: fault}, slow_seconds=60.0)
    # a slow reply (60 s) outlasts a 3 s timeout; the others never wait that long
    retry = (
        RetryPolicy(max_retries=5, base_delay=0.01, timeout=3.0)
        if fault == "slow"
        else FAST
    )
    try:
        out = _judge(proxy, retry=retry)
    finally:
        proxy.close()
    assert out["winner"].tolist() == ["a", "a", "a"]
    first = out["failures"].iloc[0]
    assert len(first) == 3 and all(reason in f for f in first)
    assert [f.split(":")[1].strip() for f in first] == [
        "attempt 1",
        "attempt 2",
        "attempt 3",
    ]
    assert proxy.log[:4] == [fault, fault, fault, "ok"]
    if fault != "slow":
        # (a slow reply still reaches the stub after the client gave up)
        assert sum(stub.answered.values()) == 6


def test_garbage_text_is_a_parse_failure_not_a_verdict(stub) -> None:
    """A 200 reply holding no verdict is recorded as a parse failure, not retried."""
    proxy = FaultProxy(stub.url, {0: "garbage"})
    try:
        out = _judge(proxy)
    finally:
        proxy.close()
    row = out.iloc[0]
    assert pd.isna(row["winner_ab"]) and row["winner_ba"] == "a"
    # b shown first, the stub says B (0.7), tie 0.1: p_a = 0.7 + 0.1 / 2
    assert row["winner"] == "a" and row["p_a"] == pytest.approx(0.75)
    assert any("parse failure" in f and "Lorem" in f for f in row["failures"])
    assert len(proxy.log) == 6


def test_exhausted_retries_leave_no_verdict_and_no_cache_entry(stub, tmp_path) -> None:
    """After max_retries, the item fails, is not cached, and a re-run retries it."""
    faults = dict.fromkeys(range(6), "429")
    proxy = FaultProxy(stub.url, faults)
    retry = RetryPolicy(max_retries=2, base_delay=0.01, timeout=20.0)
    try:
        with pytest.warns(JudgeFailureWarning, match="1 of 1 pairs got no verdict"):
            out = _judge(proxy, n=1, retry=retry, cache=tmp_path / "c.sqlite")
        assert out["winner"].isna().all() and out["p_a"].isna().all()
        assert len(out["failures"].iloc[0]) == 6
        assert len(Cache(tmp_path / "c.sqlite")) == 0
        again = _judge(proxy, n=1, retry=retry, cache=tmp_path / "c.sqlite")
    finally:
        proxy.close()
    assert again["winner"].tolist() == ["a"]
    assert len(Cache(tmp_path / "c.sqlite")) == 2


def test_generation_survives_faults_and_resumes_from_cache(stub, tmp_path) -> None:
    """Generation retries like judging and a re-run reads the cache only."""
    proxy = FaultProxy(stub.url, {0: "500", 1: "reset"})
    try:
        got = generate(
            ["hi", "hello"],
            f"openai:gen@{proxy.url}",
            retry=FAST,
            cache=tmp_path / "g.sqlite",
            progress=False,
            concurrency=1,
        )
        sent = proxy.count
        again = generate(
            ["hi", "hello"],
            f"openai:gen@{proxy.url}",
            retry=FAST,
            cache=tmp_path / "g.sqlite",
            progress=False,
        )
    finally:
        proxy.close()
    assert got["response"].tolist() == ["Hello.", "Hello."]
    assert got["model"].tolist() == ["gen", "gen"]
    assert sent == 4 and proxy.count == 4
    pd.testing.assert_frame_equal(got, again)


def test_permanent_errors_are_not_retried(stub) -> None:
    """A 4xx other than 429 is recorded once and not retried."""
    from tests.judge import fakeserver

    async def bad_request(path: str, body: bytes):
        return 400, b'{"error": {"message": "bad model", "type": "invalid"}}'

    server = fakeserver.HttpServer(bad_request)
    try:
        with pytest.warns(JudgeFailureWarning):
            out = judge_pairs(
                _pairs(1), f"openai:stub@{server.url}", progress=False, retry=FAST
            )
    finally:
        server.close()
    failures = out["failures"].iloc[0]
    assert len(failures) == 2 and all("400" in f for f in failures)
