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


@dataclass(frozen=True)
class Plain:
    """What a flagged figure means, in words, on each side of its band.

    Attributes
    ----------
    above, below : str
        What the judge does when the figure lies above / below the band
        (completes "Judge 'X' ...").
    then : str
        What follows for the reader of the leaderboard.
    """

    above: str
    below: str
    then: str


LENGTH_THEN = (
    "its ranking of systems that answer at different lengths is not trustworthy"
)
CUE_THEN = "its verdicts move with text that adds nothing to the answer"


def _cue(what: str) -> Plain:
    """The wording of an injected-cue probe."""
    return Plain(
        f"is swayed towards a response with {what}",
        f"is swayed against a response with {what}",
        CUE_THEN,
    )


#: Plain wording of every figure that can be flagged, keyed by figure name
#: (the passive audits and the active probes share them).
PLAIN: dict[str, Plain] = {
    "first_slot_rate": Plain(
        "favours the response shown first",
        "favours the response shown second",
        "its verdicts depend on the display order, so judge every pair in both "
        "orders (averaging them cancels part of this)",
    ),
    "longer_pick_excess": Plain(
        "prefers the longer response more often than the gold labels do",
        "prefers the shorter response more often than the gold labels do",
        LENGTH_THEN,
    ),
    "length_coef": Plain(
        "prefers the longer response", "prefers the shorter response", LENGTH_THEN
    ),
    "verbosity_shift": Plain(
        "prefers the longer response (padding an answer with content-free "
        "filler makes it win more often)",
        "prefers the shorter response (padding an answer with content-free "
        "filler makes it lose more often)",
        LENGTH_THEN,
    ),
    "bandwagon_shift": _cue("a claim that most people preferred it"),
    "authority_shift": _cue("a fabricated citation"),
    "distraction_shift": _cue("an irrelevant sentence"),
    "reflection_shift": _cue("a show of second thoughts"),
    "self_win_excess": Plain(
        "favours responses of its own model family",
        "disfavours responses of its own model family",
        "its ranking of its own family against the others is not trustworthy",
    ),
    "sd_ratio": Plain(
        "spreads its grades wider than the gold grades",
        "squeezes its grades narrower than the gold grades",
        "its grades are not on the gold scale",
    ),
    "ece": Plain(
        "is miscalibrated: its probabilities do not match how often it agrees "
        "with the gold labels",
        "is miscalibrated: its probabilities do not match how often it agrees "
        "with the gold labels",
        "do not read its probabilities as chances",
    ),
    "overconfidence": Plain(
        "is over-confident: it is surer than its agreement with the gold labels",
        "is under-confident: it is less sure than its agreement with the gold labels",
        "do not read its probabilities as chances",
    ),
}


def _interval(row: Mapping[Any, Any]) -> str:
    """``value (95% CI [lower, upper]; band [low, high])`` of an audit row."""
    return (
        f"{row['audit']} {row['figure']} = {float(row['value']):.3g} (95% CI "
        f"[{float(row['lower']):.3g}, {float(row['upper']):.3g}], outside the "
        f"band [{float(row['band_low']):.3g}, {float(row['band_high']):.3g}] "
        "an unbiased judge stays in)"
    )


def plain_sentence(row: Mapping[Any, Any]) -> str | None:
    """A flagged audit row as a plain sentence, or None for a figure without wording.

    The direction comes from the side of the band the CI lies on, so the
    sentence says what the judge does (e.g. "prefers the shorter response")
    and what follows for the leaderboard.
    """
    plain = PLAIN.get(str(row["figure"]))
    if plain is None:
        return None
    above = float(row["lower"]) > float(row["band_high"])
    does = plain.above if above else plain.below
    return f"Judge '{row['judge']}' {does}: {_interval(row)}; {plain.then}."


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


def _flagged_rows(data: ReportData) -> list[dict[Any, Any]]:
    """The audit rows whose flag is raised (with their band)."""
    if data.audit is None or data.audit.empty:
        return []
    flagged = data.audit[data.audit["flag"].fillna(False).astype(bool)]
    return [
        r
        for r in flagged.to_dict(orient="records")
        if {"band_low", "band_high"} <= set(r)
    ]


def findings(data: ReportData) -> list[str]:
    """Plain statements of the biases the data show, most important first.

    Every flagged audit row with a wording in :data:`PLAIN` comes first, as
    a plain sentence with its direction, value, CI and band; then a judge
    whose first-slot share (from the comparisons) has its whole 95% CI
    outside :data:`POSITION_BAND` is called position-biased, unless the
    audit already said so; then the other flagged rows, with their numbers.
    """
    rows = _flagged_rows(data)
    plain = [(r, plain_sentence(r)) for r in rows]
    said = [text for _, text in plain if text is not None]
    told_order = {
        str(r["judge"])
        for r, text in plain
        if text and r["figure"] == "first_slot_rate"
    }
    effect = position_effect(data.comparisons)
    low, high = POSITION_BAND
    for rec in effect.to_dict(orient="records"):
        first, lower, upper = (
            float(rec["first_rate"]),
            float(rec["lower"]),
            float(rec["upper"]),
        )
        if (lower > high or upper < low) and str(rec["judge"]) not in told_order:
            side = "first" if first > 0.5 else "second"
            said.append(
                f"Judge '{rec['judge']}' is position-biased: it gave "
                f"{100 * first:.0f}% of its {rec['n']} non-tie verdicts "
                f"to the response shown {side} (95% CI "
                f"{100 * lower:.0f}-{100 * upper:.0f}%; an unbiased "
                f"judge gives about 50%). Read its verdicts with care; "
                f"averaging both orders cancels part of this."
            )
    said += [_flag_sentence(r) for r, text in plain if text is None]
    return said
