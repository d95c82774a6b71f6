"""Audits that need pointwise grades: scale use, DBG, score-comparison consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefkit.audit import figures as fig
from prefkit.audit._bootstrap import weighted_mean
from prefkit.audit.consistency import score_comparison_conflicts
from prefkit.audit.passive import Boot, Row, _skip
from prefkit.audit.prepare import DEFAULT_JUDGE
from prefkit.audit.result import make_row


def _judges(ratings: pd.DataFrame) -> pd.Series:
    """The judge of every grade (one default judge when the column is absent)."""
    if "judge" in ratings.columns:
        return ratings["judge"].fillna(DEFAULT_JUDGE).astype(str)
    return pd.Series(DEFAULT_JUDGE, index=ratings.index)


def scale_rows(r: pd.DataFrame, judge: str, boot: Boot) -> list[Row]:
    """Share of grades in the middle third, and SD relative to gold grades."""
    s = r["score"].to_numpy(dtype=float)
    cl = r["prompt_id"].astype(str)
    if "gold" in r.columns and r["gold"].notna().any():
        gold = pd.to_numeric(r["gold"], errors="coerce").to_numpy(dtype=float)
        low, high = float(np.nanmin(gold)), float(np.nanmax(gold))
    else:
        gold = None
        low, high = float(s.min()), float(s.max())
    rows = [
        make_row(
            "scale",
            "middle_share",
            judge,
            boot.run(lambda w: fig.middle_share(s, low, high, w), cl),
            f"grades inside the middle third of [{low:g}, {high:g}]",
        )
    ]
    if gold is None:
        rows.append(
            _skip("scale", "sd_ratio", judge, "needs gold grades (column `gold`)")
        )
        return rows
    keep = np.isfinite(gold)
    sk, gk = s[keep], gold[keep]
    rows.append(
        make_row(
            "scale",
            "sd_ratio",
            judge,
            boot.run(lambda w: fig.sd_ratio(sk, gk, w), cl[keep]),
            "SD of judge grades / SD of gold grades (<1: central tendency)",
        )
    )
    return rows


def dbg_rows(
    r: pd.DataFrame, judge: str, family: dict[str, str], boot: Boot
) -> list[Row]:
    """DBG: judge grade minus gold grade on its own family's responses [DBG25]."""
    if "gold" not in r.columns or r["gold"].isna().all():
        return [_skip("self_preference", "dbg_score", judge, "needs gold grades")]
    fam = family.get(judge, judge)
    own = r["model"].astype(str).map(lambda m: family.get(m, m) == fam).to_numpy()
    if not own.any():
        return [
            _skip(
                "self_preference",
                "dbg_score",
                judge,
                "the judge graded no response of its own family",
            )
        ]
    diff = r["score"].to_numpy(dtype=float) - pd.to_numeric(r["gold"]).to_numpy(float)
    keep = own & np.isfinite(diff)
    dk = diff[keep]
    est = boot.run(lambda w: weighted_mean(dk, w), r["prompt_id"].astype(str)[keep])
    return [
        make_row(
            "self_preference",
            "dbg_score",
            judge,
            est,
            "judge minus gold grade on its own family's responses",
        )
    ]


def score_comparison_rows(
    comparisons: pd.DataFrame, ratings: pd.DataFrame, judge: str, boot: Boot
) -> list[Row]:
    """TrustJudge Score-Comparison inconsistency of one judge [TrustJudge]."""
    r = ratings[_judges(ratings) == judge]
    if r.empty or "prompt_id" not in comparisons.columns:
        return [
            _skip(
                "consistency",
                "score_comparison",
                judge,
                "needs the same judge's grades and prompt ids",
            )
        ]
    grade = r.groupby([r["prompt_id"].astype(str), r["model"].astype(str)])[
        "score"
    ].mean()
    pid = comparisons["prompt_id"].astype(str)
    ka = pd.MultiIndex.from_arrays([pid, comparisons["model_a"].astype(str)])
    kb = pd.MultiIndex.from_arrays([pid, comparisons["model_b"].astype(str)])
    sa = grade.reindex(ka).to_numpy(dtype=float)
    sb = grade.reindex(kb).to_numpy(dtype=float)
    keep = np.isfinite(sa) & np.isfinite(sb) & comparisons["_winner"].notna().to_numpy()
    if not keep.any():
        return [
            _skip(
                "consistency",
                "score_comparison",
                judge,
                "no compared pair has both responses graded",
            )
        ]
    conflict = score_comparison_conflicts(
        sa[keep], sb[keep], comparisons["_winner"].to_numpy(dtype=object)[keep]
    ).astype(float)
    est = boot.run(lambda w: weighted_mean(conflict, w), comparisons["_cluster"][keep])
    return [
        make_row(
            "consistency",
            "score_comparison",
            judge,
            est,
            "lower-graded response won the comparison",
        )
    ]


def ratings_rows(
    ratings: pd.DataFrame, family: dict[str, str], boot: Boot
) -> list[Row]:
    """Scale and DBG rows for every judge in a ratings table."""
    rows: list[Row] = []
    judges = _judges(ratings)
    for judge in sorted(judges.unique()):
        r = ratings[judges == judge]
        rows += scale_rows(r, judge, boot)
        rows += dbg_rows(r, judge, family, boot)
    return rows
