"""Small summaries of a comparisons table that the report plots and lists.

Each is a pure function of the canonical ``comparisons`` table: the share of
verdicts that went to the first-shown slot (position effect), the share that
went to the longer response by length-ratio bin (length effect), and the
items a judge was least sure about (what would go to human review).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054

#: Columns holding a per-order verdict, shown beside each uncertain item.
VERDICT_PREFIXES = ("winner_", "p_a_", "verdict")


def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n`` [Wilson27].

    .. math::

        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}
              {1 + z^2/n}

    Returns ``(nan, nan)`` when ``n == 0``.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def picked_first(winner: pd.Series, swapped: pd.Series) -> NDArray[np.bool_]:
    """True where the verdict went to the slot shown first (ties excluded upstream).

    ``winner`` is in the row's a/b labelling and ``swapped`` says B was shown
    first, so the first slot won exactly when ``(winner == "a") != swapped``.
    """
    won_a = (winner.astype(str) == "a").to_numpy()
    return np.asarray(won_a != swapped.astype(bool).to_numpy(), dtype=bool)


def expand_orders(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per shown order from a dual-order judge's one row per pair.

    Rows carrying ``winner_ab`` / ``winner_ba`` (the verdicts with a, then b,
    shown first) become two rows with ``swapped`` False / True and that
    order's ``winner`` and ``p_a`` (``p_a_ab`` / ``p_a_ba``); an order with no
    verdict is left out. Other rows of such a table (a jury's combined
    verdicts) pass through with ``swapped`` unknown (None); a table without
    per-order columns is returned unchanged.
    """
    if not {"winner_ab", "winner_ba"} <= set(comparisons.columns):
        return comparisons
    # reader metadata (line numbers) does not survive the split
    comparisons = comparisons.copy()
    comparisons.attrs = {}
    has_orders = comparisons["winner_ab"].notna() | comparisons["winner_ba"].notna()
    # rows without per-order verdicts (a jury's) were not shown in one order
    rest = comparisons[~has_orders].assign(swapped=None)
    parts = [rest]
    dual = comparisons[has_orders]
    for suffix, swapped in (("ab", False), ("ba", True)):
        part = dual[dual[f"winner_{suffix}"].notna()].copy()
        part["winner"] = part[f"winner_{suffix}"].astype(str)
        if f"p_a_{suffix}" in part.columns:
            part["p_a"] = pd.to_numeric(part[f"p_a_{suffix}"], errors="coerce")
        part["swapped"] = swapped
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.drop(
        columns=["winner_ab", "winner_ba", "p_a_ab", "p_a_ba"], errors="ignore"
    )


