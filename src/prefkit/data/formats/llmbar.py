"""LLMBar [Zeng23]_: gold-labelled instances and both-order evaluator verdicts.

Instances (``subset, index, input, output_1, output_2, label``) have no model
names: the two sides are called ``output_1`` (a) and ``output_2`` (b); the
gold label is the ``winner`` (``judge = "gold"``) and also ``gold``.

Evaluator verdicts become **one row per presentation order**: the row with
``swapped = False`` holds ``winner_swap_false`` (output_1 shown first), the
row with ``swapped = True`` holds ``winner_swap_true``. Both are in the
original labelling (1 = output_1 = a), so a verdict that flips between the
two rows is position bias. ``judge`` is ``"<evaluator>/<strategy>"``.

A verdict the evaluator's output could not be parsed into is null in the
source. Such rows are **kept** with ``winner`` missing and ``unparsable =
True`` (so a judge's failure rate stays visible); code that needs verdicts
drops them with ``df[~df.unparsable]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prefkit.data.formats import Format, register
from prefkit.data.formats._common import (
    collector,
    frame,
    has,
    is_none,
    lines_of,
    map_labels,
    require_fields,
    texts,
)

LABELS = {"1": "a", "2": "b"}
INSTANCE_FIELDS = ("subset", "index", "input", "output_1", "output_2", "label")
VERDICT_FIELDS = ("subset", "index", "evaluator", "strategy", "label")
ORDERS = (("winner_swap_false", False), ("winner_swap_true", True))


def _ids(raw: pd.DataFrame, out: Any) -> list[str]:
    subset = texts(raw, "subset", out=out)
    index = texts(raw, "index", out=out)
    return [f"{s}/{i}" for s, i in zip(subset, index, strict=True)]


def convert_instances(raw: pd.DataFrame) -> pd.DataFrame:
    """LLMBar instances to comparisons carrying the gold label."""
    require_fields(raw, "llmbar", *INSTANCE_FIELDS)
    out = collector(raw)
    gold = map_labels(raw, "label", LABELS, out=out)
    columns: dict[str, Any] = {
        "prompt_id": _ids(raw, out),
        "prompt": texts(raw, "input", out=out),
        "model_a": "output_1",
        "model_b": "output_2",
        "response_a": texts(raw, "output_1", out=out),
        "response_b": texts(raw, "output_2", out=out),
        "winner": gold,
        "judge": "gold",
        "gold": gold,
        "subset": texts(raw, "subset", out=out),
    }
    out.raise_if_any()
    return frame(columns, raw, lines_of(raw))


def convert_verdicts(raw: pd.DataFrame) -> pd.DataFrame:
    """Evaluator verdicts to comparisons, one row per order (see module doc)."""
    require_fields(raw, "llmbar_verdicts", *VERDICT_FIELDS, *(f for f, _ in ORDERS))
    out = collector(raw)
    prompt_id = _ids(raw, out)
    evaluator = texts(raw, "evaluator", out=out)
    strategy = texts(raw, "strategy", out=out)
    judge = [f"{e}/{s}" for e, s in zip(evaluator, strategy, strict=True)]
    gold = map_labels(raw, "label", LABELS, out=out)
    verdicts = [map_labels(raw, f, LABELS, missing=None, out=out) for f, _ in ORDERS]
    out.raise_if_any()

    # two rows per record: record k gives rows 2k (as shown) and 2k+1 (swapped)
    n = len(raw)
    winner = np.empty(2 * n, dtype=object)
    winner[0::2], winner[1::2] = verdicts[0], verdicts[1]
    columns: dict[str, Any] = {
        "prompt_id": np.repeat(np.asarray(prompt_id, dtype=object), 2),
        "model_a": "output_1",
        "model_b": "output_2",
        "winner": winner,
        "judge": np.repeat(np.asarray(judge, dtype=object), 2),
        "swapped": np.tile([False, True], n),
        "gold": np.repeat(np.asarray(gold, dtype=object), 2),
        "unparsable": is_none(winner),
        "subset": np.repeat(np.asarray(texts(raw, "subset"), dtype=object), 2),
        "evaluator": np.repeat(np.asarray(evaluator, dtype=object), 2),
        "strategy": np.repeat(np.asarray(strategy, dtype=object), 2),
    }
    for name in ("n_rounds", "score_1", "score_2"):
        if name in raw.columns:
            columns[name] = np.repeat(raw[name].to_numpy(dtype=object), 2)
    return frame(columns, raw, np.repeat(lines_of(raw), 2))


register(
    Format(
        name="llmbar",
        kind="comparisons",
        description="LLMBar instances (two outputs, gold label)",
        detect=lambda f: has(f, *INSTANCE_FIELDS),
        convert=convert_instances,
    )
)
register(
    Format(
        name="llmbar_verdicts",
        kind="comparisons",
        description="LLMBar evaluator verdicts in both orders, with gold labels",
        detect=lambda f: has(f, *VERDICT_FIELDS, "winner_swap_false"),
        convert=convert_verdicts,
        require_winner=False,
    )
)
