"""Seeded synthetic judges with one planted defect each (test helper)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MODELS = ("m1", "m2", "m3", "m4", "selfy")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def items(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Pairs of responses with a true quality gap, lengths and a gold label."""
    rng = np.random.default_rng(seed)
    pairs = [rng.choice(len(MODELS), 2, replace=False) for _ in range(n)]
    a = np.array([MODELS[p[0]] for p in pairs])
    b = np.array([MODELS[p[1]] for p in pairs])
    logit = rng.normal(0, 1.5, n)
    p_true = _sigmoid(logit)
    gold = np.where(rng.random(n) < p_true, "a", "b")
    return pd.DataFrame(
        {
            "prompt_id": [f"q{i}" for i in range(n)],
            "model_a": a,
            "model_b": b,
            "len_a": rng.lognormal(6, 0.5, n).round(),
            "len_b": rng.lognormal(6, 0.5, n).round(),
            "logit": logit,
            "gold": gold,
        }
    )


def judge(items_: pd.DataFrame, kind: str, seed: int = 1) -> pd.DataFrame:
    """Both-order verdicts of a judge with the planted defect ``kind``.

    ``clean`` samples the true preference; ``first`` picks the first slot
    outright 34% of the time (first-slot rate 0.67); ``length`` adds
    1.5 * tanh(length difference) to the logit; ``self`` (named ``selfy``)
    adds 1.2 to its own model's logit; ``overconfident`` reports
    ``sigmoid(4 logit)`` as ``p_a``.
    """
    rng = np.random.default_rng(seed)
    out = []
    for swapped in (False, True):
        t = items_.copy()
        logit = t["logit"].to_numpy().copy()
        if kind == "length":
            d = t["len_a"] - t["len_b"]
            logit += 1.5 * np.tanh(d / d.std()).to_numpy()
        if kind == "self":
            logit += 1.2 * (
                (t["model_a"] == "selfy").to_numpy(float)
                - (t["model_b"] == "selfy").to_numpy(float)
            )
        p = _sigmoid(logit)
        win_a = rng.random(len(t)) < p
        if kind == "first":
            outright = rng.random(len(t)) < 0.34
            win_a = np.where(outright, not swapped, win_a)
        t["winner"] = np.where(win_a, "a", "b")
        if kind in ("clean", "overconfident"):
            t["p_a"] = _sigmoid(4 * t["logit"]) if kind == "overconfident" else p
        t["swapped"] = swapped
        t["judge"] = "selfy" if kind == "self" else kind
        out.append(t.drop(columns=["logit"]))
    return pd.concat(out, ignore_index=True)


def ratings(items_: pd.DataFrame, kind: str, seed: int = 2) -> pd.DataFrame:
    """1-10 grades per (prompt, model): ``clean`` adds small noise to the gold
    grade, ``middler`` shrinks it halfway towards the middle."""
    rng = np.random.default_rng(seed)
    rows = items_[["prompt_id", "model_a"]].rename(columns={"model_a": "model"})
    gold = np.clip(np.round(5.5 + 2 * rng.normal(size=len(rows))), 1, 10)
    if kind == "middler":
        score = np.round(5.5 + 0.4 * (gold - 5.5) + rng.normal(0, 0.3, len(rows)))
    else:
        score = np.clip(np.round(gold + rng.normal(0, 0.5, len(rows))), 1, 10)
    return rows.assign(score=score, gold=gold, judge=kind)
