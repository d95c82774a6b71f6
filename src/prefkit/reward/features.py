r"""Features of (prompt, response, context) inputs for the embedding heads.

An :class:`Encoder` turns texts into vectors; :func:`build_features` turns
each input into one feature row

.. math::

    x = [\,e_r,\; e_p \odot e_r,\; e_c,\; e_c \odot e_r,\; \log(1 + |r|)\,]

with :math:`e_r, e_p, e_c` the embeddings of the response, the prompt and the
context (criterion) string. Prompt-only terms would cancel in the reward
difference of a linear head, so the prompt enters through its interaction
with the response; the context enters both raw (a hidden layer combines it
with any response feature, e.g. length) and through the product, so one
model scores under different stated preferences [CAPM]_. The length block
(log character count) lets the model use length openly rather than through
the embedding; evaluation always reports the pick-longer baseline beside it.

Embeddings dominate the cost (MiniLM embeds ~5-200 texts/s on 2 shared
cores), so encoders keep every vector they computed, in memory and optionally
on disk: k-fold runs and ensembles embed each text once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from prefkit.errors import PrefkitError

logger = logging.getLogger("prefkit.reward")

EncoderName = Literal["minilm", "hashing"]
ENCODER_NAMES: tuple[EncoderName, ...] = ("minilm", "hashing")


class Encoder(Protocol):
    """Texts to vectors: ``encode(texts) -> array of shape (n, dim)``."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text."""
        ...


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class HashingEncoder:
    """Signed bag-of-words hashing into ``dim`` buckets, L2-normalised.

    No model, deterministic across processes: a cheap baseline and the
    encoder of fast tests.

    Parameters
    ----------
    dim : int, default=384
        Number of buckets.
    """

    name = "hashing"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row of signed token counts per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in re.findall(r"\w+", text.lower()):
                h = zlib.crc32(token.encode("utf-8"))
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norm, 1e-12)


