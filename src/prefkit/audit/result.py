"""The audit-result table, the bands an unbiased judge could occupy, flags."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prefkit.audit._bootstrap import Estimate
from prefkit.errors import JudgeBiasWarning

#: Columns of the audit-result table (docs/tables.md), in this order.
AUDIT_COLUMNS: tuple[str, ...] = (
    "audit",
    "figure",
    "judge",
    "value",
    "lower",
    "upper",
    "band_low",
    "band_high",
    "flag",
    "n",
    "note",
)

#: ``(audit, figure) -> (band_low, band_high)``: where an unbiased judge can
#: sit. Figures absent here are descriptive and never flagged.
BANDS: dict[tuple[str, str], tuple[float, float]] = {
    ("position", "first_slot_rate"): (0.45, 0.55),
    ("verbosity", "longer_pick_excess"): (-0.05, 0.05),
    ("verbosity", "length_coef"): (-0.25, 0.25),
    ("self_preference", "self_win_excess"): (-0.05, 0.05),
    ("scale", "sd_ratio"): (0.8, 1.25),
    ("calibration", "ece"): (0.0, 0.1),
    ("calibration", "overconfidence"): (-0.05, 0.05),
}


def is_flagged(lower: float, upper: float, band: tuple[float, float]) -> bool:
    """True only when the whole CI ``[lower, upper]`` lies outside ``band``."""
    low, high = band
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return False
    if math.isnan(low) or math.isnan(high):
        return False
    return upper < low or lower > high


def make_row(
    audit: str,
    figure: str,
    judge: str,
    estimate: Estimate | None,
    note: str = "",
    band: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One audit row; ``estimate=None`` records a skipped figure with its reason."""
    low, high = band or BANDS.get((audit, figure), (np.nan, np.nan))
    if estimate is None:
        value = lower = upper = float("nan")
        n = 0
    else:
        value, lower, upper, n = (
            estimate.value,
            estimate.lower,
            estimate.upper,
            estimate.n,
        )
    return {
        "audit": audit,
        "figure": figure,
        "judge": judge,
        "value": value,
        "lower": lower,
        "upper": upper,
        "band_low": low,
        "band_high": high,
        "flag": is_flagged(lower, upper, (low, high)),
        "n": n,
        "note": note,
    }


@dataclass
class AuditResult:
    """What :func:`prefkit.audit.audit` found.

    Attributes
    ----------
    table : DataFrame
        One row per figure, columns :data:`AUDIT_COLUMNS`.
    details : dict of str to DataFrame
        Extra frames (``worst_cycles``, ``win_rates``, ``lc_win_rates``,
        ``leaderboards``, ``flipped_pairs``, ...), present when computed.
    """

    table: pd.DataFrame
    details: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def flagged(self) -> pd.DataFrame:
        """The rows whose flag is raised."""
        return self.table[self.table["flag"]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: ``{"table": [...], "details": {...}}``."""
        return {
            "table": _records(self.table),
            "details": {k: _records(v) for k, v in self.details.items()},
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as None and numpy scalars as Python ones."""
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({str(k): _plain(v) for k, v in rec.items()})
    return out


def _plain(value: Any) -> Any:
    """A JSON-ready scalar."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


def build_table(rows: list[dict[str, Any]], *, warn: bool = True) -> pd.DataFrame:
    """The audit table from rows; warns once per flagged figure."""
    table = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    table["flag"] = table["flag"].astype(bool)
    table["n"] = table["n"].astype(int)
    if warn:
        for row in table[table["flag"]].itertuples(index=False):
            warnings.warn(
                f"judge {row.judge!r}: {row.audit}/{row.figure} = {row.value:.3f} "
                f"(CI {row.lower:.3f} to {row.upper:.3f}) lies outside the "
                f"unbiased band [{row.band_low}, {row.band_high}]",
                JudgeBiasWarning,
                stacklevel=3,
            )
    return table
