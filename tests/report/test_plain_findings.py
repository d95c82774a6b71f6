"""Flagged audit figures stated as plain sentences, with their direction, at the
top of the HTML report and the Markdown summary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from prefkit.audit import audit
from prefkit.rank import leaderboard
from prefkit.report import ReportData, findings, render_html, render_markdown
from prefkit.report.content import plain_sentence


def _judged(short_rate: float | None, n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Pairs of a short and a long response with gold labels blind to length.

    The judge picks the shorter response with probability ``short_rate``, or
    agrees with the gold label (90%) when ``short_rate`` is None.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a_short = bool(rng.random() < 0.5)
        short, long = "Brief.", "A much longer answer with many more words in it."
        gold = "a" if rng.random() < 0.5 else "b"
        if short_rate is None:
            agree = rng.random() < 0.9
            winner = gold if agree else {"a": "b", "b": "a"}[gold]
        else:
            pick_short = rng.random() < short_rate
            winner = "a" if pick_short == a_short else "b"
        models = ["x", "y"] if rng.random() < 0.5 else ["y", "x"]
        rows.append(
            {
                "prompt_id": f"p{i}",
                "prompt": f"Question {i}?",
                "model_a": models[0],
                "model_b": models[1],
                "response_a": short if a_short else long,
                "response_b": long if a_short else short,
                "winner": winner,
                "gold": gold,
                "judge": "lenjudge",
            }
        )
    return pd.DataFrame(rows)


def _report(comparisons: pd.DataFrame) -> ReportData:
    """Leaderboard and passive audit of ``comparisons``, as a report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = audit(comparisons, rounds=300, seed=0).table
    board = leaderboard(comparisons.drop(columns=["gold"]), ties="half").table
    return ReportData(
        title="t",
        leaderboard=board,
        comparisons=comparisons,
        audit=table,
        notes=("A note shown after the findings.",),
    )


def test_planted_short_preference_is_said_plainly_in_html_and_markdown() -> None:
    """A judge picking the shorter response 85% of the time is said to prefer
    the shorter response, before the leaderboard, in both outputs."""
    data = _report(_judged(short_rate=0.85))
    said = [s for s in findings(data) if "prefers the shorter response" in s]
    assert said and said[0].startswith("Judge 'lenjudge' prefers the shorter")
    assert "not trustworthy" in said[0]
    assert not any("prefers the longer response" in s for s in findings(data))

    html = render_html(data)
    sentence = "Judge &#x27;lenjudge&#x27; prefers the shorter response"
    assert sentence in html
    assert html.index(sentence) < html.index('id="leaderboard"')
    assert html.index(sentence) < html.index("A note shown after the findings.")

    md = render_markdown(data)
    assert "- Judge 'lenjudge' prefers the shorter response" in md
    assert md.index("prefers the shorter response") < md.index("### Leaderboard")


def test_planted_long_preference_reads_the_other_way() -> None:
    """Picking the shorter response 15% of the time is a longer-response preference."""
    said = findings(_report(_judged(short_rate=0.15)))
    assert any("'lenjudge' prefers the longer response" in s for s in said)
    assert not any("shorter" in s for s in said)


def test_no_planted_bias_no_length_sentence() -> None:
    """A judge that follows the gold labels gets no length sentence."""
    data = _report(_judged(short_rate=None))
    assert not any("response" in s and "prefers" in s for s in findings(data))
    assert "prefers the shorter" not in render_html(data)
    assert "prefers the" not in render_markdown(data)


@pytest.mark.parametrize(
    ("figure", "lower", "upper", "expected"),
    [
        ("first_slot_rate", 0.7, 0.8, "favours the response shown first"),
        ("first_slot_rate", 0.2, 0.3, "favours the response shown second"),
        ("verbosity_shift", -0.5, -0.4, "prefers the shorter response"),
        ("bandwagon_shift", 0.2, 0.3, "swayed towards a response with a claim"),
        ("cycle_rate", 0.2, 0.3, None),
    ],
)
def test_plain_sentence_direction_follows_the_band_side(
    figure: str, lower: float, upper: float, expected: str | None
) -> None:
    """The side of the band the CI lies on picks the wording; unknown figures
    have none (they keep the numeric sentence)."""
    band = (-0.05, 0.05) if figure.endswith("_shift") else (0.45, 0.55)
    row = {
        "audit": "a",
        "figure": figure,
        "judge": "j",
        "value": (lower + upper) / 2,
        "lower": lower,
        "upper": upper,
        "band_low": band[0],
        "band_high": band[1],
    }
    text = plain_sentence(row)
    if expected is None:
        assert text is None
    else:
        assert text is not None and expected in text and text.startswith("Judge 'j'")
