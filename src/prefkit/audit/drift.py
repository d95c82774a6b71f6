"""Rubric drift: the same pairs judged under two rubrics [RubricDrift26].

A rubric edit can leave a judge's verdicts unchanged on the domain where it
is validated while moving them on another. :func:`rubric_drift` judges the
same pairs under a reference rubric and an alternative one and reports, per
domain, the agreement between the two and the directional shift in the
probability that ``a`` wins; the target domain's shift is flagged when its
CI leaves ``[-0.05, 0.05]``, and the note calls it stealthy when the
validation domain shows no such shift.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prefkit.audit._bootstrap import weighted_mean
from prefkit.audit.passive import Boot, Row
from prefkit.audit.prepare import preference_of
from prefkit.audit.probes import (
    BASE_SYSTEM,
    SHIFT_BAND,
    ProbeError,
    _check_pairs,
    _judge_fn,
)
from prefkit.audit.result import AuditResult, build_table, is_flagged, make_row


def rubric_prompt(rubric: str) -> str:
    """The system prompt that states a rubric."""
    return f"{BASE_SYSTEM}\n\nJudge by this rubric:\n{rubric.strip()}"


def _domain_rows(
    ref: pd.DataFrame, alt: pd.DataFrame, rows: np.ndarray, name: str, boot: Boot
) -> list[Row]:
    """Agreement and shift of one domain's pairs."""
    w_ref = ref["winner"].astype(object).to_numpy()[rows]
    w_alt = alt["winner"].astype(object).to_numpy()[rows]
    same = (w_ref == w_alt).astype(float)
    d = (preference_of(alt) - preference_of(ref))[rows]
    keep = np.isfinite(d)
    cl = ref["prompt_id"].astype(str).to_numpy(dtype=object)[rows]
    agree = boot.run(lambda w: weighted_mean(same, w), cl)
    shift = boot.run(lambda w: weighted_mean(d[keep], w), cl[keep])
    return [
        make_row(
            "rubric_drift",
            f"{name}_agreement",
            "",
            agree,
            "share of identical verdicts under the two rubrics",
        ),
        make_row(
            "rubric_drift",
            f"{name}_shift",
            "",
            shift,
            "change in P(a wins), alternative minus reference rubric",
            band=SHIFT_BAND,
        ),
    ]


def rubric_drift(
    pairs: pd.DataFrame,
    judge: str | Any,
    *,
    rubric: str,
    alternative: str,
    validation: str,
    target: str,
    domain: str = "domain",
    rounds: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    warn: bool = True,
    **judge_kwargs: Any,
) -> AuditResult:
    """Judge ``pairs`` under two rubrics and compare a validation and a target domain.

    Parameters
    ----------
    pairs : DataFrame
        Unjudged comparisons with ``prompt, response_a, response_b`` and a
        ``domain`` column.
    judge : str or backend
        Passed to :func:`prefkit.judge.judge_pairs`.
    rubric, alternative : str
        The reference rubric and the edited one (system-prompt text).
    validation, target : str
        Values of the ``domain`` column: where the edit is checked, and where
        a drift would matter.
    domain : str, default="domain"
        The column naming each pair's domain.
    rounds, alpha, seed, warn
        As in :func:`prefkit.audit.audit`.
    **judge_kwargs
        Passed to ``judge_pairs``.

    Returns
    -------
    AuditResult
        Rows ``validation_agreement, validation_shift, target_agreement,
        target_shift`` (``audit="rubric_drift"``), ``judge`` set to the
        judge id; ``details["drift_verdicts"]`` holds both runs.
    """
    if domain not in pairs.columns:
        raise ProbeError(
            f"pairs have no {domain!r} column naming each pair's domain; add it "
            "or pass domain= the column that does"
        )
    present = set(pairs[domain].astype(str))
    for role, name in (("validation", validation), ("target", target)):
        if name not in present:
            raise ProbeError(
                f"{role} domain {name!r} is not in column {domain!r} (found "
                f"{', '.join(sorted(present)[:10])})"
            )
    table = _check_pairs(pairs)
    judge_pairs = _judge_fn()
    boot = Boot(rounds=rounds, alpha=alpha, seed=seed)
    kwargs = dict(judge_kwargs)
    kwargs.setdefault("progress", False)
    runs = []
    with tempfile.TemporaryDirectory(prefix="prefkit-drift-") as tmp:
        for name, text in (("reference", rubric), ("alternative", alternative)):
            folder = Path(tmp) / name
            folder.mkdir()
            (folder / "system.txt").write_text(rubric_prompt(text) + "\n", "utf-8")
            runs.append(
                judge_pairs(table, judge, seed=seed, prompts_dir=folder, **kwargs)
            )
    ref, alt = runs
    dom = table[domain].astype(str).to_numpy()
    rows = _domain_rows(ref, alt, dom == validation, "validation", boot)
    rows += _domain_rows(ref, alt, dom == target, "target", boot)
    label = str(ref["judge"].iloc[0]) if len(ref) else str(judge)
    for row in rows:
        row["judge"] = label
    val, tgt = rows[1], rows[3]
    if tgt["flag"] and not is_flagged(val["lower"], val["upper"], SHIFT_BAND):
        tgt["note"] += "; stealthy: the validation domain shows no such shift"
    verdicts = pd.concat(
        [ref.assign(rubric="reference"), alt.assign(rubric="alternative")],
        ignore_index=True,
    )
    return AuditResult(build_table(rows, warn=warn), {"drift_verdicts": verdicts})
