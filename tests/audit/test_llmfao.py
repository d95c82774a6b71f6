"""LLMFAO: the GPT-4 and GPT-3 judges' leaderboards against the crowd's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from prefkit.audit import AuditResult, audit
from prefkit.data import load
from tests.conftest import need


@pytest.fixture(scope="module")
def tables(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(judges' verdicts, crowd votes) as canonical comparisons."""
    judges = pd.concat(
        [
            load(need(shared_data / "llmfao" / f"{name}-comparisons.jsonl"))
            for name in ("gpt4", "gpt3")
        ],
        ignore_index=True,
    )
    crowd = load(need(shared_data / "llmfao" / "crowd-comparisons.jsonl"))
    return judges, crowd


@pytest.fixture(scope="module")
def result(tables: tuple[pd.DataFrame, pd.DataFrame]) -> AuditResult:
    """The audit of both judges against the crowd majority (100 rounds)."""
    judges, crowd = tables
    return audit(judges, gold=crowd, rounds=100, warn=False)


def test_gpt4_agrees_with_crowd_better_than_gpt3(result: AuditResult) -> None:
    """GPT-4's leaderboard correlates with the crowd's more than GPT-3's."""
    t = result.table.set_index(["judge", "figure"])
    rho4 = t.loc[("gpt4", "spearman")]
    rho3 = t.loc[("gpt3", "spearman")]
    assert rho4["lower"] < rho4["value"] < rho4["upper"]
    assert rho4["value"] > 0.6
    assert rho4["value"] > rho3["value"]
    assert t.loc[("gpt4", "kendall"), "value"] < rho4["value"]
    assert rho4["n"] == 59


def test_rank_correlation_equals_scipy(result: AuditResult) -> None:
    """The Spearman and Kendall figures equal scipy's on the reported ratings."""
    board = result.details["leaderboards"]
    t = result.table.set_index(["judge", "figure"])
    for judge in ("gpt4", "gpt3"):
        b = board[board["judge"] == judge]
        rho = stats.spearmanr(b["judge_rating"], b["gold_rating"]).statistic
        tau = stats.kendalltau(b["judge_rating"], b["gold_rating"]).statistic
        assert t.loc[(judge, "spearman"), "value"] == pytest.approx(rho, abs=1e-12)
        assert t.loc[(judge, "kendall"), "value"] == pytest.approx(tau, abs=1e-12)


def test_gold_board_matches_rank_package(
    tables: tuple[pd.DataFrame, pd.DataFrame], result: AuditResult
) -> None:
    """The crowd-majority BT order matches prefkit.rank's BT on the same pairs."""
    from prefkit.rank import leaderboard

    _, crowd = tables
    board = result.details["leaderboards"]
    b = board[board["judge"] == "gpt4"].set_index("model")
    # The audit's gold is the strict majority of workers per pair.
    votes = crowd.groupby(["prompt_id", "model_a", "model_b"])["winner"]
    top = votes.agg(lambda s: s.value_counts().idxmax())
    share = votes.agg(lambda s: s.value_counts().max() / len(s))
    majority = top[share > 0.5].rename("winner").reset_index()
    theirs = leaderboard(majority, ci="none").table.set_index("model")["rating"]
    rho = stats.spearmanr(b["gold_rating"], theirs.reindex(b.index)).statistic
    assert rho > 0.99


def test_flipped_pairs_are_consistent(result: AuditResult) -> None:
    """Each listed flip is ordered one way by gold and the other by the judge."""
    flips = result.details["flipped_pairs"]
    board = result.details["leaderboards"]
    f = flips[flips["judge"] == "gpt3"].head(20)
    b = board[board["judge"] == "gpt3"].set_index("model")
    assert len(f) > 0
    for row in f.itertuples():
        assert (
            b.loc[row.gold_better, "gold_rating"]
            > b.loc[row.judge_better, "gold_rating"]
        )
        assert (
            b.loc[row.gold_better, "judge_rating"]
            < b.loc[row.judge_better, "judge_rating"]
        )
    t = result.table.set_index(["judge", "figure"])
    sep = t.loc[("gpt4", "separability_gold"), "value"]
    assert 0 < sep < 1
