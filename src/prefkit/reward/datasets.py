"""Human-labelled pair sets of ``../shared/data`` as comparisons tables.

Each reader takes the file path and returns a comparisons table with
``prompt, response_a, response_b, model_a, model_b, winner, subset``. They
parse only the fields a reward-model benchmark needs; the general converters
live in :mod:`prefkit.data.formats`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from prefkit.data import read_table
from prefkit.errors import PrefkitDataError, got_expected

ASSISTANT = "\n\nAssistant:"


def split_hh(chosen: str, rejected: str) -> tuple[str, str, str]:
    """Split two HH transcripts into (shared prompt, chosen turn, rejected turn).

    The prompt is the longest common prefix cut at the last ``Assistant:``
    marker inside it; each response is the rest of its transcript.
    """
    n = 0
    limit = min(len(chosen), len(rejected))
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    cut = chosen.rfind(ASSISTANT, 0, n + 1)
    if cut < 0:
        return "", chosen.strip(), rejected.strip()
    cut += len(ASSISTANT)
    return chosen[:cut], chosen[cut:].strip(), rejected[cut:].strip()


def _need(raw: pd.DataFrame, path: Path, fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if f not in raw.columns]
    if missing:
        raise PrefkitDataError.single(
            str(path),
            None,
            missing[0],
            f"field missing (have {', '.join(map(str, raw.columns))}); "
            f"expected the fields {', '.join(fields)}",
        )


def read_hh(path: str | os.PathLike[str], subset: str | None = None) -> pd.DataFrame:
    """Anthropic HH-RLHF transcripts (``chosen``/``rejected``) as comparisons.

    ``a`` is always the chosen turn (``winner = "a"``); ``subset`` defaults
    to the file name's first part (``helpful-base``).
    """
    p = Path(path)
    raw = read_table(p)
    _need(raw, p, ("chosen", "rejected"))
    parts = [
        split_hh(c, r) for c, r in zip(raw["chosen"], raw["rejected"], strict=True)
    ]
    name = subset or p.name.split("_")[0]
    ids = raw["pair_id"].astype(str) if "pair_id" in raw else raw.index.astype(str)
    return pd.DataFrame(
        {
            "prompt_id": ids.to_numpy(),
            "prompt": [x[0] for x in parts],
            "model_a": "chosen",
            "model_b": "rejected",
            "response_a": [x[1] for x in parts],
            "response_b": [x[2] for x in parts],
            "winner": "a",
            "subset": name,
        }
    )


def majority(votes: list[int]) -> str:
    """Majority of PandaLM votes (0 tie, 1 first, 2 second); no majority is a tie."""
    (top, count), *_ = Counter(votes).most_common(1)
    if count * 2 <= len(votes):
        return "tie"
    return {0: "tie", 1: "a", 2: "b"}[top]


def _json_text(value: object) -> str:
    """A response as text; six PandaLM responses are stored as JSON ``true``."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return json.dumps(value)


def read_pandalm(path: str | os.PathLike[str]) -> pd.DataFrame:
    """PandaLM test pairs with the majority of the three human annotators."""
    p = Path(path)
    raw = read_table(p)
    fields = (
        "instruction",
        "input",
        "response1",
        "response2",
        "model_1",
        "model_2",
        "annotator1",
        "annotator2",
        "annotator3",
    )
    _need(raw, p, fields)
    votes = raw[["annotator1", "annotator2", "annotator3"]].to_numpy()
    for i, row in enumerate(votes):
        if not set(row.tolist()) <= {0, 1, 2}:
            raise PrefkitDataError.single(
                str(p),
                i + 1,
                "annotator1",
                got_expected("unknown vote", row.tolist(), "0 (tie), 1 or 2"),
            )
    prompts = [
        i if not x else f"{i}\n\n{x}"
        for i, x in zip(raw["instruction"], raw["input"].fillna(""), strict=True)
    ]
    return pd.DataFrame(
        {
            "prompt_id": raw["idx"].astype(str).to_numpy() if "idx" in raw else None,
            "prompt": prompts,
            "model_a": raw["model_1"],
            "model_b": raw["model_2"],
            "response_a": raw["response1"].map(_json_text),
            "response_b": raw["response2"].map(_json_text),
            "winner": [majority(list(v)) for v in votes.tolist()],
            "subset": "pandalm",
        }
    )


