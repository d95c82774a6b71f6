"""The passive audits: figures computed from recorded verdicts of one judge.

Each ``*_rows`` function takes one judge's prepared rows (see
:mod:`prefkit.audit.prepare`) and returns audit rows; a figure the data do
not allow becomes a row with NaN value and a note saying what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from prefkit.audit import figures as fig
from prefkit.audit._bootstrap import (
    Estimate,
    Statistic,
    cluster_bootstrap,
    cluster_codes,
    weighted_mean,
)
from prefkit.audit._glm import fit_logistic
from prefkit.audit.consistency import transitivity_table
from prefkit.audit.prepare import both_orders, lengths_of, preference_of
from prefkit.audit.result import make_row

Row = dict[str, Any]


@dataclass(frozen=True)
class Boot:
    """How CIs are formed.

    Attributes
    ----------
    rounds : int
        Cluster-bootstrap rounds (0: no CIs).
    alpha : float
        One minus the CI level.
    seed : int
        Seed of every resampling.
    """

    rounds: int = 1000
    alpha: float = 0.05
    seed: int = 0

    def run(
        self, statistic: Statistic, clusters: Any, n: int | None = None
    ) -> Estimate:
        """Cluster-bootstrap ``statistic(w)`` over the given cluster ids."""
        codes = cluster_codes(np.asarray(clusters, dtype=object), len(clusters))
        return cluster_bootstrap(
            statistic, codes, rounds=self.rounds, alpha=self.alpha, seed=self.seed, n=n
        )


def _skip(audit: str, figure: str, judge: str, why: str) -> Row:
    """A skipped figure."""
    return make_row(audit, figure, judge, None, note=f"skipped: {why}")


# ---------------------------------------------------------------- position
def position_rows(g: pd.DataFrame, judge: str, boot: Boot) -> list[Row]:
    """First-slot rate; flip and conflict rates and exact McNemar on both orders."""
    rows: list[Row] = []
    if "swapped" not in g.columns or g["swapped"].isna().all():
        why = "needs a `swapped` column (display order) or both orders"
        for figure in ("first_slot_rate", "flip_rate", "conflict_rate", "mcnemar"):
            rows.append(_skip("position", figure, judge, why))
        return rows

    decisive = g[g["_winner"].isin(["a", "b"]) & g["swapped"].notna()]
    picked_first = (decisive["_winner"] == "a").to_numpy() != decisive[
        "swapped"
    ].to_numpy(dtype=bool)
    est = boot.run(lambda w: fig.first_slot_rate(picked_first, w), decisive["_cluster"])
    rows.append(make_row("position", "first_slot_rate", judge, est, "ties excluded"))

    bo = both_orders(g)
    if bo.empty:
        why = "no pair was judged in both display orders"
        for figure in ("flip_rate", "conflict_rate", "mcnemar"):
            rows.append(_skip("position", figure, judge, why))
        return rows
    ab, ba = (
        bo["first_ab"].to_numpy(dtype=object),
        bo["first_ba"].to_numpy(dtype=object),
    )
    est = boot.run(lambda w: fig.flip_rate(ab, ba, w), bo["_cluster"])
    rows.append(make_row("position", "flip_rate", judge, est, "winner changes side"))
    est = boot.run(lambda w: fig.conflict_rate(ab, ba, w), bo["_cluster"])
    rows.append(
        make_row("position", "conflict_rate", judge, est, "1 - position consistency")
    )
    rows.append(_mcnemar_row(ab, ba, judge, boot.alpha))
    return rows


def _mcnemar_row(ab: Any, ba: Any, judge: str, alpha: float) -> Row:
    """Share of discordant pairs won by the first slot, exact CI and McNemar p."""
    n_first = int(((ab == "a") & (ba == "b")).sum())
    n_second = int(((ab == "b") & (ba == "a")).sum())
    total = n_first + n_second
    if total == 0:
        return _skip("position", "mcnemar", judge, "no pair flipped with the order")
    test = stats.binomtest(n_first, total, 0.5)
    ci = test.proportion_ci(confidence_level=1 - alpha, method="exact")
    p = fig.mcnemar_exact(n_first, n_second)
    side = "first" if n_first > n_second else "second"
    note = (
        f"share of {total} flips won by the first slot; exact McNemar p={p:.3g} "
        f"({side} slot favoured)"
    )
    est = Estimate(n_first / total, float(ci.low), float(ci.high), total)
    return make_row("position", "mcnemar", judge, est, note)


# --------------------------------------------------------------- verbosity
def verbosity_rows(g: pd.DataFrame, judge: str, boot: Boot) -> list[Row]:
    """Longer-pick rate, its excess over gold, and a length-coefficient GLM."""
    lengths = lengths_of(g)
    if lengths is None:
        why = "needs response texts or len_a/len_b"
        return [
            _skip("verbosity", f, judge, why)
            for f in ("longer_pick_rate", "longer_pick_excess", "length_coef")
        ]
    len_a, len_b = lengths
    ok = np.isfinite(len_a) & np.isfinite(len_b) & (len_a != len_b)
    winner = g["_winner"].to_numpy(dtype=object)
    decisive = ok & np.isin(winner, ["a", "b"])
    a_longer = len_a > len_b
    picked_longer = (winner == "a") == a_longer
    rows: list[Row] = []
    est = boot.run(
        lambda w: fig.longer_pick_rate(picked_longer[decisive], w),
        g["_cluster"][decisive],
    )
    rows.append(
        make_row(
            "verbosity",
            "longer_pick_rate",
            judge,
            est,
            "descriptive: longer answers may also be better",
        )
    )
    has_gold = bool("_gold" in g.columns and g["_gold"].notna().any())
    if has_gold:
        gold = g["_gold"].to_numpy(dtype=object)
        both = decisive & np.isin(gold, ["a", "b"])
        pj = picked_longer[both].astype(float)
        pg = ((gold == "a") == a_longer)[both].astype(float)
        est = boot.run(
            lambda w: weighted_mean(pj, w) - weighted_mean(pg, w),
            g["_cluster"][both],
        )
        rows.append(
            make_row(
                "verbosity",
                "longer_pick_excess",
                judge,
                est,
                "judge minus gold rate of picking the longer response",
            )
        )
    else:
        rows.append(
            _skip("verbosity", "longer_pick_excess", judge, "needs gold labels")
        )
    rows.append(_length_coef_row(g, judge, len_a, len_b, ok, has_gold, boot.alpha))
    return rows


def _length_coef_row(
    g: pd.DataFrame,
    judge: str,
    len_a: fig.FloatArray,
    len_b: fig.FloatArray,
    ok: Any,
    has_gold: bool,
    alpha: float,
) -> Row:
    """Logistic GLM of the judge's preference on the bounded length difference."""
    p = preference_of(g)
    keep = ok & np.isfinite(p)
    if has_gold:
        gold = g["_gold"].to_numpy(dtype=object)
        keep &= pd.notna(gold)
    if keep.sum() < 10:
        return _skip("verbosity", "length_coef", judge, "fewer than 10 usable rows")
    x = fig.tanh_length_difference(len_a[keep], len_b[keep])
    cols = [np.ones(int(keep.sum())), x]
    if has_gold:
        sign = pd.Series(gold[keep]).map({"a": 1.0, "b": -1.0, "tie": 0.0})
        cols.append(sign.to_numpy(dtype=float))
    codes = cluster_codes(g["_cluster"].to_numpy(dtype=object)[keep], int(keep.sum()))
    fit = fit_logistic(np.column_stack(cols), p[keep], ridge=1e-4, clusters=codes)
    se = float(np.sqrt(fit.cov_[1, 1]))
    z = float(stats.norm.ppf(1 - alpha / 2))
    coef = float(fit.coef_[1])
    est = Estimate(coef, coef - z * se, coef + z * se, int(keep.sum()))
    if has_gold:
        return make_row(
            "verbosity",
            "length_coef",
            judge,
            est,
            "logit slope on tanh(std length diff), gold as covariate; "
            "cluster-robust CI",
        )
    return make_row(
        "verbosity",
        "length_coef",
        judge,
        est,
        "descriptive (no gold: length and quality confounded)",
        band=(np.nan, np.nan),
    )


