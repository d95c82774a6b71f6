"""``prefkit evaluate`` on real recorded judges: AlpacaEval and LLMFAO."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from prefkit.cli.main import app
from tests.conftest import need

BASELINE = "gpt4_1106_preview"


def run_cli(*args: str) -> dict:  # type: ignore[type-arg]
    """Run ``prefkit ARGS --json`` in process; return the parsed output."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def alpaca_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One evaluate call replaying the AlpacaEval GPT-4-Turbo annotations."""
    from prefkit.data import load, write_table

    folder = shared_data / "alpaca_eval"
    raw = need(folder / "annotations_weighted_alpaca_eval_gpt4_turbo.jsonl.gz")
    tmp = tmp_path_factory.mktemp("alpaca")
    recorded = tmp / "recorded.parquet"
    write_table(load(raw), recorded)
    out = tmp / "run"
    run_cli(
        "evaluate",
        str(recorded),
        "--judge",
        f"replay:{recorded}",
        "--baseline",
        BASELINE,
        "--rounds",
        "50",
        "-o",
        str(out),
    )
    return out


def test_alpaca_replay_reproduces_the_official_win_rates(
    alpaca_run: Path, shared_data: Path
) -> None:
    """Win rates and standard errors equal the official leaderboard rows."""
    official = pd.read_json(
        shared_data
        / "alpaca_eval"
        / "official_leaderboard_weighted_alpaca_eval_gpt4_turbo.jsonl",
        lines=True,
    ).set_index("generator")
    board = pd.read_csv(alpaca_run / "leaderboard.csv").set_index("model")
    models = [m for m in board.index if m in official.index]
    assert len(models) == 12
    np.testing.assert_allclose(
        board.loc[models, "win_rate"], official.loc[models, "win_rate"], atol=1e-9
    )
    np.testing.assert_allclose(
        board.loc[models, "standard_error"],
        official.loc[models, "standard_error"],
        atol=1e-9,
    )
    assert np.isnan(board.loc[BASELINE, "win_rate"])


def test_alpaca_run_has_lc_win_rates_bt_and_the_verbosity_audit(
    alpaca_run: Path,
) -> None:
    """The same call gives LC win rates, a BT board over 14 models and verbosity."""
    board = pd.read_csv(alpaca_run / "leaderboard.csv")
    assert len(board) == 14 and board["rank"].tolist()[:2] == [1, 2]
    rated = board[board["model"] != BASELINE]
    assert rated["lc_win_rate"].between(0, 100).all()
    assert (rated["lc_lower"] <= rated["lc_win_rate"]).all()
    # BT ratings order the models as their win rates against the one baseline
    order = rated.sort_values("rating", ascending=False)["model"].tolist()
    assert order == rated.sort_values("win_rate", ascending=False)["model"].tolist()
    audit = pd.DataFrame(json.loads((alpaca_run / "audit.json").read_text())["table"])
    verbosity = audit[(audit["audit"] == "verbosity") & audit["value"].notna()]
    assert len(verbosity) >= 1
    assert (verbosity["n"] > 10_000).all()


def test_alpaca_run_writes_every_output(alpaca_run: Path) -> None:
    """The folder holds every file, and run.json records settings and versions."""
    for name in (
        "comparisons.parquet",
        "leaderboard.csv",
        "leaderboard.json",
        "audit.json",
        "report.html",
        "summary.md",
        "run.json",
        "human_queue.jsonl",
    ):
        assert (alpaca_run / name).is_file(), name
    run = json.loads((alpaca_run / "run.json").read_text())
    assert run["settings"]["baseline"] == BASELINE and run["seed"] == 0
    assert run["versions"]["prefkit"] == "0.1.0"
    assert set(run["timings_seconds"]) == {"judge", "rank", "audit", "report"}
    comparisons = pd.read_parquet(alpaca_run / "comparisons.parquet")
    assert len(comparisons) == 10_461