class MiniLMEncoder:
    """The embedded all-MiniLM-L6-v2 sentence encoder, with a vector cache.

    Parameters
    ----------
    cache_dir : str, Path or None, default=None
        Folder where computed vectors are stored (one ``.npz`` shard per
        call) and found again by later processes; memory only if None.
    batch_size : int, default=32
        Texts per forward pass.
    show_progress : bool, default=False
        Show a progress bar while embedding.
    chunk_size : int, default=512
        Texts embedded (and saved to the cache) at a time.
    """

    name = "minilm"
    dim = 384

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        batch_size: int = 32,
        show_progress: bool = False,
        chunk_size: int = 512,
    ) -> None:
        self.chunk_size = chunk_size
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size = batch_size
        self.show_progress = show_progress
        self._memory: dict[str, NDArray[np.float32]] = {}
        self._shards: set[str] = set()
        self._load_shards()

    def _load_shards(self) -> None:
        """Read cache shards not read yet (other processes may add some)."""
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return
        for shard in sorted(self.cache_dir.glob("*.npz")):
            if shard.name in self._shards:
                continue
            with np.load(shard) as data:
                for key, vec in zip(data["keys"], data["vectors"], strict=True):
                    self._memory[str(key)] = vec
            self._shards.add(shard.name)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One unit-norm 384-dimensional row per text (cached)."""
        keys = [_text_key(t) for t in texts]
        if any(k not in self._memory for k in keys):
            self._load_shards()
        todo = sorted(
            {
                k: t for k, t in zip(keys, texts, strict=True) if k not in self._memory
            }.items()
        )
        for lo in range(0, len(todo), self.chunk_size):
            chunk = todo[lo : lo + self.chunk_size]
            logger.info(
                "embedding texts %d-%d of %d new with MiniLM",
                lo + 1,
                lo + len(chunk),
                len(todo),
            )
            vectors = (
                _sentence_model()
                .encode(
                    [t for _, t in chunk],
                    batch_size=self.batch_size,
                    show_progress_bar=self.show_progress,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                )
                .astype(np.float32)
            )
            for (key, _), vec in zip(chunk, vectors, strict=True):
                self._memory[key] = vec
            # one shard per chunk: an interrupted run keeps what it computed
            self._save_shard([k for k, _ in chunk], vectors)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys])

    def _save_shard(self, keys: list[str], vectors: NDArray[np.float32]) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        name = _text_key("".join(keys))[:16]
        tmp = self.cache_dir / f"{name}.partial.npy"
        with tmp.open("wb") as handle:
            np.savez(handle, keys=np.array(keys), vectors=vectors)
        tmp.rename(self.cache_dir / f"{name}.npz")
        self._shards.add(f"{name}.npz")


@lru_cache(maxsize=1)
def _sentence_model() -> Any:
    """The MiniLM sentence-transformers model, loaded once per process."""
    from sentence_transformers import SentenceTransformer

    from prefkit.models import minilm_path

    return SentenceTransformer(str(minilm_path()), device="cpu")


@lru_cache(maxsize=8)
def get_encoder(name: EncoderName, cache_dir: str | None = None) -> Encoder:
    """The shared encoder instance for ``name`` (one per process and cache)."""
    if name == "minilm":
        return MiniLMEncoder(cache_dir=cache_dir)
    if name == "hashing":
        return HashingEncoder()
    raise PrefkitError(
        f"unknown encoder {name!r}; expected one of {', '.join(ENCODER_NAMES)}"
    )


@dataclass(frozen=True)
class FeatureSpec:
    """Which blocks make up a feature row.

    Attributes
    ----------
    encoder : {"minilm", "hashing"}
        Text encoder (``minilm``: the embedded all-MiniLM-L6-v2).
    use_prompt : bool
        Include the prompt-response interaction block.
    use_context : bool
        Include the context blocks, raw and times the response (zeros where
        a row has no context).
    length_feature : bool
        Include ``log(1 + number of characters of the response)``.
    prompt_chars : int
        Keep only the last ``prompt_chars`` characters of each prompt (the
        encoder truncates at 256 tokens from the start; the end of a dialogue
        is what the response answers).
    """

    encoder: EncoderName = "minilm"
    use_prompt: bool = True
    use_context: bool = True
    length_feature: bool = True
    prompt_chars: int = 400

    def __post_init__(self) -> None:
        if self.encoder not in ENCODER_NAMES:
            raise PrefkitError(
                f"FeatureSpec.encoder is {self.encoder!r}; expected one of "
                f"{', '.join(ENCODER_NAMES)}"
            )
        if self.prompt_chars < 1:
            raise PrefkitError(
                f"FeatureSpec.prompt_chars is {self.prompt_chars}; expected an "
                "integer >= 1"
            )

    def n_features(self, dim: int) -> int:
        """Width of a feature row for an encoder of width ``dim``."""
        return dim * (1 + self.use_prompt + 2 * self.use_context) + self.length_feature


def _encode_unique(encoder: Encoder, texts: Sequence[str]) -> NDArray[np.float32]:
    """Encode each distinct text once and broadcast back to ``texts``."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    return encoder.encode([str(t) for t in unique])[inverse]


def build_features(
    prompts: Sequence[str],
    responses: Sequence[str],
    contexts: Sequence[str | None] | None,
    spec: FeatureSpec,
    encoder: Encoder,
) -> NDArray[np.float32]:
    """Feature rows of (prompt, response, context) inputs.

    Parameters
    ----------
    prompts, responses : sequence of str of length n
        Prompt and response of each input.
    contexts : sequence of str or None, or None
        Context / criterion string of each input (None or "" for none).
    spec : FeatureSpec
        Which blocks to include.
    encoder : Encoder
        Text encoder.

    Returns
    -------
    array of shape (n, spec.n_features(encoder.dim))
    """
    n = len(responses)
    e_r = _encode_unique(encoder, responses)
    blocks = [e_r]
    if spec.use_prompt:
        tails = [p[-spec.prompt_chars :] for p in prompts]
        blocks.append(_encode_unique(encoder, tails) * e_r)
    if spec.use_context:
        e_c = np.zeros_like(e_r)
        if contexts is not None:
            has = np.array([bool(c) for c in contexts])
            if has.any():
                given = [str(c) for c, h in zip(contexts, has, strict=True) if h]
                e_c[has] = _encode_unique(encoder, given)
        blocks += [e_c, e_c * e_r]
    if spec.length_feature:
        lengths = np.array([len(r) for r in responses], dtype=np.float32)
        blocks.append(np.log1p(lengths).reshape(n, 1))
    return np.concatenate(blocks, axis=1).astype(np.float32)
