"""AlpacaEval win rates and LC win rates against the official leaderboard rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefkit.audit import lc_win_rate, win_rate
from prefkit.data import load, read_table
from prefkit.errors import ConvergenceWarning
from tests.conftest import need

BASELINE = "gpt4_1106_preview"


@pytest.fixture(scope="module")
def prefs(shared_data: Path) -> pd.DataFrame:
    """The 32-model preference file as canonical comparisons."""
    name = "alpaca_eval/preferences_weighted_alpaca_eval_gpt4_turbo.jsonl.gz"
    return load(need(shared_data / name))


@pytest.fixture(scope="module")
def official(shared_data: Path) -> pd.DataFrame:
    """The official leaderboard rows, indexed by model."""
    name = "alpaca_eval/official_leaderboard_weighted_alpaca_eval_gpt4_turbo.jsonl"
    return read_table(need(shared_data / name)).set_index("generator")


@pytest.fixture(scope="module")
def lc(prefs: pd.DataFrame) -> pd.DataFrame:
    """Our LC win rates of every model."""
    return lc_win_rate(prefs, BASELINE).set_index("model")


def test_win_rates_equal_official(prefs: pd.DataFrame, official: pd.DataFrame) -> None:
    """Every model's win rate and standard error equal the official row to 0.01."""
    ours = win_rate(prefs, BASELINE).set_index("model")
    both = official.join(ours.add_suffix("_ours"), how="inner")
    assert len(both) == 31
    assert np.allclose(both["win_rate_ours"], both["win_rate"], atol=0.01)
    assert np.allclose(both["standard_error_ours"], both["standard_error"], atol=0.01)
    assert (both["n_total_ours"] == both["n_total"]).all()


def test_lc_win_rates_near_official(lc: pd.DataFrame, official: pd.DataFrame) -> None:
    """LC win rates track the official ones (without AlpacaEval's published
    instruction difficulty and gamed-baseline rows, see the docstring)."""
    gap = (lc["lc_win_rate"] - official["length_controlled_winrate"]).dropna().abs()
    assert len(gap) == 31
    assert gap.median() < 0.35
    assert (gap < 0.5).sum() >= 18
    assert gap.max() < 3
    assert gap["NullModel"] < 2
    rho = lc["lc_win_rate"].corr(
        official["length_controlled_winrate"], method="spearman"
    )
    assert rho > 0.98
    assert lc["converged"].all()
    assert (lc["upper"] - lc["lower"] > 0.5).all()


def test_lc_of_near_constant_winner_converges() -> None:
    """A model that wins almost surely with a constant-length output (like
    AlpacaEval's NullModel) gets a converged fit, an LC win rate near its raw
    one and a CI of positive width."""
    rng = np.random.default_rng(1)
    n = 400
    rows = []
    for model, p_win in (("null", 0.999), ("m1", 0.3), ("m2", 0.5), ("m3", 0.2)):
        p = np.clip(rng.normal(p_win, 0.002 if model == "null" else 0.2, n), 0, 1)
        rows.append(
            pd.DataFrame(
                {
                    "prompt_id": [str(i) for i in range(n)],
                    "model_a": "base",
                    "model_b": model,
                    "winner": np.where(p > 0.5, "b", "a"),
                    "p_a": 1 - p,
                    "len_a": rng.integers(500, 3000, n),
                    "len_b": 872 if model == "null" else rng.integers(300, 2000, n),
                }
            )
        )
    out = lc_win_rate(pd.concat(rows, ignore_index=True), "base").set_index("model")
    null = out.loc["null"]
    assert bool(null["converged"])
    assert null["lc_win_rate"] > 95
    assert null["upper"] > null["lower"]
    assert null["note"] == ""


