"""What a report shows: :class:`ReportData` and the findings stated in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prefkit.errors import PrefkitDataError
from prefkit.report.effects import position_effect

LEADERBOARD_COLUMNS = ("model", "rating", "lower", "upper", "rank")
AUDIT_COLUMNS = ("audit", "figure", "judge", "value", "lower", "upper", "flag")

#: A judge whose first-slot share CI leaves this band is called position-biased.
POSITION_BAND = (0.4, 0.6)


def _require(df: pd.DataFrame | None, columns: tuple[str, ...], name: str) -> None:
    """Raise naming the table and its missing columns."""
    if df is None:
        return
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PrefkitDataError.single(
            f"<{name}>",
            None,
            ", ".join(missing),
            f"the {name} table lacks these columns (it has "
            f"{', '.join(map(str, df.columns)) or 'none'}); pass the table "
            f"prefkit produced (see docs/tables.md)",
        )


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows.

    Attributes
    ----------
    title : str
        Heading of the report.
    leaderboard : DataFrame
        The leaderboard table (``model, rating, lower, upper, rank``, and
        ``rank_lower, rank_upper, n_battles`` when known), best first.
    comparisons : DataFrame
        The judged comparisons the leaderboard was fitted on.
    win_probabilities : DataFrame or None, default=None
        Predicted P(row beats column), model x model.
    audit : DataFrame or None, default=None
        The audit table (``audit, figure, judge, value, lower, upper,
        band_low, band_high, flag, n, note``).
    tables : mapping of str to DataFrame, default={}
        Further tables shown under their name (per-judge leaderboards, win
        rates against a baseline, length-controlled win rates).
    notes : tuple of str, default=()
        Statements shown at the top, before the findings computed here.
    settings : mapping, default={}
        The run's settings, shown folded at the end.
    n_uncertain : int, default=20
        How many of the most uncertain items to list.
    rating_label : str, default="rating"
        Axis label of the ratings (e.g. "Bradley-Terry rating (Elo scale)").
    """

    title: str
    leaderboard: pd.DataFrame
    comparisons: pd.DataFrame
    win_probabilities: pd.DataFrame | None = None
    audit: pd.DataFrame | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    n_uncertain: int = 20
    rating_label: str = "rating"

    def __post_init__(self) -> None:
        _require(self.leaderboard, LEADERBOARD_COLUMNS, "leaderboard")
        _require(self.comparisons, ("model_a", "model_b"), "comparisons")
        _require(self.audit, AUDIT_COLUMNS, "audit")
        if self.n_uncertain < 0:
            raise ValueError(
                f"n_uncertain must be >= 0 (got {self.n_uncertain}); "
                "pass 0 to list no items"
            )


def _flag_sentence(row: Mapping[Any, Any]) -> str:
    """One flagged audit row in words."""
    band = f"[{float(row['band_low']):.3g}, {float(row['band_high']):.3g}]"
    ci = f"[{float(row['lower']):.3g}, {float(row['upper']):.3g}]"
    text = (
        f"Audit '{row['audit']}' flags judge '{row['judge']}': {row['figure']} = "
        f"{float(row['value']):.3g} (95% CI {ci}) lies outside the band {band}."
    )
    note = row.get("note")
    if isinstance(note, str) and note:
        text += f" {note}"
    return text


def findings(data: ReportData) -> list[str]:
    """Plain statements of the biases the data show, most important first.

    A judge is called position-biased when the whole 95% CI of its first-slot
    share lies outside :data:`POSITION_BAND`; every flagged audit row is
    stated with its value, CI and band.
    """
    said: list[str] = []
    effect = position_effect(data.comparisons)
    low, high = POSITION_BAND
    for rec in effect.to_dict(orient="records"):
        first, lower, upper = (
            float(rec["first_rate"]),
            float(rec["lower"]),
            float(rec["upper"]),
        )
        if lower > high or upper < low:
            side = "first" if first > 0.5 else "second"
            said.append(
                f"Judge '{rec['judge']}' is position-biased: it gave "
                f"{100 * first:.0f}% of its {rec['n']} non-tie verdicts "
                f"to the response shown {side} (95% CI "
                f"{100 * lower:.0f}-{100 * upper:.0f}%; an unbiased "
                f"judge gives about 50%). Read its verdicts with care; "
                f"averaging both orders cancels part of this."
            )
    if data.audit is not None and not data.audit.empty:
        flagged = data.audit[data.audit["flag"].fillna(False).astype(bool)]
        for flag_row in flagged.to_dict(orient="records"):
            if {"band_low", "band_high"} <= set(flag_row):
                said.append(_flag_sentence(flag_row))
    return said