# --------------------------------------------------------- self-preference
def self_preference_rows(
    g: pd.DataFrame, judge: str, family: dict[str, str], boot: Boot
) -> list[Row]:
    """Own-family win rate and its excess over gold (pairwise DBG) [DBG25]."""
    fam = family.get(judge, judge)
    own_a = g["model_a"].astype(str).map(lambda m: family.get(m, m) == fam).to_numpy()
    own_b = g["model_b"].astype(str).map(lambda m: family.get(m, m) == fam).to_numpy()
    mixed = own_a ^ own_b
    if not mixed.any():
        why = "no comparison sets the judge's own family against another"
        return [
            _skip("self_preference", f, judge, why)
            for f in ("self_win_rate", "self_win_excess")
        ]
    p = preference_of(g)
    own_pref = np.where(own_a, p, 1 - p)
    keep = mixed & np.isfinite(own_pref)
    rows: list[Row] = []
    est = boot.run(lambda w: weighted_mean(own_pref[keep], w), g["_cluster"][keep])
    rows.append(
        make_row(
            "self_preference", "self_win_rate", judge, est, f"family {fam!r} vs others"
        )
    )
    if "_gold" not in g.columns or g["_gold"].isna().all():
        rows.append(
            _skip("self_preference", "self_win_excess", judge, "needs gold labels")
        )
        return rows
    gold_p = g["_gold"].map({"a": 1.0, "b": 0.0, "tie": 0.5}).to_numpy(dtype=float)
    gold_own = np.where(own_a, gold_p, 1 - gold_p)
    both = keep & np.isfinite(gold_own)
    pj, pg = own_pref[both], gold_own[both]
    est = boot.run(
        lambda w: weighted_mean(pj, w) - weighted_mean(pg, w), g["_cluster"][both]
    )
    rows.append(
        make_row(
            "self_preference",
            "self_win_excess",
            judge,
            est,
            "judge minus gold win rate of its own family (pairwise DBG)",
        )
    )
    return rows


