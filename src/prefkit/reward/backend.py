"""A saved reward model as a judge backend: ``rm:PATH``.

Importing this module registers the ``rm`` backend with
:func:`prefkit.judge.backends.register_backend`. A Bradley-Terry model is a
:class:`~prefkit.judge.backends.ResponseScorer` (the judge turns two scores
into ``p_a = sigmoid(r_a - r_b)`` with ``scale = 1`` and scores ratings with
``r``); a GPM model, which has no scalar reward, is a
:class:`~prefkit.judge.backends.PairScorer` giving ``sigmoid(s(a, b))``. The
model is loaded on first use, so building the backend is cheap.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from prefkit.judge.backends import register_backend
from prefkit.judge.types import JudgeError

if TYPE_CHECKING:
    from prefkit.reward.model import RewardModel


class _Lazy:
    """Loads the model folder once, on first use."""

    name = "rm"

    def __init__(self, path: Path, cache_dir: str | None = None) -> None:
        self.path = path
        self.model = path.name
        self.cache_dir = cache_dir
        self._rm: RewardModel | None = None
        self._lock = threading.Lock()

    def reward_model(self) -> RewardModel:
        """The loaded :class:`~prefkit.reward.model.RewardModel`."""
        with self._lock:
            if self._rm is None:
                from prefkit.reward.model import RewardModel

                self._rm = RewardModel.load(self.path, self.cache_dir)
            return self._rm


class RewardScorer(_Lazy):
    """A Bradley-Terry reward model as a response scorer (one score each)."""

    scale = 1.0

    def score_responses(
        self, prompts: Sequence[str], responses: Sequence[str]
    ) -> NDArray[np.float64]:
        """Reward ``r(prompt, response)`` of each pair of texts."""
        return self.reward_model().score(list(prompts), list(responses))


class PreferenceScorer(_Lazy):
    """A GPM preference model as a pair scorer (it has no scalar reward)."""

    def score_pairs(
        self, prompts: Sequence[str], first: Sequence[str], second: Sequence[str]
    ) -> NDArray[np.float64]:
        """``sigmoid(s(first, second))`` per pair."""
        import pandas as pd

        table = pd.DataFrame(
            {
                "prompt": list(prompts),
                "response_a": list(first),
                "response_b": list(second),
            }
        )
        return self.reward_model().predict_proba(table)


def rm_backend(arg: str) -> RewardScorer | PreferenceScorer:
    """Factory of ``rm:PATH``: the scorer matching the saved model's head.

    Raises
    ------
    JudgeError
        If ``PATH`` is empty or not a saved reward-model folder.
    """
    if not arg:
        raise JudgeError(
            "judge 'rm' needs the folder of a saved reward model: rm:PATH "
            "(write one with `prefkit reward train`)"
        )
    path = Path(arg)
    config = path / "config.json"
    try:
        meta = json.loads(config.read_text())
        head = meta["config"]["head"]
    except (OSError, ValueError, KeyError, TypeError):
        raise JudgeError(
            f"judge rm:{arg}: {config} is missing or not a reward-model config; "
            "pass a folder written by `prefkit reward train`"
        ) from None
    return PreferenceScorer(path) if head == "gpm" else RewardScorer(path)


register_backend("rm", rm_backend)