def read_llmbar(path: str | os.PathLike[str]) -> pd.DataFrame:
    """LLMBar instances with their gold label (1 or 2), subset per row."""
    p = Path(path)
    raw = read_table(p)
    _need(raw, p, ("subset", "input", "output_1", "output_2", "label"))
    bad = ~raw["label"].isin([1, 2])
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise PrefkitDataError.single(
            str(p),
            i + 1,
            "label",
            got_expected("unknown gold label", raw["label"].iloc[i], "1 or 2"),
        )
    return pd.DataFrame(
        {
            "prompt_id": (raw["subset"] + "/" + raw["index"].astype(str)).to_numpy(),
            "prompt": raw["input"],
            "model_a": "output_1",
            "model_b": "output_2",
            "response_a": raw["output_1"],
            "response_b": raw["output_2"],
            "winner": raw["label"].map({1: "a", 2: "b"}),
            "subset": raw["subset"],
        }
    )


def read_faireval(path: str | os.PathLike[str]) -> pd.DataFrame:
    """FairEval's 80 ChatGPT-vs-Vicuna pairs with the human verdict."""
    p = Path(path)
    raw = read_table(p)
    _need(
        raw,
        p,
        ("question", "answer_1", "answer_2", "model_1", "model_2", "human_winner"),
    )
    mapping = {"model_1": "a", "model_2": "b", "tie": "tie"}
    bad = ~raw["human_winner"].isin(list(mapping))
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise PrefkitDataError.single(
            str(p),
            i + 1,
            "human_winner",
            got_expected(
                "unknown verdict",
                raw["human_winner"].iloc[i],
                "model_1, model_2 or tie",
            ),
        )
    return pd.DataFrame(
        {
            "prompt_id": raw["question_id"].astype(str).to_numpy(),
            "prompt": raw["question"],
            "model_a": raw["model_1"],
            "model_b": raw["model_2"],
            "response_a": raw["answer_1"],
            "response_b": raw["answer_2"],
            "winner": raw["human_winner"].map(mapping),
            "subset": "faireval",
        }
    )


#: Benchmark name -> (file inside ``../shared/data``, reader).
BENCHMARKS: dict[str, tuple[str, Callable[[Path], pd.DataFrame]]] = {
    "hh-helpful": ("hh_rlhf/helpful-base_test.jsonl.gz", read_hh),
    "hh-harmless": ("hh_rlhf/harmless-base_test.jsonl.gz", read_hh),
    "pandalm": ("pandalm/testset_v1_with_judges.jsonl", read_pandalm),
    "llmbar": ("llmbar/instances.jsonl", read_llmbar),
    "faireval": ("faireval/faireval_gpt35_vs_vicuna13b.jsonl", read_faireval),
}


def load_benchmark(name: str, data_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """One of :data:`BENCHMARKS` read from ``data_dir`` (the shared data folder).

    Raises
    ------
    PrefkitDataError
        For an unknown name (listing the known ones) or a missing file.
    """
    if name not in BENCHMARKS:
        raise PrefkitDataError.single(
            "<benchmark>",
            None,
            "name",
            got_expected("unknown benchmark", name, ", ".join(BENCHMARKS)),
        )
    rel, reader = BENCHMARKS[name]
    return reader(Path(data_dir) / rel)


def read_pairs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A file of pairs: one of the raw formats above, or a comparisons table.

    The format is recognised from the field names (``chosen``/``rejected``:
    HH; ``annotator1``: PandaLM; ``output_1`` + ``label``: LLMBar;
    ``human_winner``: FairEval); anything else is read as it is.
    """
    p = Path(path)
    raw = read_table(p)
    cols = set(raw.columns)
    if {"chosen", "rejected"} <= cols:
        return read_hh(p)
    if "annotator1" in cols:
        return read_pandalm(p)
    if {"output_1", "label"} <= cols:
        return read_llmbar(p)
    if "human_winner" in cols:
        return read_faireval(p)
    return raw
