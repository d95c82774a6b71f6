"""The embedded SmolLM2 as a judge, in process.

:class:`LocalBackend` answers chat requests with llama-cpp-python (Q4_1,
fast) or, where that is absent, transformers (the same weights in fp32),
returning the top log-probabilities of each generated token read straight
from the logits. :class:`LikelihoodScorer` scores a response by its mean
per-token log-likelihood given the prompt, which TrustJudge's
likelihood-aware view [TrustJudge] turns into a judge; with the embedded
model it is the one judge that carries signal (see MODELS.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from prefkit.judge.types import Completion, JudgeError, Request, merge_alternatives
from prefkit.models import SMOLLM2_ID, has_llama_cpp

logger = logging.getLogger("prefkit.judge")

Runtime = Literal["auto", "llama", "transformers"]
_HF_LOCK = threading.Lock()


def _resolve_runtime(runtime: str) -> Literal["llama", "transformers"]:
    if runtime not in ("auto", "llama", "transformers"):
        raise JudgeError(
            f"local runtime {runtime!r} is not known; "
            "expected auto, llama or transformers"
        )
    if runtime == "auto":
        return "llama" if has_llama_cpp() else "transformers"
    if runtime == "llama" and not has_llama_cpp():
        raise JudgeError(
            "local:llama needs llama-cpp-python; install it with "
            "pip install 'llama-cpp-python[server]==0.3.36' or use local:transformers"
        )
    return runtime  # type: ignore[return-value]


class LocalBackend:
    """SmolLM2-135M-Instruct answering chat requests in this process.

    Parameters
    ----------
    runtime : {"auto", "llama", "transformers"}, default="auto"
        llama-cpp-python when installed (``auto``), else transformers.
    """

    name = "local"
    #: one model, one call at a time (llama.cpp is not thread-safe)
    max_concurrency: int | None = 1
    #: verdicts come from the first token's distribution over the labels (a
    #: 135M model rarely writes a bare label, but its logits still rank them)
    constrained_verdicts = True

    def __init__(self, runtime: str = "auto") -> None:
        self.runtime = _resolve_runtime(runtime)
        self.model = SMOLLM2_ID if self.runtime == "llama" else f"{SMOLLM2_ID}-hf"

    async def complete(self, request: Request) -> Completion:
        """Generate in a worker thread (the event loop stays free)."""
        if self.runtime == "llama":
            return await asyncio.to_thread(_llama_complete, request)
        return await asyncio.to_thread(_hf_complete, request)


def _llama_complete(request: Request) -> Completion:
    """Answer ``request`` with llama.cpp, reading each step's logits directly.

    llama-cpp-python's own chat completion needs ``logits_all=True`` for
    log-probabilities, which copies the logits of every prompt position
    (prompt length x 49,152 floats) and sorts the whole vocabulary in Python
    for each generated token. Here only the last position's logits are read
    (``llama_get_logits_ith``), the top alternatives come from
    ``np.argpartition``, and the prompt's longest prefix already in the KV
    cache (the judge's instructions, the same prompt in the other display
    order) is not evaluated again. Greedy decoding (temperature 0) gives the
    tokens llama.cpp's greedy sampler gives; with a temperature it samples
    from the plain tempered softmax, seeded by ``seed + sample``.
    """
    from prefkit.models.llama import LLAMA_LOCK, chat_tokens, load_llama

    llm = load_llama(n_ctx=2048)
    prompt, stop_ids = chat_tokens(llm, request.messages)
    n_ctx = llm.n_ctx()
    if len(prompt) + request.max_tokens > n_ctx:
        # keep the end of the prompt (the question and the answer cue)
        prompt = prompt[-(n_ctx - request.max_tokens) :]
    rng = np.random.default_rng(request.seed + request.sample)
    k = request.top_logprobs
    ids: list[int] = []
    tops: list[dict[str, float]] = []
    with LLAMA_LOCK:
        _eval_reusing_prefix(llm, prompt)
        for step in range(request.max_tokens):
            logp = _last_logprobs(llm)
            if request.temperature > 0:
                z = logp / request.temperature
                p = np.exp(z - z.max())
                next_id = int(rng.choice(len(p), p=p / p.sum()))
            else:
                next_id = int(np.argmax(logp))
            if next_id in stop_ids:
                break
            if k > 0:
                tops.append(_top_alternatives(llm, logp, k))
            ids.append(next_id)
            if step + 1 < request.max_tokens:
                llm.eval([next_id])
    tokens = [_piece(llm, i) for i in ids]
    text = llm.detokenize(ids).decode("utf-8", errors="replace")
    return Completion(text, tokens, tops)


def _eval_reusing_prefix(llm: Any, prompt: list[int]) -> None:
    """Evaluate ``prompt``, keeping the KV cache of its longest cached prefix."""
    cached = llm.input_ids[: llm.n_tokens]
    same = 0
    for a, b in zip(cached, prompt, strict=False):
        if a != b:
            break
        same += 1
    # at least the last prompt token is evaluated, so its logits are fresh
    llm.n_tokens = min(same, len(prompt) - 1)
    llm.eval(prompt[llm.n_tokens :])


def _last_logprobs(llm: Any) -> NDArray[np.float64]:
    """Log-probabilities of the next token after the last evaluated one."""
    import llama_cpp

    pointer = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),))
    z = logits.astype(np.float64)
    z -= z.max()
    return z - np.log(np.exp(z).sum())


def _top_alternatives(llm: Any, logp: NDArray[np.float64], k: int) -> dict[str, float]:
    """The ``k`` likeliest tokens as ``{text: logprob}`` (equal texts merged)."""
    best = np.argpartition(-logp, k)[:k]
    best = best[np.argsort(-logp[best], kind="stable")]
    return merge_alternatives((_piece(llm, int(i)), float(logp[i])) for i in best)


def _piece(llm: Any, token: int) -> str:
    """The text of one token (partial UTF-8 sequences replaced)."""
    return str(llm.detokenize([token]).decode("utf-8", errors="replace"))


_HF: dict[str, Any] = {}


def _hf_model() -> tuple[Any, Any]:
    with _HF_LOCK:
        if "model" not in _HF:
            from prefkit.models.hf import load_smollm2

            _HF["model"], _HF["tokenizer"] = load_smollm2()
    return _HF["model"], _HF["tokenizer"]


def _hf_complete(request: Request) -> Completion:
    import torch

    model, tokenizer = _hf_model()
    messages = [{"role": r, "content": c} for r, c in request.messages]
    ids = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    generator = torch.Generator().manual_seed(request.seed + request.sample)
    tokens: list[str] = []
    tops: list[dict[str, float]] = []
    past = None
    step_ids = ids
    with _HF_LOCK, torch.no_grad():
        for _ in range(request.max_tokens):
            out = model(input_ids=step_ids, cache=past, use_cache=True)
            past = out.cache
            # (vocab,) log-probabilities of the next token
            logp = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            if request.temperature > 0:
                probs = torch.softmax(
                    out.logits[0, -1].float() / request.temperature, -1
                )
                next_id = int(torch.multinomial(probs, 1, generator=generator))
            else:
                next_id = int(torch.argmax(logp))
            if next_id == tokenizer.eos_token_id:
                break
            k = max(1, request.top_logprobs)
            values, indices = torch.topk(logp, k)
            tokens.append(tokenizer.decode([next_id]))
            tops.append(
                merge_alternatives(
                    (tokenizer.decode([i]), v)
                    for v, i in zip(values.tolist(), indices.tolist(), strict=True)
                )
            )
            step_ids = torch.tensor([[next_id]])
    return Completion("".join(tokens), tokens, tops if request.top_logprobs else [])


def mean_loglik(
    model: Any, tokenizer: Any, prompt: str, response: str, system: str
) -> float:
    """Mean log-probability per token of ``response`` given a chat ``prompt``.

    .. math:: \\bar\\ell(y \\mid x) = \\frac{1}{|y|} \\sum_{t=1}^{|y|}
              \\log \\pi(y_t \\mid x, y_{<t})
    """
    import torch

    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": prompt},
    ]
    prefix = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"][0]
    body = torch.tensor(tokenizer(response, add_special_tokens=False)["input_ids"])
    if body.numel() == 0:
        return float("nan")
    # keep the response whole and the end of the prompt within 2,048 tokens
    prefix = prefix[-max(1, 2048 - int(body.numel())) :]
    ids = torch.cat([prefix, body])[:2048].unsqueeze(0)
    n_body = ids.shape[1] - prefix.numel()
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    # (seq - 1, vocab): position t predicts token t + 1
    logp = torch.log_softmax(logits[:-1], dim=-1)
    targets = ids[0, 1:]
    token_logp = logp.gather(1, targets.unsqueeze(1)).squeeze(1)
    return float(token_logp[-n_body:].mean())


class LikelihoodScorer:
    """Scores each response by its mean log-likelihood under SmolLM2.

    The judge's probability that a wins is

    .. math:: p_a = \\sigma\\bigl((\\bar\\ell_a - \\bar\\ell_b) / s\\bigr)

    with :math:`\\bar\\ell` the mean per-token log-likelihood given the
    prompt (nats/token) and :math:`s` the ``scale`` (TrustJudge's
    likelihood-aware comparison [TrustJudge]; a difference of ``scale``
    nats/token gives p_a = 0.73).

    Parameters
    ----------
    scale : float, default=0.25
        Nats per token that make one logit of preference.
    system_prompt : str, default="You are a helpful AI assistant."
        System prompt of the chat (SmolLM2 adds its own when none is given).
    """

    name = "likelihood"

    def __init__(
        self,
        scale: float = 0.25,
        system_prompt: str = "You are a helpful AI assistant.",
    ) -> None:
        if not scale > 0:
            raise JudgeError(f"likelihood scale must be > 0 (got {scale})")
        self.scale = scale
        self.system_prompt = system_prompt
        self.model = f"{SMOLLM2_ID}-hf"

    def score_responses(
        self, prompts: Sequence[str], responses: Sequence[str]
    ) -> NDArray[np.float64]:
        """Mean per-token log-likelihood of each response given its prompt."""
        model, tokenizer = _hf_model()
        with _HF_LOCK:
            return np.array(
                [
                    mean_loglik(model, tokenizer, p, r, self.system_prompt)
                    for p, r in zip(prompts, responses, strict=True)
                ],
                dtype=float,
            )
