"""Battles to outcome counts: the only pass over the raw comparisons table.

Rows are encoded as integer model indices, put in canonical orientation
(``i < j``, outcome and features flipped to match) and deduplicated with
``np.unique`` into unique rows ``(i, j, x)`` with one count per outcome. No
Python loop touches individual battles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from prefkit.data.schema import OUTCOMES, validate_comparisons
from prefkit.errors import PrefkitDataError

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Above this many model pairs, counting uses a sort instead of a dense grid.
_DENSE_PAIRS = 4_000_000


@dataclass(frozen=True)
class Aggregated:
    """Outcome counts over the unique rows of a comparisons table.

    Attributes
    ----------
    models : tuple of str
        Model names; index ``k`` in ``i``/``j`` is ``models[k]``.
    i, j : int array of shape (n_rows,)
        The two models of each unique row, ``i < j``.
    X : array of shape (n_rows, n_features)
        Covariates of each row in the ``i`` minus ``j`` orientation
        (``n_features`` may be 0).
    counts : array of shape (n_rows, 3)
        Summed weights of outcomes ``i wins, j wins, tie``.
    n : array of shape (n_rows, 3)
        Number of battles behind each count (what the bootstrap resamples).
    feature_names : tuple of str
        Names of the columns of ``X``.
    """

    models: tuple[str, ...]
    i: IntArray
    j: IntArray
    X: Array
    counts: Array
    n: Array
    feature_names: tuple[str, ...] = ()

    @property
    def n_models(self) -> int:
        """Number of models."""
        return len(self.models)

    @property
    def n_battles(self) -> IntArray:
        """Battles each model took part in."""
        per_row = self.n.sum(axis=1)
        out = np.bincount(self.i, per_row, self.n_models)
        out += np.bincount(self.j, per_row, self.n_models)
        return np.rint(out).astype(np.int64)

    def pair_matrix(self, values: Array) -> Array:
        """Sum a per-row value into a symmetric model x model matrix."""
        m = self.n_models
        out = np.zeros((m, m))
        np.add.at(out, (self.i, self.j), values)
        np.add.at(out, (self.j, self.i), values)
        return out


def encode_models(
    model_a: Sequence[str] | NDArray[np.object_] | pd.Series,
    model_b: Sequence[str] | NDArray[np.object_] | pd.Series,
) -> tuple[tuple[str, ...], IntArray, IntArray]:
    """Map model names to indices ``0..m-1`` (sorted names)."""
    both = pd.concat([pd.Series(model_a), pd.Series(model_b)], ignore_index=True)
    if not pd.api.types.is_string_dtype(both):
        both = both.astype(str)
    # hashing, then sorting only the distinct names, beats sorting every row
    codes, uniques = pd.factorize(both, sort=True)
    n = len(model_a)
    names = tuple(str(v) for v in uniques)
    return names, codes[:n].astype(np.int64), codes[n:].astype(np.int64)


def aggregate_arrays(
    a: IntArray,
    b: IntArray,
    outcome: IntArray,
    models: Sequence[str],
    X: Array | None = None,
    weight: Array | None = None,
    feature_names: Sequence[str] = (),
) -> Aggregated:
    """Deduplicate encoded battles into counts over unique rows.

    Parameters
    ----------
    a, b : int array of shape (n_battles,)
        Model indices of the two sides.
    outcome : int array of shape (n_battles,)
        0 when ``a`` won, 1 when ``b`` won, 2 for a tie.
    models : sequence of str
        Names of the model indices.
    X : array of shape (n_battles, n_features) or None, default=None
        Covariates in the ``a`` minus ``b`` orientation.
    weight : array of shape (n_battles,) or None, default=None
        Sample weights (1 when None).
    feature_names : sequence of str, default=()
        Names of the columns of ``X``.

    Returns
    -------
    Aggregated
    """
    n_battles = len(a)
    X = np.zeros((n_battles, 0)) if X is None else np.asarray(X, float)
    flip = a > b
    i = np.where(flip, b, a)
    j = np.where(flip, a, b)
    # a flipped battle swaps 'a wins' and 'b wins' and negates its covariates
    swap = np.array([1, 0, 2])
    out = np.where(flip, swap[outcome], outcome)
    Xc = np.where(flip[:, None], -X, X)

    w = np.ones(n_battles) if weight is None else np.asarray(weight, float)
    m = len(models)
    if Xc.shape[1] == 0 and m * m <= _DENSE_PAIRS:
        # no covariates: count straight into a dense (pair, outcome) grid
        cell = (i * m + j) * 3 + out
        counts = np.bincount(cell, w, m * m * 3).reshape(m * m, 3)
        n = np.bincount(cell, None, m * m * 3).reshape(m * m, 3)
        seen = np.flatnonzero(n.sum(axis=1))
        ui, uj, uX = seen // m, seen % m, np.zeros((len(seen), 0))
        counts, n = counts[seen], n[seen]
    else:
        keys = np.column_stack([i.astype(float), j.astype(float), Xc])
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        cell = inverse.ravel() * 3 + out
        n_rows = len(uniq)
        counts = np.bincount(cell, w, n_rows * 3).reshape(n_rows, 3)
        n = np.bincount(cell, None, n_rows * 3).reshape(n_rows, 3)
        ui, uj = uniq[:, 0], uniq[:, 1]
        uX = np.ascontiguousarray(uniq[:, 2:])
    return Aggregated(
        models=tuple(models),
        i=ui.astype(np.int64),
        j=uj.astype(np.int64),
        X=uX,
        counts=counts.astype(np.float64),
        n=n.astype(np.float64),
        feature_names=tuple(feature_names),
    )


def encode_outcomes(winner: pd.Series) -> IntArray:
    """Outcome labels ``a, b, tie`` as codes 0, 1, 2."""
    codes = pd.Categorical(winner, categories=list(OUTCOMES)).codes.astype(np.int64)
    return codes


def aggregate(
    comparisons: pd.DataFrame,
    X: Array | None = None,
    feature_names: Sequence[str] = (),
    *,
    validate: bool = True,
) -> Aggregated:
    """Outcome counts of a comparisons table (validated here unless told not to).

    Parameters
    ----------
    comparisons : DataFrame
        The canonical comparisons table (``model_a, model_b, winner``,
        optional ``weight``).
    X : array of shape (n_battles, n_features) or None, default=None
        Per-battle covariates in the ``a`` minus ``b`` orientation.
    feature_names : sequence of str, default=()
        Names of the columns of ``X``.
    validate : bool, default=True
        Run :func:`prefkit.data.validate_comparisons` first.

    Returns
    -------
    Aggregated

    Raises
    ------
    PrefkitDataError
        When the table is invalid or empty.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"model_a": ["x", "y"], "model_b": ["y", "x"],
    ...                   "winner": ["a", "a"]})
    >>> aggregate(t).counts.tolist()
    [[1.0, 1.0, 0.0]]
    """
    if validate:
        comparisons = validate_comparisons(comparisons)
    if len(comparisons) == 0:
        raise PrefkitDataError.single(
            "<table>",
            None,
            "-",
            "no comparisons (got an empty table); pass at least one judged battle",
        )
    models, a, b = encode_models(comparisons["model_a"], comparisons["model_b"])
    outcome = encode_outcomes(comparisons["winner"])
    weight = comparisons["weight"].to_numpy(float) if "weight" in comparisons else None
    return aggregate_arrays(a, b, outcome, models, X, weight, feature_names)
