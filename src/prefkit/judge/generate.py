"""Candidate responses from the same backends and the same resumable cache."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import pandas as pd

from prefkit.judge.backends import GenerativeBackend, make_backend
from prefkit.judge.cache import Cache, open_cache
from prefkit.judge.pairwise import JudgeFailureWarning
from prefkit.judge.runner import ProgressCallback, run_requests
from prefkit.judge.types import JudgeError, Request, RetryPolicy

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."


def _prompt_table(prompts: pd.DataFrame | Sequence[str]) -> pd.DataFrame:
    if isinstance(prompts, pd.DataFrame):
        if "prompt" not in prompts.columns:
            raise JudgeError(
                "prompts table lacks the column 'prompt' (columns present: "
                f"{', '.join(map(str, prompts.columns[:10]))}); "
                "expected prompt_id, prompt"
            )
        table = prompts.copy()
        if "prompt_id" not in table.columns:
            table["prompt_id"] = [str(i) for i in range(len(table))]
        table["prompt_id"] = table["prompt_id"].astype(str)
    elif isinstance(prompts, Sequence) and not isinstance(prompts, str):
        table = pd.DataFrame(
            {
                "prompt_id": [str(i) for i in range(len(prompts))],
                "prompt": list(prompts),
            }
        )
    else:
        raise JudgeError(
            f"prompts must be a table with a prompt column or a list of strings "
            f"(got {type(prompts).__name__})"
        )
    bad = [i for i, p in enumerate(table["prompt"]) if not isinstance(p, str) or not p]
    if bad:
        raise JudgeError(
            f"prompt on row {bad[0] + 1} is {table['prompt'].iloc[bad[0]]!r}; "
            "expected non-empty text"
        )
    if table["prompt_id"].duplicated().any():
        dup = table["prompt_id"][table["prompt_id"].duplicated()].iloc[0]
        raise JudgeError(
            f"prompt_id {dup!r} appears more than once; ids must be unique"
        )
    return table[["prompt_id", "prompt"]].reset_index(drop=True)


def generate(
    prompts: pd.DataFrame | Sequence[str],
    backend_spec: str | GenerativeBackend,
    *,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
    max_tokens: int = 256,
    temperature: float = 0.0,
    cache: str | os.PathLike[str] | Cache | None = None,
    seed: int = 0,
    concurrency: int = 4,
    progress: bool | ProgressCallback = True,
    retry: RetryPolicy | None = None,
    model_name: str | None = None,
) -> pd.DataFrame:
    """Generate one response per prompt: a candidates table.

    Parameters
    ----------
    prompts : DataFrame or sequence of str
        ``prompt_id, prompt`` (ids made from positions for a list).
    backend_spec : str or GenerativeBackend
        ``local``, ``openai:MODEL@URL`` or a registered generative backend.
    system_prompt : str, default="You are a helpful AI assistant."
        Always sent (SmolLM2 inserts its own when none is given).
    max_tokens : int, default=256
        Longest response.
    temperature : float, default=0.0
        Sampling temperature.
    cache : path, Cache or None, default=None
        The same SQLite cache as the judges: generation resumes too.
    seed : int, default=0
        Sampling seed.
    concurrency : int, default=4
        Requests in flight.
    progress : bool or callable, default=True
        Progress bar on stderr or a callback.
    retry : RetryPolicy or None, default=None
        Retry settings.
    model_name : str or None, default=None
        The ``model`` column (default: the backend's model id).

    Returns
    -------
    DataFrame
        ``prompt_id, prompt, model, response``; prompts whose every attempt
        failed are left out with a :class:`JudgeFailureWarning` (a re-run
        with the cache retries only them).
    """
    if max_tokens < 1:
        raise JudgeError(f"max_tokens must be >= 1 (got {max_tokens})")
    if temperature < 0:
        raise JudgeError(f"temperature must be >= 0 (got {temperature})")
    table = _prompt_table(prompts)
    backend = make_backend(backend_spec)
    if not isinstance(backend, GenerativeBackend):
        raise JudgeError(
            f"backend {backend_spec!r} cannot generate text; "
            "use local or openai:MODEL@URL"
        )
    requests = [
        Request(
            messages=(("system", system_prompt), ("user", p)),
            max_tokens=max_tokens,
            temperature=temperature,
            top_logprobs=0,
            seed=seed,
        )
        for p in table["prompt"]
    ]
    outcomes = run_requests(
        backend,
        requests,
        concurrency=concurrency,
        cache=open_cache(cache),
        retry=retry,
        progress=progress,
        seed=seed,
        what="generating",
    )
    out = table.assign(
        model=model_name or backend.model,
        response=pd.Series(
            [o.completion.text if o.completion else None for o in outcomes],
            index=table.index,
            dtype=object,
        ),
    )
    failed = out["response"].isna()
    if failed.any():
        reasons = [o.failures[-1] for o in outcomes if o.completion is None]
        warnings.warn(
            f"{int(failed.sum())} of {len(out)} prompts got no response "
            f"(last reason: {reasons[-1]})",
            JudgeFailureWarning,
            stacklevel=2,
        )
    return out[~failed].reset_index(drop=True)