@pytest.fixture(scope="module")
def llmfao(shared_data: Path) -> Path:
    """The LLMFAO folder (skips when absent)."""
    return need(shared_data / "llmfao")


def test_llmfao_crowd_votes_give_the_human_leaderboard(
    llmfao: Path, tmp_path: Path
) -> None:
    """Every crowd model is ranked and every vote counted, from the recorded votes."""
    crowd = pd.read_json(llmfao / "crowd-comparisons.jsonl", lines=True)
    out = run_cli(
        "evaluate",
        str(llmfao / "crowd-comparisons.jsonl"),
        "--rounds",
        "20",
        "-o",
        str(tmp_path),
    )
    board = pd.DataFrame(out["leaderboard"])
    models = set(crowd["left"]) | set(crowd["right"])
    assert set(board["model"]) == models
    assert board["n_battles"].sum() == 2 * len(crowd)
    assert (board["lower"] <= board["rating"]).all()
    assert (board["rating"] <= board["upper"]).all()


def _oriented(df: pd.DataFrame) -> pd.DataFrame:
    """Verdicts keyed by prompt and unordered pair, a = the smaller model name."""
    flip = df["model_a"] > df["model_b"]
    winner = (
        df["winner"]
        .astype(str)
        .where(~flip, df["winner"].astype(str).map({"a": "b", "b": "a", "tie": "tie"}))
    )
    key = (
        df["prompt_id"].astype(str)
        + "|"
        + df[["model_a", "model_b"]].min(axis=1)
        + "|"
        + df[["model_a", "model_b"]].max(axis=1)
    )
    return pd.DataFrame({"key": key, "winner": winner})


def test_llmfao_gpt4_judge_is_audited_against_the_crowd(
    llmfao: Path, tmp_path: Path
) -> None:
    """The GPT-4 judge's accuracy against the crowd majority equals a recount."""
    from prefkit.data import load

    run_cli(
        "evaluate",
        str(llmfao / "gpt4-comparisons.jsonl"),
        "--gold",
        str(llmfao / "crowd-comparisons.jsonl"),
        "--rounds",
        "20",
        "-o",
        str(tmp_path),
    )
    audit = pd.DataFrame(json.loads((tmp_path / "audit.json").read_text())["table"])
    row = audit[(audit["audit"] == "agreement") & (audit["figure"] == "accuracy")]
    assert row["judge"].tolist() == ["gpt4"]

    # recount: strict-majority crowd label per item, GPT-4's verdict on it
    crowd = _oriented(load(llmfao / "crowd-comparisons.jsonl"))
    counts = crowd.groupby(["key", "winner"]).size().unstack(fill_value=0)
    top = counts.max(axis=1)
    majority = counts.idxmax(axis=1)[top * 2 > counts.sum(axis=1)]
    gpt4 = _oriented(load(llmfao / "gpt4-comparisons.jsonl")).set_index("key")
    shared = gpt4.index.intersection(majority.index)
    expected = float((gpt4.loc[shared, "winner"] == majority[shared]).mean())
    assert int(row["n"].iloc[0]) == len(shared)
    assert float(row["value"].iloc[0]) == pytest.approx(expected, abs=1e-12)
    assert (tmp_path / "report.html").is_file()


@pytest.mark.browser
def test_alpaca_report_renders_in_chromium(alpaca_run: Path) -> None:
    """The real-data report loads cleanly in Chromium with its 14-row leaderboard."""
    from tests.report.test_browser import ARTIFACTS, open_report

    shot = ARTIFACTS / "report-alpaca-eval.png"
    found = open_report(alpaca_run / "report.html", shot)
    assert found["errors"] == [] and found["requests"] == []
    assert found["dialogs"] == []
    assert found["leaderboard_rows"] == 14
    assert found["svgs"] >= 4  # type: ignore[operator]
    assert found["items"] == 20
