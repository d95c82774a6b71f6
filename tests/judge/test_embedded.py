"""The embedded SmolLM2 as a judge: through a real llama.cpp server and in process."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pandas as pd
import pytest

from prefkit.judge import generate, judge_pairs
from tests.judge.fakeserver import FaultProxy

pytestmark = pytest.mark.slow

LOPSIDED = pd.DataFrame(
    {
        "prompt_id": ["1", "2", "3"],
        "prompt": [
            "What is the capital of France?",
            "What is 2 + 2?",
            "At what temperature does water boil at sea level?",
        ],
        "model_a": ["good"] * 3,
        "model_b": ["bad"] * 3,
        "response_a": [
            "The capital of France is Paris.",
            "2 + 2 = 4.",
            "Water boils at 100 degrees Celsius at sea level.",
        ],
        "response_b": [
            "The capital of France is Berlin.",
            "2 + 2 = 5.",
            "Water boils at 50 degrees Celsius at sea level.",
        ],
    }
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on the embedded GGUF."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install '.[llama]')")
    from prefkit.models import smollm2_gguf_path

    port = _free_port()
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
    # the server logs a lot: a file, not a pipe nobody reads (a full pipe blocks it)
    log = tmp_path_factory.mktemp("llama") / "server.log"
    handle = log.open("wb")
    server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama.cpp server did not start: {log.read_text()[-500:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(30)
        handle.close()


def test_real_server_verdicts_logprobs_and_cache(llama_server, tmp_path) -> None:
    """Through llama.cpp's server: parsed verdicts, log-prob p_a, a free re-run."""
    proxy = FaultProxy(llama_server, {})
    try:
        spec = f"openai:smollm2@{proxy.url}"
        one = judge_pairs(LOPSIDED, spec, cache=tmp_path / "c.sqlite", progress=False)
        sent = proxy.count
        two = judge_pairs(LOPSIDED, spec, cache=tmp_path / "c.sqlite", progress=False)
    finally:
        proxy.close()
    assert sent == 6 and proxy.count == 6
    pd.testing.assert_frame_equal(one, two)
    assert one["failures"].map(len).sum() == 0
    # probabilities come from the verdict tokens, not a one-hot of the text
    p = np.concatenate([one["p_a_ab"], one["p_a_ba"]])
    assert ((p > 0.02) & (p < 0.98)).all()
    # the embedded A/B judge's position bias (MODELS.md): the first slot wins
    first_slot = np.concatenate([one["winner_ab"] == "a", one["winner_ba"] == "b"])
    assert first_slot.mean() >= 4 / 6


def test_real_server_generates_candidates(llama_server) -> None:
    """generate() writes a candidates table through the same server."""
    got = generate(
        ["Name one colour."],
        f"openai:smollm2@{llama_server}",
        max_tokens=8,
        progress=False,
    )
    assert list(got.columns) == ["prompt_id", "prompt", "model", "response"]
    assert got["model"].iloc[0] == "smollm2" and got["response"].iloc[0].strip()


def test_in_process_ab_judge_picks_the_first_slot() -> None:
    """The in-process A/B judge answers "A" in both orders of a lopsided pair."""
    out = judge_pairs(LOPSIDED.head(1), "local", progress=False)
    assert out["winner_ab"].iloc[0] == "a" and out["winner_ba"].iloc[0] == "b"
    assert out["winner"].iloc[0] == "tie"
    assert out["p_a_ab"].iloc[0] > 0.5 > out["p_a_ba"].iloc[0]


def test_likelihood_judge_prefers_the_correct_answer() -> None:
    """The likelihood judge prefers the correct answer of each lopsided pair."""
    out = judge_pairs(LOPSIDED, "likelihood", progress=False)
    assert (out["winner"] == "a").all() and (out["p_a"] > 0.5).all()
    # a scorer sees no position: both orders agree exactly
    np.testing.assert_array_equal(out["p_a_ab"], out["p_a_ba"])


def test_transformers_runtime_shares_the_first_slot_bias() -> None:
    """The transformers fallback reads verdict probabilities from its logits too."""
    out = judge_pairs(LOPSIDED.head(1), "local:transformers", progress=False)
    assert out["judge"].iloc[0] == "local:smollm2-135m-instruct-hf"
    assert out["failures"].iloc[0] == []
    assert out["winner_ab"].iloc[0] == "a" and out["winner_ba"].iloc[0] == "b"
    assert out["p_a_ab"].iloc[0] > 0.5 > out["p_a_ba"].iloc[0]


def _reference_chat(request):
    """llama-cpp-python's own chat completion, with the logits of every position."""
    from prefkit.models.llama import LLAMA_LOCK, load_llama

    llm = load_llama(n_ctx=2048, logits_all=True)
    with LLAMA_LOCK:
        return llm.create_chat_completion(
            messages=[{"role": r, "content": c} for r, c in request.messages],
            max_tokens=request.max_tokens,
            temperature=0.0,
            logprobs=request.top_logprobs > 0,
            top_logprobs=request.top_logprobs or None,
        )["choices"][0]


def test_in_process_llama_matches_its_own_chat_completion() -> None:
    """Direct logits reading gives llama-cpp-python's greedy text and log-probs,
    whatever the KV cache held before (prefix reuse changes nothing)."""
    pytest.importorskip("llama_cpp")
    from prefkit.judge.local import _llama_complete
    from prefkit.judge.types import Request

    row = LOPSIDED.iloc[1]
    judge = Request(
        messages=(
            ("system", "You are a careful judge. Answer with A or B only."),
            (
                "user",
                f"Question: {row.prompt}\n\nResponse A: {row.response_a}\n\n"
                f"Response B: {row.response_b}\n\nWhich is better, A or B?",
            ),
        ),
        max_tokens=4,
        temperature=0.0,
        top_logprobs=20,
        seed=0,
    )
    writer = Request(
        messages=(("system", "Be concise."), ("user", "Name three colours.")),
        max_tokens=24,
        temperature=0.0,
        top_logprobs=0,
        seed=0,
    )
    first = _llama_complete(judge)
    _llama_complete(writer)  # the cache now holds another prompt's prefix
    again = _llama_complete(judge)
    assert again == first
    ref = _reference_chat(judge)
    assert first.text == ref["message"]["content"]
    items = ref["logprobs"]["content"]
    assert first.tokens == [str(i["token"]) for i in items]
    for mine, item in zip(first.top_logprobs, items, strict=True):
        theirs = {str(a["token"]): float(a["logprob"]) for a in item["top_logprobs"]}
        shared = set(mine) & set(theirs)
        assert len(shared) >= 15
        for token in shared:
            assert mine[token] == pytest.approx(theirs[token], abs=1e-4)
    written = _llama_complete(writer)
    assert written.text == _reference_chat(writer)["message"]["content"]
    assert written.text.strip() and written.top_logprobs == []


def test_in_process_llama_sampling_is_seeded() -> None:
    """With a temperature, the same seed and sample give the same text."""
    pytest.importorskip("llama_cpp")
    from prefkit.judge.local import _llama_complete
    from prefkit.judge.types import Request

    def ask(sample: int):
        return _llama_complete(
            Request(
                messages=(("user", "Write one sentence about the sea."),),
                max_tokens=16,
                temperature=1.0,
                top_logprobs=0,
                seed=3,
                sample=sample,
            )
        )

    assert ask(0) == ask(0)
    assert len({ask(k).text for k in range(4)}) > 1
