"""SmolLM2 in process through llama-cpp-python (the fast runtime).

One :class:`llama_cpp.Llama` per configuration is kept for the whole process;
llama.cpp is not thread-safe, so callers hold :data:`LLAMA_LOCK` around each
call (the judge backends run it in a worker thread).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from prefkit.models import MissingModelError, has_llama_cpp, smollm2_gguf_path

LLAMA_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def load_llama(n_ctx: int = 2048, logits_all: bool = False, seed: int = 0) -> Any:
    """The embedded SmolLM2 as a ``llama_cpp.Llama`` (cached per settings).

    Parameters
    ----------
    n_ctx : int, default=2048
        Context length in tokens.
    logits_all : bool, default=False
        Keep the logits of every position (needed for prompt log-probs).
    seed : int, default=0
        Sampling seed.

    Raises
    ------
    MissingModelError
        If llama-cpp-python or the model package is not installed.
    """
    if not has_llama_cpp():
        raise MissingModelError(
            "llama-cpp-python is not installed; install it with: "
            "pip install 'llama-cpp-python[server]==0.3.36' "
            "(or use the transformers runtime)"
        )
    from llama_cpp import Llama

    return Llama(
        model_path=str(smollm2_gguf_path()),
        n_ctx=n_ctx,
        n_threads=2,
        logits_all=logits_all,
        seed=seed,
        verbose=False,
    )


@lru_cache(maxsize=4)
def _formatter(llm: Any) -> Any:
    """llama-cpp-python's Jinja2 formatter of the GGUF's own chat template."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = llm.token_eos(), llm.token_bos()
    return Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )


def chat_tokens(
    llm: Any, messages: Sequence[tuple[str, str]]
) -> tuple[list[int], set[int]]:
    """The prompt tokens of a chat under the GGUF's own template, and the stop ids.

    The template is the model's ``tokenizer.chat_template``, rendered with
    the generation prompt by llama-cpp-python's Jinja2 formatter and
    tokenised as its chat completion does.
    """
    formatter = _formatter(llm)
    result = formatter(messages=[{"role": r, "content": c} for r, c in messages])
    tokens = llm.tokenize(
        result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
    )
    return list(tokens), {llm.token_eos(), *(formatter.stop_token_ids or ())}