def test_lc_without_convergence_has_no_interval(
    prefs: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fit stopped before converging warns, and its row gets NaN bounds and
    a note instead of a zero-width interval."""
    from prefkit.audit import _glm, winrate

    def one_step(*args: object, **kwargs: object) -> _glm.LogitFit:
        kwargs["max_iter"] = 1
        return _glm.fit_logistic(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(winrate, "fit_logistic", one_step)
    few = prefs[prefs["model_b"].isin(["NullModel", "alpaca-7b", "claude-2"])]
    with pytest.warns(ConvergenceWarning, match="'NullModel'.*did not converge"):
        out = lc_win_rate(few, BASELINE).set_index("model")
    null = out.loc["NullModel"]
    assert not null["converged"]
    assert np.isnan(null["lower"]) and np.isnan(null["upper"])
    assert "did not converge" in null["note"]


def test_lc_is_raw_when_lengths_equal() -> None:
    """With equal lengths everywhere the LC win rate equals the raw win rate."""
    rng = np.random.default_rng(0)
    n = 300
    p = rng.uniform(0.1, 0.9, n)
    t = pd.DataFrame(
        {
            "prompt_id": [str(i) for i in range(n)],
            "model_a": "base",
            "model_b": "m",
            "winner": np.where(p < 0.5, "b", "a"),
            "p_a": p,
            "len_a": 100,
            "len_b": 100,
        }
    )
    out = lc_win_rate(t, "base").iloc[0]
    assert out["lc_win_rate"] == pytest.approx(out["win_rate"], abs=1e-4)
    assert out["win_rate"] == pytest.approx(100 * (1 - p).mean())


def test_lc_removes_planted_length_effect() -> None:
    """A judge that only rewards length gives an LC win rate near 50."""
    rng = np.random.default_rng(1)
    n, rows = 400, []
    for model, shift in (("long", 300), ("short", -300), ("same", 0)):
        len_m = rng.normal(1000 + shift, 200, n)
        len_b = rng.normal(1000, 200, n)
        x = np.tanh((len_m - len_b) / 300)
        p_m = 1 / (1 + np.exp(-2 * x))
        rows.append(
            pd.DataFrame(
                {
                    "prompt_id": [str(i) for i in range(n)],
                    "model_a": model,
                    "model_b": "base",
                    "winner": np.where(rng.random(n) < p_m, "a", "b"),
                    "len_a": len_m,
                    "len_b": len_b,
                }
            )
        )
    t = pd.concat(rows, ignore_index=True)
    lc = lc_win_rate(t, "base").set_index("model")
    raw = win_rate(t, "base").set_index("model")
    assert raw.loc["long", "win_rate"] > 65
    assert raw.loc["short", "win_rate"] < 35
    for m in ("long", "short", "same"):
        assert abs(lc.loc[m, "lc_win_rate"] - 50) < 6


def test_unknown_baseline_is_rejected() -> None:
    """A baseline on neither side is named with the models present."""
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    with pytest.raises(ValueError, match="baseline 'z' is on neither side"):
        win_rate(t, "z")


def test_lc_needs_lengths() -> None:
    """Without texts or lengths the LC win rate says what is missing."""
    t = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["a"]})
    with pytest.raises(ValueError, match="need response texts"):
        lc_win_rate(t, "y")


def test_audit_position_and_win_rate_details(
    prefs: pd.DataFrame, shared_data: Path
) -> None:
    """On AlpacaEval the first-slot rate equals a recount from the raw fields and
    the win-rate tables come with the audit."""
    from prefkit.audit import audit

    name = "alpaca_eval/preferences_weighted_alpaca_eval_gpt4_turbo.jsonl.gz"
    raw = read_table(need(shared_data / name))
    decisive = raw["preference"] != 1.5
    model_won = raw["preference"] > 1.5
    # the model's output_2 was shown first when is_switched_outputs
    first_won = model_won == raw["is_switched_outputs"].astype(bool)
    expected = float(first_won[decisive].mean())
    res = audit(prefs, baseline=BASELINE, rounds=0, warn=False)
    rows = res.table.set_index("figure")
    assert rows.loc["first_slot_rate", "value"] == pytest.approx(expected, abs=1e-12)
    assert rows.loc["longer_pick_rate", "value"] > 0.8
    assert {"win_rates", "lc_win_rates"} <= set(res.details)
    assert len(res.details["lc_win_rates"]) == 32