def _judge_groups(comparisons: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The table split by ``judge`` (one group named "all" when absent)."""
    if "judge" not in comparisons.columns:
        return [("all", comparisons)]
    judges = comparisons["judge"].astype(str)
    return [(str(j), comparisons[judges == j]) for j in sorted(judges.unique())]


def position_effect(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Per judge, the share of non-tie verdicts given to the first-shown slot.

    Dual-order rows are first split into their two orders
    (:func:`expand_orders`).

    Returns
    -------
    DataFrame
        ``judge, n, first_rate, lower, upper`` (Wilson 95% interval); empty
        when the table has no ``swapped`` or ``winner`` column. An unbiased
        judge has ``first_rate`` near 0.5.
    """
    columns = ["judge", "n", "first_rate", "lower", "upper"]
    comparisons = expand_orders(comparisons)
    if not {"swapped", "winner"} <= set(comparisons.columns):
        return pd.DataFrame(columns=columns)
    rows = []
    for judge, part in _judge_groups(comparisons):
        decided = part[part["winner"].astype(str).isin(["a", "b"])]
        decided = decided[decided["swapped"].notna()]
        n = len(decided)
        if n == 0:
            continue
        k = float(picked_first(decided["winner"], decided["swapped"]).sum())
        lower, upper = wilson_interval(k, n)
        rows.append((judge, n, k / n, lower, upper))
    return pd.DataFrame(rows, columns=columns)


def length_effect(comparisons: pd.DataFrame, n_bins: int = 4) -> pd.DataFrame:
    """Per judge and length-ratio bin, the share of verdicts won by the longer side.

    Pairs of equal length and ties are left out. Bins are quantiles of
    ``log(len_longer / len_shorter)`` over the whole table, so every judge is
    read on the same bins.

    Returns
    -------
    DataFrame
        ``judge, bin, ratio_low, ratio_high, n, longer_rate, lower, upper``;
        empty when responses are absent. An unbiased judge on pairs of equal
        quality has ``longer_rate`` near 0.5 in every bin.
    """
    columns = ["judge", "bin", "ratio_low", "ratio_high", "n", "longer_rate"]
    columns += ["lower", "upper"]
    needed = {"response_a", "response_b", "winner"}
    if not needed <= set(comparisons.columns) or comparisons.empty:
        return pd.DataFrame(columns=columns)
    len_a = comparisons["response_a"].fillna("").astype(str).str.len().to_numpy()
    len_b = comparisons["response_b"].fillna("").astype(str).str.len().to_numpy()
    winner = comparisons["winner"].astype(str).to_numpy()
    keep = (len_a != len_b) & np.isin(winner, ["a", "b"])
    if not keep.any():
        return pd.DataFrame(columns=columns)
    log_ratio = np.abs(np.log((len_a + 1.0) / (len_b + 1.0)))
    longer_won = (winner == "a") == (len_a > len_b)
    edges = np.unique(np.quantile(log_ratio[keep], np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:
        edges = np.array([log_ratio[keep].min(), log_ratio[keep].max() + 1e-9])
    bins = np.clip(np.searchsorted(edges, log_ratio, side="right") - 1, 0, None)
    bins = np.minimum(bins, len(edges) - 2)

    rows = []
    judges = (
        comparisons["judge"].astype(str).to_numpy()
        if "judge" in comparisons.columns
        else np.full(len(comparisons), "all")
    )
    for judge in sorted(set(judges[keep])):
        for b in range(len(edges) - 1):
            mask = keep & (judges == judge) & (bins == b)
            n = int(mask.sum())
            if n == 0:
                continue
            k = float(longer_won[mask].sum())
            lower, upper = wilson_interval(k, n)
            low, high = float(np.exp(edges[b])), float(np.exp(edges[b + 1]))
            rows.append((judge, b, low, high, n, k / n, lower, upper))
    return pd.DataFrame(rows, columns=columns)


def item_uncertainty(comparisons: pd.DataFrame) -> pd.Series:
    """Each row's uncertainty: the ``uncertainty`` column, else ``1 - |2 p_a - 1|``.

    Rows with neither get NaN (they are listed last).
    """
    if "uncertainty" in comparisons.columns:
        return pd.to_numeric(comparisons["uncertainty"], errors="coerce")
    if "p_a" in comparisons.columns:
        p_a = pd.to_numeric(comparisons["p_a"], errors="coerce")
        return 1.0 - (2.0 * p_a - 1.0).abs()
    return pd.Series(np.nan, index=comparisons.index)


def item_keys(comparisons: pd.DataFrame) -> pd.Series:
    """A key per row naming the item: prompt and the unordered pair of models."""
    first = comparisons[["model_a", "model_b"]].astype(str).min(axis=1)
    second = comparisons[["model_a", "model_b"]].astype(str).max(axis=1)
    if "prompt_id" in comparisons.columns:
        prompt = comparisons["prompt_id"].astype(str)
    elif "prompt" in comparisons.columns:
        prompt = comparisons["prompt"].astype(str)
    else:
        prompt = pd.Series(comparisons.index.astype(str), index=comparisons.index)
    return prompt + "\x1f" + first + "\x1f" + second


def _ranking_rows(comparisons: pd.DataFrame) -> pd.Series:
    """Which rows rank the items: the jury's when there is one, else all."""
    if "judge" not in comparisons.columns:
        return pd.Series(True, index=comparisons.index)
    judge = comparisons["judge"].astype(str)
    juries = [n for n in dict.fromkeys(judge) if n.startswith("jury:")]
    if juries:
        return judge == juries[0]
    return pd.Series(True, index=comparisons.index)


def uncertain_items(comparisons: pd.DataFrame, n: int = 20) -> list[pd.DataFrame]:
    """The ``n`` most uncertain items, each as the rows (orders, judges) about it.

    An item is a prompt with an unordered pair of models. Items are ranked as
    :func:`prefkit.judge.route_to_humans` ranks the human review queue, on
    the main verdict (the jury's when there is one): by its uncertainty
    (see :func:`item_uncertainty`), highest first, then by how close its
    ``p_a`` is to 1/2, then by input order; so the report lists the items
    the queue sends to people. Each item shows every row about it.
    """
    if comparisons.empty or n <= 0:
        return []
    table = comparisons.assign(
        _key=item_keys(comparisons), _unc=item_uncertainty(comparisons)
    )
    if "p_a" in table.columns:
        p_a = pd.to_numeric(table["p_a"], errors="coerce")
        table["_close"] = (p_a - 0.5).abs()
    else:
        table["_close"] = np.nan
    ranking = table[_ranking_rows(table)]
    order = ranking.groupby("_key", sort=False).agg(
        unc=("_unc", "max"), close=("_close", "min")
    )
    order["at"] = np.arange(len(order))
    order = order.sort_values(
        ["unc", "close", "at"], ascending=[False, True, True], na_position="last"
    )
    chosen = list(order.index[:n])
    # split only the chosen items: grouping a large table whole is slow
    picked = table[table["_key"].isin(chosen)]
    groups = dict(tuple(picked.groupby("_key", sort=False)))
    drop = ["_key", "_unc", "_close"]
    return [groups[k].drop(columns=drop, errors="ignore") for k in chosen]
