"""LLMBar's both-order verdicts: audit figures equal a direct recount of the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefkit.audit import AuditResult, audit
from prefkit.data import load, read_table
from tests.conftest import need

FILE = "llmbar/evaluator_judgments.jsonl.gz"


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    """The raw verdict records, with the judge named evaluator/strategy."""
    df = read_table(need(shared_data / FILE))
    df.attrs = {}
    return df.assign(judge=df["evaluator"] + "/" + df["strategy"])


@pytest.fixture(scope="module")
def result(shared_data: Path) -> AuditResult:
    """The audit of every LLMBar judge (values only, no bootstrap)."""
    return audit(load(need(shared_data / FILE)), rounds=0, warn=False)


def _figure(result: AuditResult, figure: str) -> pd.Series:
    t = result.table
    return t[t["figure"] == figure].set_index("judge")["value"]


def test_position_consistency_equals_recount(
    raw: pd.DataFrame, result: AuditResult
) -> None:
    """1 - conflict rate equals the share of records with equal verdicts."""
    both = raw.dropna(subset=["winner_swap_false", "winner_swap_true"])
    same = both["winner_swap_false"] == both["winner_swap_true"]
    recount = same.groupby(both["judge"]).mean()
    ours = 1 - _figure(result, "conflict_rate")
    assert len(recount) >= 40
    assert np.allclose(ours.reindex(recount.index), recount, atol=1e-12)


def test_first_slot_rate_equals_recount(raw: pd.DataFrame, result: AuditResult) -> None:
    """First-slot rate equals the share of verdicts naming the output shown first."""
    first = pd.concat(
        [
            (raw["winner_swap_false"] == "1").where(raw["winner_swap_false"].notna()),
            (raw["winner_swap_true"] == "2").where(raw["winner_swap_true"].notna()),
        ]
    )
    judges = pd.concat([raw["judge"], raw["judge"]])
    recount = first.astype(float).groupby(judges).mean()
    ours = _figure(result, "first_slot_rate")
    assert np.allclose(ours.reindex(recount.index), recount, atol=1e-12)
    # LLMBar's headline: most judges favour the first slot.
    assert (recount > 0.5).mean() > 0.7


def test_agreement_with_gold_per_judge(raw: pd.DataFrame, result: AuditResult) -> None:
    """Accuracy against the gold label equals a recount over both orders."""
    label = raw["label"].astype(str)
    hits = pd.concat(
        [
            (raw["winner_swap_false"] == label).where(raw["winner_swap_false"].notna()),
            (raw["winner_swap_true"] == label).where(raw["winner_swap_true"].notna()),
        ]
    )
    judges = pd.concat([raw["judge"], raw["judge"]])
    recount = hits.astype(float).groupby(judges).mean()
    ours = _figure(result, "accuracy")
    assert np.allclose(ours.reindex(recount.index), recount, atol=1e-12)
    assert recount["GPT-4/Vanilla"] > recount["Falcon/Vanilla"]


def test_mcnemar_direction_on_gpt35(result: AuditResult) -> None:
    """ChatGPT's flips go mostly to the first slot, with a tiny exact p-value."""
    t = result.table
    row = t[(t["judge"] == "ChatGPT/Vanilla") & (t["figure"] == "mcnemar")].iloc[0]
    assert row["value"] > 0.6
    assert "first slot favoured" in row["note"]


def test_chatgpt_flagged_gpt4_not(shared_data: Path) -> None:
    """With CIs, ChatGPT's first-slot bias is flagged and GPT-4's is not."""
    df = load(need(shared_data / FILE))
    df = df[df["judge"].isin(["GPT-4/Vanilla", "ChatGPT/Vanilla"])]
    res = audit(df, rounds=300, warn=False)
    t = res.table[res.table["figure"] == "first_slot_rate"].set_index("judge")
    assert not t.loc["GPT-4/Vanilla", "flag"]
    assert t.loc["ChatGPT/Vanilla", "flag"]
    assert t.loc["ChatGPT/Vanilla", "lower"] > 0.6
