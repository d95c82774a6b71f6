"""PandaLM's human-annotated test set [PandaLM]_ with GPT-3.5 / PandaLM-7B verdicts.

Each record is one pair (``model_1``/``response1`` = a, ``model_2``/
``response2`` = b) with three human labels (0 = tie, 1 = a, 2 = b) and two
judge verdicts. It becomes one row per verdict: ``annotator1..3`` (the
humans), ``gpt-3.5-turbo`` and ``pandalm-7b`` as ``judge``; every row carries
``gold``, the majority of the three humans (missing when all three differ).
GPT-3.5's ``garbage`` answers are kept as rows with ``winner`` missing and
``unparsable = True``, as in :mod:`~prefkit.data.formats.llmbar`. Six
responses are stored as the JSON boolean ``true`` (the model answered
"True"); they are read as the text ``"true"``.
"""

from __future__ import annotations

from collections import Counter
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
    text_id,
    texts,
)

HUMAN = {"0": "tie", "1": "a", "2": "b"}
GPT35 = {"1": "a", "2": "b", "Tie": "tie", "tie": "tie", "garbage": None}
ANNOTATORS = ("annotator1", "annotator2", "annotator3")
FIELDS = ("idx", "instruction", "input", "model_1", "response1", "model_2", "response2")


def majority(labels: list[str | None]) -> str | None:
    """The label most of the annotators gave; None without a strict majority."""
    counts = Counter(v for v in labels if v is not None).most_common()
    if not counts or 2 * counts[0][1] <= len(labels):
        return None
    return counts[0][0]


def convert(raw: pd.DataFrame) -> pd.DataFrame:
    """PandaLM records to comparisons, one row per human or judge verdict."""
    require_fields(raw, "pandalm", *FIELDS, *ANNOTATORS)
    out = collector(raw)
    humans = [map_labels(raw, a, HUMAN, out=out) for a in ANNOTATORS]
    judges: dict[str, list[str | None]] = {}
    if "gpt35_result" in raw.columns:
        judges["gpt-3.5-turbo"] = map_labels(raw, "gpt35_result", GPT35, out=out)
    if "pandalm7b_result" in raw.columns:
        judges["pandalm-7b"] = map_labels(raw, "pandalm7b_result", HUMAN, out=out)
    instruction = texts(raw, "instruction", out=out)
    context = texts(raw, "input", missing_ok=True, out=out)
    base: dict[str, Any] = {
        "prompt_id": None,
        "prompt": [
            i if not c else f"{i}\n\n{c}"
            for i, c in zip(instruction, context, strict=True)
        ],
        "model_a": texts(raw, "model_1", out=out),
        "model_b": texts(raw, "model_2", out=out),
        "response_a": texts(raw, "response1", scalars=True, out=out),
        "response_b": texts(raw, "response2", scalars=True, out=out),
        "pair_id": texts(raw, "idx", out=out),
    }
    out.raise_if_any()
    base["prompt_id"] = [text_id(p) for p in base["prompt"]]
    gold = [majority(list(v)) for v in zip(*humans, strict=True)]

    # stack the verdicts: all rows of annotator1, then annotator2, ...
    verdicts = {**dict(zip(ANNOTATORS, humans, strict=True)), **judges}
    k = len(verdicts)
    columns = {
        name: np.tile(np.asarray(v, dtype=object), k) for name, v in base.items()
    }
    winner = np.concatenate([np.asarray(v, dtype=object) for v in verdicts.values()])
    columns["winner"] = winner
    columns["judge"] = np.repeat(list(verdicts), len(raw))
    columns["gold"] = np.tile(np.asarray(gold, dtype=object), k)
    columns["unparsable"] = is_none(winner)
    return frame(columns, raw, np.tile(lines_of(raw), k))


register(
    Format(
        name="pandalm",
        kind="comparisons",
        description="PandaLM pairs: three human annotators + GPT-3.5 / PandaLM-7B",
        detect=lambda f: has(f, *FIELDS, *ANNOTATORS),
        convert=convert,
        require_winner=False,
    )
)
