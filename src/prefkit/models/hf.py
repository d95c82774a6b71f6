"""SmolLM2 through transformers (for training and exact log-probabilities).

The GGUF is dequantised once (25-30 s) and saved as safetensors in a cache
folder; later loads take 2-4 s and give identical logits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefkit.models import smollm2_gguf_path

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger("prefkit.models")

DEFAULT_CACHE = Path.home() / ".cache" / "prefkit" / "smollm2-135m-instruct-hf"
_LOCK = threading.Lock()

#: SmolLM2's chat template inserts its own system prompt when none is given,
#: so prefkit always passes one.
DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."


@contextmanager
def quiet_loading() -> Iterator[None]:
    """No transformers "Loading weights" bar inside (it breaks prefkit's bars)."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _export(cache_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    logger.info("converting %s to safetensors in %s (once)", gguf.name, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers refuses to save a GGUF-loaded model while it is marked quantized
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = cache_dir.with_name(cache_dir.name + ".partial")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(cache_dir)


def smollm2_hf_dir(cache_dir: str | Path | None = None) -> Path:
    """Folder of a transformers copy of the embedded SmolLM2 (made on first use)."""
    folder = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
    with _LOCK:
        if not (folder / "config.json").is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            _export(folder)
    return folder


def load_smollm2(
    cache_dir: str | Path | None = None, dtype: Any = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The embedded SmolLM2-135M-Instruct as a transformers model and tokenizer.

    Parameters
    ----------
    cache_dir : str, Path or None, default=None
        Where the safetensors copy lives (``~/.cache/prefkit/...`` if None).
    dtype : torch.dtype or None, default=None
        Parameter dtype (float32 if None).

    Returns
    -------
    model, tokenizer
        The model in eval mode and its tokenizer (pad token set).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_hf_dir(cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=dtype or torch.float32
        )
    model.eval()
    return model, tokenizer
