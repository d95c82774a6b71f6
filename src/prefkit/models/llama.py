"""SmolLM2 in process through llama-cpp-python (the fast runtime).

One :class:`llama_cpp.Llama` per configuration is kept for the whole process;
llama.cpp is not thread-safe, so callers hold :data:`LLAMA_LOCK` around each
call (the judge backends run it in a worker thread).
"""

from __future__ import annotations

import threading
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