# ------------------------------------------------------------- calibration
def calibration_rows(g: pd.DataFrame, judge: str, boot: Boot) -> list[Row]:
    """ECE, over-confidence and Brier score of ``p_a`` against decisive gold."""
    figs = ("ece", "overconfidence", "brier")
    if "p_a" not in g.columns or g["p_a"].isna().all():
        return [
            _skip("calibration", f, judge, "needs judge probabilities p_a")
            for f in figs
        ]
    if "_gold" not in g.columns or g["_gold"].isna().all():
        return [_skip("calibration", f, judge, "needs gold labels") for f in figs]
    p = g["p_a"].to_numpy(dtype=float, na_value=np.nan)
    gold = g["_gold"].to_numpy(dtype=object)
    keep = np.isfinite(p) & np.isin(gold, ["a", "b"])
    pk, yk = p[keep], (gold[keep] == "a").astype(float)
    cl = g["_cluster"][keep]
    funcs = {
        "ece": lambda w: fig.expected_calibration_error(pk, yk, w),
        "overconfidence": lambda w: fig.overconfidence(pk, yk, w),
        "brier": lambda w: fig.brier_score(pk, yk, w),
    }
    return [
        make_row("calibration", f, judge, boot.run(funcs[f], cl), "gold ties excluded")
        for f in figs
    ]


# -------------------------------------------------------------- agreement
def agreement_rows(g: pd.DataFrame, judge: str, boot: Boot) -> list[Row]:
    """Accuracy with and without ties, Cohen's kappa, Krippendorff's alpha vs gold."""
    figs = ("accuracy", "accuracy_no_ties", "cohen_kappa", "krippendorff_alpha")
    if "_gold" not in g.columns or g["_gold"].isna().all():
        return [_skip("agreement", f, judge, "needs gold labels") for f in figs]
    keep = g["_gold"].notna().to_numpy() & g["_winner"].notna().to_numpy()
    j = g["_winner"].to_numpy(dtype=object)[keep]
    gl = g["_gold"].to_numpy(dtype=object)[keep]
    cl = g["_cluster"][keep]
    dec = np.isin(j, ["a", "b"]) & np.isin(gl, ["a", "b"])
    code = {"a": 0.0, "b": 1.0, "tie": 2.0}
    matrix = np.array([[code[v] for v in j], [code[v] for v in gl]])
    alpha_est = Estimate(fig.krippendorff_alpha(matrix), np.nan, np.nan, len(j))
    return [
        make_row(
            "agreement",
            "accuracy",
            judge,
            boot.run(lambda w: fig.accuracy(j, gl, w), cl),
            "ties count as labels",
        ),
        make_row(
            "agreement",
            "accuracy_no_ties",
            judge,
            boot.run(lambda w: fig.accuracy(j[dec], gl[dec], w), cl[dec]),
            "rows where judge and gold are both decisive",
        ),
        make_row(
            "agreement",
            "cohen_kappa",
            judge,
            boot.run(lambda w: fig.cohen_kappa(j, gl, w), cl),
            "a/b/tie nominal",
        ),
        make_row(
            "agreement",
            "krippendorff_alpha",
            judge,
            alpha_est,
            "nominal, judge and gold as two raters; no CI",
        ),
    ]


# ------------------------------------------------------------ transitivity
def transitivity_rows(
    g: pd.DataFrame, judge: str, boot: Boot
) -> tuple[list[Row], pd.DataFrame]:
    """Circular and equivalence-contradiction rates over complete triples per prompt."""
    strength = None
    if "p_a" in g.columns:
        strength = np.abs(g["p_a"].to_numpy(dtype=float, na_value=np.nan) - 0.5)
    table = transitivity_table(
        g["_cluster"],
        g["model_a"].astype(str),
        g["model_b"].astype(str),
        g["_winner"],
        strength,
    )
    figs = ("cycle_rate", "equivalence_rate")
    if table.empty:
        why = "no prompt has three responses compared pairwise"
        return [_skip("transitivity", f, judge, why) for f in figs], table
    cyc = (table["kind"] == "cycle").to_numpy().astype(float)
    eqv = (table["kind"] == "equivalence").to_numpy().astype(float)
    cl = table["prompt_id"]
    rows = [
        make_row(
            "transitivity",
            "cycle_rate",
            judge,
            boot.run(lambda w: weighted_mean(cyc, w), cl),
            "A>B>C>A among triples",
        ),
        make_row(
            "transitivity",
            "equivalence_rate",
            judge,
            boot.run(lambda w: weighted_mean(eqv, w), cl),
            "ties that no weak order explains",
        ),
    ]
    bad = table[table["kind"] != "consistent"].assign(judge=judge)
    bad = bad.sort_values("strength", ascending=False, na_position="last")
    return rows, bad.head(20).reset_index(drop=True)
