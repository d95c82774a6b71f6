"""Using a trained model on tables: verdicts for pairs, scores for responses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefkit.errors import PrefkitDataError
from prefkit.reward.heads import PreferenceHead, skew_form
from prefkit.reward.model import (
    CONTEXT_COLUMN,
    RewardModel,
    _text_column,
    is_preference_model,
)


def judge_pairs(
    model: RewardModel, comparisons: pd.DataFrame, judge: str = "rm"
) -> pd.DataFrame:
    """Judge each pair: ``p_a = sigmoid(s(a, b))`` and the verdict it implies.

    Parameters
    ----------
    model : RewardModel
        The trained model.
    comparisons : DataFrame
        Pairs with ``response_a`` and ``response_b`` (and optional ``prompt``,
        ``context``); a ``winner`` already there is kept as ``gold``.
    judge : str, default="rm"
        Value of the ``judge`` column.

    Returns
    -------
    DataFrame
        The table with ``p_a``, ``winner`` (``a`` if ``p_a > 0.5``, ``b`` if
        below, ``tie`` at exactly 0.5) and ``judge``.
    """
    out = comparisons.copy()
    if "winner" in out.columns and "gold" not in out.columns:
        out["gold"] = out["winner"]
    p_a = model.predict_proba(comparisons)
    out["p_a"] = p_a
    out["winner"] = np.where(p_a > 0.5, "a", np.where(p_a < 0.5, "b", "tie"))
    out["judge"] = judge
    return out


def score_ratings(
    model: RewardModel, candidates: pd.DataFrame, judge: str = "rm"
) -> pd.DataFrame:
    """A ``ratings`` table: one score per (prompt, response).

    A BT model's score is its reward. A GPM model has no scalar reward, so a
    response's score is its mean preference logit against the other
    responses to the same ``prompt_id`` (0 for a lone response): ``k``
    forward passes and ``k^2`` cheap bilinear forms per prompt [GPM]_.

    Parameters
    ----------
    model : RewardModel
        The trained model.
    candidates : DataFrame
        ``response`` plus optional ``prompt_id``, ``prompt``, ``model`` and
        ``context``.
    judge : str, default="rm"
        Value of the ``judge`` column.
    """
    if "response" not in candidates.columns:
        raise PrefkitDataError.single(
            "<table>",
            None,
            "response",
            "column missing; scoring needs one response per row (a candidates "
            "or ratings table)",
        )
    prompts = _text_column(candidates, "prompt", False)
    responses = _text_column(candidates, "response", True)
    contexts = None
    if CONTEXT_COLUMN in candidates.columns:
        contexts = [
            c if isinstance(c, str) else None for c in candidates[CONTEXT_COLUMN]
        ]
    out = candidates.copy()
    if not is_preference_model(model):
        out["score"] = model.score(prompts, responses, contexts)
    else:
        out["score"] = _gpm_scores(model, out, prompts, responses, contexts)
    out["judge"] = judge
    return out


def _gpm_scores(
    model: RewardModel,
    table: pd.DataFrame,
    prompts: list[str],
    responses: list[str],
    contexts: list[str | None] | None,
) -> np.ndarray:
    """Mean GPM logit of each response against the others for its prompt."""
    import torch

    from prefkit.reward.features import build_features

    x = torch.as_tensor(
        build_features(prompts, responses, contexts, model.features, model.encoder)
    )
    head = model.head
    if not isinstance(head, PreferenceHead):
        raise TypeError("_gpm_scores needs a GPM head")
    with torch.no_grad():
        v = head.embedding(x)
        eigen = head.eigenvalues()
    groups = (
        table["prompt_id"].astype(str)
        if "prompt_id" in table
        else pd.Series(prompts, index=table.index)
    )
    scores = np.zeros(len(table))
    for _, idx in groups.groupby(groups.to_numpy()).indices.items():
        if len(idx) < 2:
            continue
        # (k, k) preference logits of every ordered pair in the group
        vi = v[torch.as_tensor(np.asarray(idx))]
        k = len(idx)
        s = skew_form(vi.repeat_interleave(k, 0), vi.repeat(k, 1), eigen).reshape(k, k)
        scores[idx] = (s.sum(dim=1) / (k - 1)).numpy()
    return scores
