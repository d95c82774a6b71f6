"""Style covariates for "style control": what a response looks like, not how good.

Each feature is computed for both responses of a battle and enters the
Bradley-Terry predictor as a normalised difference

.. math:: x = \\frac{f_a - f_b}{f_a + f_b} \\quad (0 \\text{ when both are } 0),

scaled by its root mean square so coefficients are comparable [Chiang24]
(LMArena's style control; [Dubois24] for the length-controlled idea). The
scaling keeps ``x`` odd under swapping a and b.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.errors import PrefkitError

Array = NDArray[np.float64]

#: Markdown features, as regular expressions counted per response.
MARKDOWN_PATTERNS: dict[str, str] = {
    "header": r"(?m)^\s{0,3}#{1,6}\s",
    "bold": r"\*\*[^*\n]+\*\*|__[^_\n]+__",
    "list": r"(?m)^\s*(?:[-*+]|\d+[.)])\s",
}
#: Groups a user can ask for by one name.
GROUPS: dict[str, tuple[str, ...]] = {
    "length": ("length",),
    "markdown": tuple(MARKDOWN_PATTERNS),
}


class ControlError(PrefkitError, ValueError):
    """A style-control feature that cannot be computed from the table."""


def text_feature(text: pd.Series, name: str) -> Array:
    """Count of one feature in each text: ``length`` (tokens) or a markdown element."""
    filled = text.fillna("").astype(str)
    if name == "length":
        counted = filled.str.count(r"\S+")
    else:
        counted = filled.str.count(MARKDOWN_PATTERNS[name])
    out: Array = np.array(counted.to_numpy(), dtype=np.float64)
    return out


def normalised_difference(fa: Array, fb: Array) -> Array:
    """``(fa - fb) / (fa + fb)``, zero where both are zero."""
    total = fa + fb
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = np.where(
            total != 0, (fa - fb) / np.where(total != 0, total, 1.0), 0.0
        )
    return out


def rms_scale(X: Array) -> Array:
    """Divide each column by its root mean square (columns of zeros stay zero)."""
    rms = np.sqrt((X**2).mean(axis=0))
    out: Array = X / np.where(rms > 0, rms, 1.0)
    return out


def expand(control: Sequence[str]) -> list[str]:
    """Feature names for the requested groups and columns, in order, once each."""
    names: list[str] = []
    for item in control:
        for name in GROUPS.get(item, (item,)):
            if name not in names:
                names.append(name)
    return names


def style_features(
    comparisons: pd.DataFrame, control: Sequence[str]
) -> tuple[Array, list[str]]:
    """The covariate matrix of ``control`` for every battle.

    Parameters
    ----------
    comparisons : DataFrame
        The comparisons table. Text features need ``response_a`` and
        ``response_b``; another name ``f`` uses columns ``f_a`` and ``f_b``
        (normalised difference) or a column ``f`` (used as given, already in
        the a-minus-b orientation).
    control : sequence of str
        ``"length"``, ``"markdown"`` (headers, bold, lists) or column names.

    Returns
    -------
    X : array of shape (n_battles, n_features)
    names : list of str

    Raises
    ------
    ControlError
        When a feature's inputs are missing or not numeric.
    """
    names = expand(control)
    columns = []
    for name in names:
        columns.append(_one_feature(comparisons, name))
    X = np.column_stack(columns) if columns else np.zeros((len(comparisons), 0))
    return rms_scale(X), names


def _one_feature(df: pd.DataFrame, name: str) -> Array:
    """One column of the covariate matrix (see :func:`style_features`)."""
    if name == "length" or name in MARKDOWN_PATTERNS:
        missing = [c for c in ("response_a", "response_b") if c not in df.columns]
        if missing:
            raise ControlError(
                f"style control on {name!r} needs the response texts; columns "
                f"{', '.join(missing)} are missing: add them or drop {name!r} "
                "from control"
            )
        fa = text_feature(df["response_a"], name)
        fb = text_feature(df["response_b"], name)
        return normalised_difference(fa, fb)
    if f"{name}_a" in df.columns and f"{name}_b" in df.columns:
        fa = _numeric(df[f"{name}_a"], f"{name}_a")
        fb = _numeric(df[f"{name}_b"], f"{name}_b")
        return normalised_difference(fa, fb)
    if name in df.columns:
        return _numeric(df[name], name)
    raise ControlError(
        f"control feature {name!r} is unknown: it is not length or markdown and "
        f"the table has no column {name!r} nor {name}_a/{name}_b; use one of "
        "length, markdown, or an existing column"
    )


def _numeric(col: pd.Series, name: str) -> Array:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ControlError(
            f"control column {name!r} holds a non-numeric or missing value on row "
            f"{row + 1} (got {col.iloc[row]!r}); expected finite numbers"
        )
    return values
