"""Agreement among humans (the ceiling) and between judge and human leaderboards."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefkit.audit import figures as fig
from prefkit.audit._bootstrap import Estimate, cluster_codes
from prefkit.audit.leaderboard import (
    bradley_terry,
    flipped_pairs,
    separability,
    win_matrix,
)
from prefkit.audit.passive import Boot, Row, _skip
from prefkit.audit.prepare import gold_labels
from prefkit.audit.result import make_row

HUMANS = "<gold annotators>"
_CODE = {"a": 0.0, "b": 1.0, "tie": 2.0}


def ceiling_rows(gold: pd.DataFrame, boot: Boot) -> list[Row]:
    """Inter-annotator agreement of the gold table: Fleiss, pairwise Cohen, alpha."""
    _, votes = gold_labels(gold)
    if votes.shape[1] < 2:
        return [_skip("agreement", "fleiss_kappa", HUMANS, "gold has one annotator")]
    rated = votes.notna().sum(axis=1)
    m = int(rated.mode().iloc[0])
    full = votes[rated == m]
    counts = np.column_stack([(full == k).sum(axis=1) for k in ("a", "b", "tie")])
    clusters = [k.split("\x1f")[0] for k in full.index]
    rows = [
        make_row(
            "agreement",
            "fleiss_kappa",
            HUMANS,
            boot.run(lambda w: fig.fleiss_kappa(counts, w), clusters),
            f"items with {m} annotators; the ceiling for any judge",
        )
    ]
    codes = votes.map(lambda v: _CODE.get(v, np.nan)).to_numpy(dtype=float)
    kappas = []
    n_raters = codes.shape[1]
    for u in range(n_raters):
        for v in range(u + 1, n_raters):
            both = np.isfinite(codes[:, u]) & np.isfinite(codes[:, v])
            if both.sum() >= 2:
                x, y = codes[both, u], codes[both, v]
                kappas.append(fig.cohen_kappa(x, y, np.ones(len(x))))
    rows.append(
        make_row(
            "agreement",
            "mean_pairwise_cohen_kappa",
            HUMANS,
            Estimate(float(np.nanmean(kappas)), np.nan, np.nan, len(votes)),
            f"mean over {len(kappas)} annotator pairs; no CI",
        )
    )
    matrix = codes.T
    rows.append(
        make_row(
            "agreement",
            "krippendorff_alpha",
            HUMANS,
            Estimate(fig.krippendorff_alpha(matrix), np.nan, np.nan, len(votes)),
            "nominal, all annotators; no CI",
        )
    )
    return rows


def leaderboard_rows(
    g: pd.DataFrame, judge: str, boot: Boot
) -> tuple[list[Row], dict[str, pd.DataFrame]]:
    """Rank correlation and separability of the judge's vs the gold leaderboard."""
    figs = ("spearman", "kendall", "separability_judge", "separability_gold")
    keep = g["_gold"].notna().to_numpy() & g["_winner"].notna().to_numpy()
    sub = g[keep]
    models = sorted(set(sub["model_a"].astype(str)) | set(sub["model_b"].astype(str)))
    if len(models) < 3:
        return [
            _skip("leaderboard", f, judge, "needs at least 3 models with gold")
            for f in figs
        ], {}
    index = {m: k for k, m in enumerate(models)}
    i = sub["model_a"].astype(str).map(index).to_numpy(dtype=np.intp)
    j = sub["model_b"].astype(str).map(index).to_numpy(dtype=np.intp)
    score = {"a": 1.0, "b": 0.0, "tie": 0.5}
    sj = sub["_winner"].map(score).to_numpy(dtype=float)
    sg = sub["_gold"].map(score).to_numpy(dtype=float)
    n = len(models)

    def fit(
        w: np.ndarray, init: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    ) -> tuple[np.ndarray, np.ndarray]:
        return (
            bradley_terry(win_matrix(i, j, sj, w, n), tol=1e-6, init=init[0]),
            bradley_terry(win_matrix(i, j, sg, w, n), tol=1e-6, init=init[1]),
        )

    rj, rg = fit(np.ones(len(sub)))
    codes = cluster_codes(sub["_cluster"].to_numpy(dtype=object), len(sub))
    n_clusters = int(codes.max()) + 1
    rng = np.random.default_rng(boot.seed)
    draws_j, draws_g = [], []
    for _ in range(boot.rounds):
        counts = rng.multinomial(n_clusters, np.full(n_clusters, 1 / n_clusters))
        a, b = fit(counts[codes].astype(float), (rj, rg))
        draws_j.append(a)
        draws_g.append(b)
    q = [boot.alpha / 2, 1 - boot.alpha / 2]
    rows: list[Row] = []
    for method in ("spearman", "kendall"):
        value = fig.rank_correlation(rj, rg, method)
        draws = [
            fig.rank_correlation(a, b, method)
            for a, b in zip(draws_j, draws_g, strict=True)
        ]
        lo, hi = np.quantile(draws, q) if draws else (np.nan, np.nan)
        rows.append(
            make_row(
                "leaderboard",
                method,
                judge,
                Estimate(value, float(lo), float(hi), n),
                f"judge vs gold BT ratings of {n} models on the same items",
            )
        )
    if draws_j:
        lj, uj = np.quantile(np.array(draws_j), q, axis=0)
        lg, ug = np.quantile(np.array(draws_g), q, axis=0)
    else:
        lj = uj = lg = ug = np.full(n, np.nan)
    for name, lo_, up_ in (("judge", lj, uj), ("gold", lg, ug)):
        rows.append(
            make_row(
                "leaderboard",
                f"separability_{name}",
                judge,
                Estimate(separability(lo_, up_), np.nan, np.nan, n),
                "share of model pairs whose rating CIs do not overlap",
            )
        )
    board = pd.DataFrame(
        {
            "judge": judge,
            "model": models,
            "judge_rating": rj,
            "judge_lower": lj,
            "judge_upper": uj,
            "gold_rating": rg,
            "gold_lower": lg,
            "gold_upper": ug,
        }
    ).sort_values("gold_rating", ascending=False, ignore_index=True)
    flips = flipped_pairs(models, rj, rg, lg, ug).assign(judge=judge)
    return rows, {"leaderboards": board, "flipped_pairs": flips}


__all__ = ["ceiling_rows", "leaderboard_rows"]
