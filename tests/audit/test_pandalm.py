"""PandaLM's three human annotators: their agreement, and the judges' agreement
with their majority."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from prefkit.audit import AuditResult, audit
from prefkit.data import load, read_table
from tests.conftest import need

FILE = "pandalm/testset_v1_with_judges.jsonl"
HUMANS = ("annotator1", "annotator2", "annotator3")


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    """The raw records, labels as text (0 tie, 1 first better, 2 second better)."""
    df = read_table(need(shared_data / FILE))
    df.attrs = {}
    return df


@pytest.fixture(scope="module")
def result(shared_data: Path) -> AuditResult:
    """GPT-3.5 and PandaLM-7B audited against the three annotators."""
    table = load(need(shared_data / FILE))
    humans = table[table["judge"].isin(HUMANS)]
    judges = table[~table["judge"].isin(HUMANS)].drop(columns=["gold"])
    return audit(judges, gold=humans, rounds=200, warn=False)


def _majority(row: pd.Series) -> str | None:
    label, count = Counter(str(row[a]) for a in HUMANS).most_common(1)[0]
    return label if count >= 2 else None


def test_fleiss_kappa_equals_statsmodels(
    raw: pd.DataFrame, result: AuditResult
) -> None:
    """Fleiss' kappa of the three annotators equals statsmodels' on the raw labels."""
    counts = np.column_stack(
        [sum((raw[a].astype(str) == k).to_numpy() for a in HUMANS) for k in "012"]
    )
    expected = fleiss_kappa(counts)
    t = result.table.set_index(["judge", "figure"])
    row = t.loc[("<gold annotators>", "fleiss_kappa")]
    assert row["value"] == pytest.approx(expected, abs=1e-12)
    assert row["lower"] < row["value"] < row["upper"]
    assert 0.8 < expected < 0.95


def test_pairwise_cohen_kappa_equals_sklearn(
    raw: pd.DataFrame, result: AuditResult
) -> None:
    """The mean pairwise Cohen's kappa equals scikit-learn's on the raw labels."""
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = np.mean(
        [cohen_kappa_score(raw[HUMANS[i]], raw[HUMANS[j]]) for i, j in pairs]
    )
    t = result.table.set_index(["judge", "figure"])
    got = t.loc[("<gold annotators>", "mean_pairwise_cohen_kappa"), "value"]
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("judge", "field", "mapping"),
    [
        ("gpt-3.5-turbo", "gpt35_result", {"1": "1", "2": "2", "Tie": "0"}),
        ("pandalm-7b", "pandalm7b_result", {"0": "0", "1": "1", "2": "2"}),
    ],
)
def test_judge_agreement_with_majority(
    raw: pd.DataFrame, result: AuditResult, judge: str, field: str, mapping: dict
) -> None:
    """Accuracy and Cohen's kappa against the human majority equal a recount."""
    gold = raw.apply(_majority, axis=1)
    verdict = raw[field].astype(str).map(mapping)
    keep = gold.notna() & verdict.notna()
    expected_acc = float((verdict[keep] == gold[keep]).mean())
    expected_kappa = cohen_kappa_score(verdict[keep], gold[keep])
    t = result.table.set_index(["judge", "figure"])
    assert t.loc[(judge, "accuracy"), "value"] == pytest.approx(expected_acc, abs=1e-12)
    assert t.loc[(judge, "cohen_kappa"), "value"] == pytest.approx(
        expected_kappa, abs=1e-12
    )
    assert t.loc[(judge, "accuracy"), "n"] == int(keep.sum())
