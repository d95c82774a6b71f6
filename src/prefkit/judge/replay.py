"""Recorded verdicts served back as if judged (``replay:FILE[#JUDGE]``).

A replay file is a table in one of three layouts:

- one row per shown order: a comparisons table with ``winner`` (in the row's
  a/b labelling) and ``swapped`` (True when b was shown first), optional
  ``p_a``;
- one row per pair with both orders: ``winner_ab`` and ``winner_ba`` (the
  output of :func:`prefkit.judge.judge_pairs`), optional ``p_a_ab``/``p_a_ba``;
- LLMBar's evaluator results [Zeng23] (``evaluator, strategy, subset, index,
  winner_swap_false, winner_swap_true``), whose pairs are
  :func:`llmbar_pairs`; select one judge with ``#EVALUATOR/STRATEGY``.

Pairs are matched on ``(prompt_id, model_a, model_b)`` (either orientation).
A pair the file lacks, or whose verdict is missing in the file, becomes a
recorded failure, never a verdict.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from prefkit.data.io import read_table
from prefkit.judge.types import JudgeError

_FLIP = {"a": "b", "b": "a", "tie": "tie"}
_LLMBAR = {"1": "a", "2": "b"}

#: What the replay judge returns per pair: (winner, p_a, failure reason).
Verdict = tuple[str | None, float | None, str | None]


def llmbar_pairs(instances: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """LLMBar instances as an unjudged comparisons table.

    ``prompt_id`` is ``"SUBSET/INDEX"``, the models are ``output_1`` and
    ``output_2`` and the gold label goes to ``gold`` (a or b).
    """
    raw = instances if isinstance(instances, pd.DataFrame) else read_table(instances)
    return pd.DataFrame(
        {
            "prompt_id": raw["subset"].astype(str) + "/" + raw["index"].astype(str),
            "prompt": raw["input"].astype(str),
            "model_a": "output_1",
            "model_b": "output_2",
            "response_a": raw["output_1"].astype(str),
            "response_b": raw["output_2"].astype(str),
            "gold": raw["label"].astype(str).map(_LLMBAR),
        }
    )


def _from_llmbar(raw: pd.DataFrame, selector: str) -> tuple[str, pd.DataFrame]:
    judges = raw["evaluator"].astype(str) + "/" + raw["strategy"].astype(str)
    if selector not in set(judges):
        some = ", ".join(sorted(set(judges))[:6])
        raise JudgeError(
            f"replay file has no judge {selector!r}; write replay:FILE#EVALUATOR/"
            f"STRATEGY with one of its judges (e.g. {some})"
        )
    rows = raw[judges == selector]
    ids = rows["subset"].astype(str) + "/" + rows["index"].astype(str)
    table = pd.DataFrame(
        {
            "prompt_id": ids.to_numpy(),
            "model_a": "output_1",
            "model_b": "output_2",
            "winner_ab": rows["winner_swap_false"].map(_LLMBAR).to_numpy(),
            "winner_ba": rows["winner_swap_true"].map(_LLMBAR).to_numpy(),
        }
    )
    return selector, table


def _select_judge(
    raw: pd.DataFrame, selector: str, path: str
) -> tuple[str, pd.DataFrame]:
    if "judge" not in raw.columns:
        return selector or Path(path).stem, raw
    names = sorted(set(raw["judge"].dropna().astype(str)))
    if not selector and len(names) > 1:
        raise JudgeError(
            f"replay file {path} holds {len(names)} judges ({', '.join(names[:6])}); "
            "pick one with replay:FILE#JUDGE"
        )
    name = selector or (names[0] if names else Path(path).stem)
    if names and name not in names:
        raise JudgeError(
            f"replay file {path} has no judge {name!r}; "
            f"its judges: {', '.join(names[:6])}"
        )
    return name, raw[raw["judge"].astype(str) == name] if names else raw


def _both_orders(table: pd.DataFrame, path: str) -> pd.DataFrame:
    """The table in the one-row-per-pair layout (winner_ab, winner_ba)."""
    if {"winner_ab", "winner_ba"} <= set(table.columns):
        return table
    if not {"winner", "swapped"} <= set(table.columns):
        raise JudgeError(
            f"replay file {path} has neither winner_ab/winner_ba nor winner+swapped "
            f"columns (columns: {', '.join(map(str, table.columns[:10]))})"
        )
    key = ["prompt_id", "model_a", "model_b"]
    shown = table.assign(swapped=table["swapped"].astype(bool))
    value_cols = ["winner"] + (["p_a"] if "p_a" in table.columns else [])
    ab = shown[~shown["swapped"]].drop_duplicates(key).set_index(key)[value_cols]
    ba = shown[shown["swapped"]].drop_duplicates(key).set_index(key)[value_cols]
    both = ab.add_suffix("_ab").join(ba.add_suffix("_ba"), how="outer")
    return both.reset_index()


def _records(table: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]


class ReplayJudge:
    """Verdicts recorded in a table, served back pair by pair.

    Parameters
    ----------
    table : DataFrame
        ``prompt_id, model_a, model_b, winner_ab, winner_ba`` and optionally
        ``p_a_ab, p_a_ba`` (see the module docstring for other layouts).
    model : str
        The judge's name (the ``judge`` column becomes ``replay:MODEL``).
    """

    name = "replay"

    def __init__(self, table: pd.DataFrame, model: str) -> None:
        self.model = model
        self._index: dict[tuple[str, str, str], dict[str, object]] = {}
        for row in _records(table):
            key = (str(row["prompt_id"]), str(row["model_a"]), str(row["model_b"]))
            self._index[key] = row

    @classmethod
    def from_spec(cls, arg: str) -> ReplayJudge:
        """A replay judge from ``FILE`` or ``FILE#JUDGE``."""
        path, _, selector = arg.partition("#")
        if not path:
            raise JudgeError("judge 'replay:' names no file; write replay:FILE[#JUDGE]")
        if not Path(path).is_file():
            raise JudgeError(f"replay file {path} does not exist")
        raw = read_table(path)
        # the reader's per-row line numbers are not needed past this point
        raw.attrs = {}
        if "winner_swap_false" in raw.columns:
            name, table = _from_llmbar(raw, selector)
        else:
            for col in ("prompt_id", "model_a", "model_b"):
                if col not in raw.columns:
                    raise JudgeError(f"replay file {path} lacks the column {col!r}")
            name, table = _select_judge(raw, selector, path)
            table = _both_orders(table, path)
        return cls(table, name)

    def verdicts(self, pairs: pd.DataFrame, swapped: bool) -> list[Verdict]:
        """The recorded verdict of each pair in one shown order (a/b labelling)."""
        order = "ba" if swapped else "ab"
        out: list[Verdict] = []
        ids: Sequence[str] = pairs["prompt_id"].astype(str).tolist()
        for pid, ma, mb in zip(ids, pairs["model_a"], pairs["model_b"], strict=True):
            row = self._index.get((pid, str(ma), str(mb)))
            flip = False
            if row is None:
                row = self._index.get((pid, str(mb), str(ma)))
                # the file's a is our b, and its "ab" order is our "ba"
                flip = row is not None
            if row is None:
                out.append((None, None, "replay: pair not in the file"))
                continue
            file_order = {"ab": "ba", "ba": "ab"}[order] if flip else order
            winner = row.get(f"winner_{file_order}")
            if not isinstance(winner, str) or winner not in _FLIP:
                out.append((None, None, f"replay: no verdict recorded ({winner!r})"))
                continue
            p = row.get(f"p_a_{file_order}")
            p_a = float(p) if isinstance(p, (int, float)) and np.isfinite(p) else None
            if flip:
                winner = _FLIP[winner]
                p_a = None if p_a is None else 1.0 - p_a
            out.append((winner, p_a, None))
        return out
