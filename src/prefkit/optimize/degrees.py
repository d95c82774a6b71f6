"""Self-supervised preference degrees for SPO: degraded copies and a degree head.

SPO [SPO] adds to the alignment loss a self-supervised task: key content is
removed from a response in varying amounts, and the model predicts how much
was removed (the *preference degree*) with a small classifier over its
hidden state. The paper extracts key phrases with RAKE [RAKE]; here the key
content is the response's content words (every whitespace-separated word
whose letters and digits, lower-cased, are not a stop word) or its
sentences.

- :func:`degrade` removes a fraction of a text's content units, seeded.
- :func:`degree_copies` makes the ``n_degrees`` copies of every chosen
  response of a pairs table: copy ``d`` loses ``d / n_degrees`` of its units
  and is labelled ``d`` (``n_degrees=4``: 0, 25, 50 and 75 %).
- :class:`DegreeHead` maps the policy's final hidden state at a copy's last
  token to ``n_degrees`` scores, the ``degree_logits`` of
  :func:`~prefkit.optimize.losses.spo_loss`; :func:`degree_logps` builds
  the loss input of one pair and its copies.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.nn.functional import cross_entropy

from prefkit.errors import PrefkitError
from prefkit.optimize.losses import LossOutput, PreferenceLogps, compute_loss
from prefkit.optimize.sequences import (
    EncodedPair,
    Messages,
    encode_completions,
    score_completions,
)

logger = logging.getLogger("prefkit.optimize")

DegreeUnit = Literal["words", "sentences"]
DEGREE_UNITS: tuple[DegreeUnit, ...] = get_args(DegreeUnit)

#: File the trainer writes the degree head to, beside the model.
HEAD_FILE = "degree_head.pt"

_STOP_TEXT = """a about above after again against all also am an and any are as at be
    because been before being below between both but by can could did do does
    doing down during each either else few for from further had has have
    having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself neither no nor not of off on once only
    or other our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this
    those through to too under until up upon us very was we were what when
    where which while who whom why will with would yet you your yours
    yourself yourselves"""
#: Function words that are never key content (English).
STOP_WORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"\S+\s*")
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+(?=\s)|[.!?]+$|\n|$)\s*", re.DOTALL)


class DegreeError(PrefkitError, ValueError):
    """A degree setting that cannot be used."""


def content_units(text: str, unit: DegreeUnit = "words") -> tuple[list[str], list[int]]:
    """A text cut into pieces, and the positions of its removable ones.

    Each piece keeps its trailing whitespace, so joining the pieces (after
    any leading whitespace) gives the text back. Words are removable when
    they are content words; sentences (cut after ``.``, ``!``, ``?`` and at
    line ends) always are.
    """
    if unit not in DEGREE_UNITS:
        raise DegreeError(f"`unit` is {unit!r}; expected one of {DEGREE_UNITS}")
    pattern = _WORD if unit == "words" else _SENTENCE
    pieces = pattern.findall(text)
    if unit == "sentences":
        return pieces, list(range(len(pieces)))
    removable = [i for i, piece in enumerate(pieces) if _is_content(piece)]
    return pieces, removable


def _is_content(word: str) -> bool:
    core = "".join(ch for ch in word.lower() if ch.isalnum())
    return bool(core) and core not in STOP_WORDS


def n_removed(n_units: int, fraction: float) -> int:
    """Units removed for ``fraction``: ``floor(fraction * n + 1/2)`` (half up)."""
    return math.floor(fraction * n_units + 0.5)


def degrade(
    text: str,
    fraction: float,
    *,
    unit: DegreeUnit = "words",
    seed: int | Sequence[int] = 0,
) -> str:
    """``text`` without ``fraction`` of its content units, chosen at random.

    Parameters
    ----------
    text : str
        The response.
    fraction : float
        Share of the removable units to remove, in [0, 1]; the count is
        :func:`n_removed` (rounded half up).
    unit : {"words", "sentences"}, default="words"
        Content words or sentences (see :func:`content_units`).
    seed : int or sequence of int, default=0
        Seeds the order in which units are removed. For one text and seed the
        order is fixed, so a larger fraction removes a superset of the units
        a smaller one removes.

    Examples
    --------
    >>> degrade("The cat sat on the mat.", 0.5, seed=0).count(" ") < 5
    True
    """
    if not 0.0 <= fraction <= 1.0:
        raise DegreeError(f"`fraction` must be in [0, 1] (got {fraction!r})")
    pieces, removable = content_units(text, unit)
    lead = text[: len(text) - len(text.lstrip())]
    order = np.random.default_rng(seed).permutation(len(removable))
    gone = {removable[j] for j in order[: n_removed(len(removable), fraction)]}
    return lead + "".join(p for i, p in enumerate(pieces) if i not in gone)


def degree_copies(
    pairs: pd.DataFrame,
    n_degrees: int = 4,
    *,
    unit: DegreeUnit = "words",
    seed: int = 0,
) -> pd.DataFrame:
    """The ``n_degrees`` degraded copies of every chosen response [SPO].

    Parameters
    ----------
    pairs : DataFrame
        Training pairs with a ``chosen`` column (see
        :func:`~prefkit.optimize.pairs.preference_pairs`).
    n_degrees : int, default=4
        Degree classes D >= 2: copy ``d`` loses ``d / D`` of the content
        units (D = 4: 0, 25, 50, 75 %); copy 0 is the response itself.
    unit : {"words", "sentences"}, default="words"
        What is removed (see :func:`content_units`).
    seed : int, default=0
        Row ``i`` is degraded with seed ``(seed, i)``; a row's copies nest
        (see :func:`degrade`).

    Returns
    -------
    DataFrame
        ``D`` rows per pair, pair by pair, degree by degree: ``pair`` (row of
        ``pairs``), ``degree`` (0..D-1), ``fraction``, ``n_units`` (removable
        units of the response), ``removed`` and ``text``.
    """
    if int(n_degrees) < 2:
        raise DegreeError(f"`n_degrees` must be >= 2 (got {n_degrees!r})")
    if "chosen" not in pairs.columns:
        raise DegreeError(
            f"`pairs` has no `chosen` column (got {sorted(map(str, pairs.columns))})"
        )
    rows = []
    for i, text in enumerate(pairs["chosen"].astype(str).tolist()):
        n_units = len(content_units(text, unit)[1])
        for degree in range(n_degrees):
            fraction = degree / n_degrees
            rows.append(
                {
                    "pair": i,
                    "degree": degree,
                    "fraction": fraction,
                    "n_units": n_units,
                    "removed": n_removed(n_units, fraction),
                    "text": degrade(text, fraction, unit=unit, seed=(seed, i)),
                }
            )
    return pd.DataFrame(rows)


class DegreeHead(torch.nn.Module):
    """A linear map from a final hidden state to degree-class scores [SPO].

    Parameters
    ----------
    d_model : int
        Width of the policy's hidden state.
    n_degrees : int
        Degree classes.
    """

    def __init__(self, d_model: int, n_degrees: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(d_model, n_degrees)

    def forward(self, hidden: Tensor) -> Tensor:
        """Scores of shape (n, n_degrees) from hidden states (n, d_model)."""
        return self.linear(hidden.to(self.linear.weight.dtype))

    def save(self, path: str | Path) -> Path:
        """Write the weights and sizes (``torch.save`` of a plain dict)."""
        path = Path(path)
        d_model, n_degrees = self.linear.in_features, self.linear.out_features
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        torch.save({"d_model": d_model, "n_degrees": n_degrees, "state": state}, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DegreeHead:
        """A head written by :meth:`save`."""
        saved = torch.load(Path(path), weights_only=True)
        head = cls(int(saved["d_model"]), int(saved["n_degrees"]))
        head.load_state_dict(saved["state"])
        return head


def degree_logps(
    policy: Tensor, reference: Tensor, degree_logits: Tensor
) -> PreferenceLogps:
    """One pair and its D degraded copies as ``spo_loss`` takes them.

    Each copy is one SPO example sharing the pair's log-probabilities, so
    the mean of the D losses is the pair's DPO loss plus ``lambda_`` times
    the mean degree cross-entropy of its copies.

    Parameters
    ----------
    policy, reference : Tensor of shape (2,)
        Log-probabilities (chosen, rejected).
    degree_logits : Tensor of shape (D, D)
        Head scores of copy d (row d, degree d) over the D classes.
    """
    n = degree_logits.shape[0]
    return PreferenceLogps(
        policy_chosen=policy[0].expand(n),
        policy_rejected=policy[1].expand(n),
        reference_chosen=reference[0].expand(n),
        reference_rejected=reference[1].expand(n),
        degree_logits=degree_logits,
        degree=torch.arange(n, device=degree_logits.device),
    )


def degree_metrics(degree_logits: Tensor) -> dict[str, float]:
    """Mean cross-entropy and accuracy of copies labelled 0..D-1 in row order."""
    logits = degree_logits.detach().float()
    labels = torch.arange(logits.shape[0], device=logits.device)
    return {
        "degree_loss": float(cross_entropy(logits, labels)),
        "degree_accuracy": float((logits.argmax(-1) == labels).float().mean()),
    }


def encode_degree_pairs(
    tokenizer: Any,
    pairs: pd.DataFrame,
    *,
    n_degrees: int = 4,
    unit: DegreeUnit = "words",
    seed: int = 0,
    system_prompt: str,
    max_length: int = 256,
    max_prompt_length: int = 128,
) -> tuple[list[EncodedPair], list[list[list[int]]]]:
    """Token ids of every pair and of its chosen response's degraded copies.

    The copies are those of :func:`degree_copies`, degree 0 first; all
    completions of a pair share its prompt (chat template and truncation of
    :func:`~prefkit.optimize.sequences.encode_completions`).
    """
    copies = degree_copies(pairs, n_degrees, unit=unit, seed=seed)
    texts = copies.groupby("pair", sort=True)["text"].agg(list).tolist()
    bare = int((copies["n_units"] == 0).sum()) // n_degrees
    if bare:
        logger.info("%d chosen responses have no content to remove", bare)
    encoded, degraded = [], []
    prompts: list[str | Messages] = pairs["prompt"].tolist()
    for prompt, chosen, rejected, own in zip(
        prompts,
        pairs["chosen"].tolist(),
        pairs["rejected"].tolist(),
        texts,
        strict=True,
    ):
        ids = encode_completions(
            tokenizer,
            prompt,
            [str(chosen), str(rejected), *own],
            system_prompt=system_prompt,
            max_length=max_length,
            max_prompt_length=max_prompt_length,
        )
        encoded.append(EncodedPair(ids.prompt_ids, *ids.completions[:2]))
        degraded.append(ids.completions[2:])
    return encoded, degraded


def pair_degree_loss(
    model: Any,
    head: DegreeHead,
    pair: EncodedPair,
    reference: Tensor,
    copies: list[list[int]],
    loss_params: Mapping[str, float],
    chunk: int = 512,
) -> tuple[LossOutput, dict[str, float]]:
    """SPO loss of one pair and its degraded copies (differentiable) [SPO].

    One forward runs the chosen, the rejected and the D copies (token ids,
    degree 0 first) on the shared prompt; ``head`` scores each copy from the
    final hidden state at its last token. Returns the D losses of
    :func:`degree_logps` (their mean is the pair's loss) and the copies'
    ``degree_loss`` and ``degree_accuracy``.
    """
    completions = [pair.chosen_ids, pair.rejected_ids, *copies]
    scored = score_completions(model, pair.prompt_ids, completions, chunk, n_scored=2)
    # (D, D): copy d's scores over the degree classes
    logits = head(scored.last_hidden[2:])
    logps = degree_logps(scored.logps, reference, logits)
    out = compute_loss("spo", logps, **dict(loss_params))
    return out, degree_metrics(logits)
