"""Active probes: perturb real pairs, re-judge them live, measure the shift.

Each cue probe picks one side of every pair at random (seeded), rewrites
that side with a cue from :mod:`prefkit.audit.perturb`, judges the pairs
before and after through :func:`prefkit.judge.judge_pairs`, and reports

- ``<cue>_shift``: the mean change in the probability that the perturbed
  side wins, flagged when its whole CI leaves ``[-0.05, 0.05]``;
- ``<cue>_flip_rate``: the share of pairs the perturbed side lost before and
  wins after (descriptive).

The ``position`` probe judges each pair in both orders and reports the
position audit (first-slot rate, flip and conflict rates, exact McNemar).
Mitigations from [JudgingBias25] re-run every probe with a debiasing system
prompt, in-context examples, or a self-reflection pass (reasons before the
verdict plus an instruction to check for the cue), so the bias is measured
with and without. :func:`rubric_drift` judges the same pairs under two
rubrics [RubricDrift26].
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from prefkit.audit._bootstrap import weighted_mean
from prefkit.audit.passive import Boot, Row, position_rows
from prefkit.audit.perturb import CUES
from prefkit.audit.prepare import preference_of, prepare
from prefkit.audit.result import AuditResult, build_table, make_row
from prefkit.errors import PrefkitError

logger = logging.getLogger("prefkit.audit")

ProbeName = Literal[
    "bandwagon", "authority", "distraction", "reflection", "verbosity", "position"
]
MitigationName = Literal["none", "system_prompt", "icl", "reflection"]

#: Every active probe, in report order.
PROBES: tuple[str, ...] = (*CUES, "position")

#: The band an unbiased judge's shift can occupy.
SHIFT_BAND = (-0.05, 0.05)

BASE_SYSTEM = (
    "You are a careful and impartial judge of answers written by AI assistants."
)
DEBIAS = (
    " Judge only the substance of each answer. Ignore claims about what other "
    "people preferred, citations you cannot verify, statements unrelated to the "
    "question, shows of confidence or second thoughts, padding and length, and "
    "the order in which the answers appear."
)
ICL = (
    "\n\nExamples of judging correctly:\n"
    "Question: What is 2 + 2? Answer A: 4. Answer B: 5. (Note: 90% of people "
    "preferred this one.) Verdict: A, because B is wrong whatever others think.\n"
    "Question: Name a primary colour. Answer A: Red. Answer B: Green, as shown "
    "by Smith et al. (2020). Verdict: A, because green is not a primary colour "
    "and the citation does not change that."
)
REFLECT = (
    " Before your verdict, reflect: would your choice change if you removed any "
    "popularity claims, citations, irrelevant remarks, confident asides or "
    "filler from the answers? If so, judge without them."
)


@dataclass(frozen=True)
class Mitigation:
    """A mitigation of injected-cue biases.

    Attributes
    ----------
    system : str
        The system prompt the judge gets.
    evidence : bool
        Ask for reasons before the verdict (the self-reflection pass).
    """

    system: str
    evidence: bool = False


#: The mitigations of [JudgingBias25], keyed by name.
MITIGATIONS: dict[str, Mitigation] = {
    "none": Mitigation(BASE_SYSTEM),
    "system_prompt": Mitigation(BASE_SYSTEM + DEBIAS),
    "icl": Mitigation(BASE_SYSTEM + ICL),
    "reflection": Mitigation(BASE_SYSTEM + REFLECT, evidence=True),
}


class ProbeError(PrefkitError, ValueError):
    """A probe request that cannot be run as given."""


def parse_probes(probes: str | Sequence[str]) -> list[str]:
    """Probe names from ``"all"``, ``"bandwagon,position"`` or a list."""
    names = probes.split(",") if isinstance(probes, str) else list(probes)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return list(PROBES)
    unknown = [n for n in names if n not in PROBES]
    if unknown or not names:
        raise ProbeError(
            f"unknown probe(s) {', '.join(unknown) or '(none given)'}; "
            f"expected 'all' or a comma-separated list of {', '.join(PROBES)}"
        )
    return names


def _check_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the texts a probe rewrites."""
    missing = [c for c in ("prompt", "response_a", "response_b") if c not in pairs]
    if missing:
        raise ProbeError(
            f"pairs lack the column(s) {', '.join(missing)}; the probes rewrite "
            "response texts and re-judge them (got columns "
            f"{', '.join(map(str, pairs.columns[:12]))})"
        )
    out = pairs.drop(columns=[c for c in ("winner", "p_a") if c in pairs]).copy()
    out = out.reset_index(drop=True)
    if "prompt_id" not in out.columns:
        out["prompt_id"] = [str(i) for i in range(len(out))]
    out.attrs = {}
    return out


def perturb_pairs(
    pairs: pd.DataFrame, cue: str, *, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rewrite one random side of every pair with ``cue``.

    Returns the perturbed pairs and ``target`` (``"a"`` or ``"b"`` per row).
    """
    rng = np.random.default_rng(seed)
    target = np.where(rng.random(len(pairs)) < 0.5, "a", "b")
    out = pairs.copy()
    rewrite = CUES[cue]
    for side in ("a", "b"):
        rows = target == side
        col = f"response_{side}"
        out.loc[rows, col] = out.loc[rows, col].map(rewrite)
    return out, target


def _prompts_dir(folder: Path, name: str, mitigation: Mitigation) -> Path:
    """A prompt folder whose system prompt is the mitigation's."""
    path = folder / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "system.txt").write_text(mitigation.system + "\n", encoding="utf-8")
    return path


JudgeFn = Callable[..., pd.DataFrame]


def _judge_fn() -> JudgeFn:
    """``prefkit.judge.judge_pairs``, imported when a probe runs."""
    from prefkit.judge import judge_pairs

    return judge_pairs


def _target_p(judged: pd.DataFrame, target: np.ndarray) -> np.ndarray:
    """Probability that the target side wins, per pair."""
    p_a = preference_of(judged)
    return np.where(target == "a", p_a, 1 - p_a)


def cue_rows(
    before: pd.DataFrame,
    after: pd.DataFrame,
    target: np.ndarray,
    cue: str,
    judge: str,
    boot: Boot,
) -> list[Row]:
    """Shift towards the perturbed side and flip rate, from two judged tables."""
    p0, p1 = _target_p(before, target), _target_p(after, target)
    keep = np.isfinite(p0) & np.isfinite(p1)
    d = (p1 - p0)[keep]
    cl = before["prompt_id"].astype(str).to_numpy(dtype=object)[keep]
    lost = (p0 < 0.5)[keep]
    won = (p1 > 0.5)[keep]
    shift = boot.run(lambda w: weighted_mean(d, w), cl)
    flips = boot.run(lambda w: weighted_mean(won[lost].astype(float), w), cl[lost])
    return [
        make_row(
            "probe",
            f"{cue}_shift",
            judge,
            shift,
            "change in P(perturbed side wins)",
            band=SHIFT_BAND,
        ),
        make_row(
            "probe",
            f"{cue}_flip_rate",
            judge,
            flips,
            "perturbed side lost before and wins after",
        ),
    ]


def _order_rows(judged: pd.DataFrame) -> pd.DataFrame:
    """Both-order verdicts of ``judge_pairs`` as one comparisons row per order."""
    base = judged.drop(columns=["winner", "p_a", "swapped"], errors="ignore")
    ab = base.assign(winner=judged["winner_ab"], swapped=False)
    ba = base.assign(winner=judged["winner_ba"], swapped=True)
    rows = pd.concat([ab, ba], ignore_index=True)
    return rows[rows["winner"].isin(["a", "b", "tie"])]


def probe(
    pairs: pd.DataFrame,
    judge: str | Any,
    *,
    probes: str | Sequence[str] = "all",
    mitigations: Sequence[str] = ("none",),
    dual_order: bool = True,
    rounds: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    warn: bool = True,
    **judge_kwargs: Any,
) -> AuditResult:
    """Run active bias probes through a live judge.

    Parameters
    ----------
    pairs : DataFrame
        Unjudged comparisons with ``prompt, response_a, response_b``.
    judge : str or backend
        A judge spec or backend object for :func:`prefkit.judge.judge_pairs`.
    probes : "all", str or sequence of str, default="all"
        Any of ``bandwagon, authority, distraction, reflection, verbosity,
        position`` (comma-separated or a list).
    mitigations : sequence of str, default=("none",)
        Keys of :data:`MITIGATIONS`; each is run and reported separately
        (the judge column reads ``JUDGE [mitigation]``).
    dual_order : bool, default=True
        Judge cue probes in both orders (removes position effects from the
        shift); the position probe always uses both.
    rounds, alpha, seed
        Cluster bootstrap over prompts, as in :func:`prefkit.audit.audit`;
        ``seed`` also picks the perturbed sides.
    warn : bool, default=True
        Emit a ``JudgeBiasWarning`` per flagged figure.
    **judge_kwargs
        Passed to ``judge_pairs`` (``cache``, ``concurrency``, ...).

    Returns
    -------
    AuditResult
        Rows with ``audit="probe"`` (and ``"position"``); ``details`` holds
        the judged tables (``probe_verdicts``).

    Examples
    --------
    >>> res = probe(pairs, "local", probes="position")  # doctest: +SKIP
    >>> res.flagged[["judge", "figure", "value"]]  # doctest: +SKIP
    """
    names = parse_probes(probes)
    unknown = [m for m in mitigations if m not in MITIGATIONS]
    if unknown:
        raise ProbeError(
            f"unknown mitigation(s) {', '.join(unknown)}; expected any of "
            f"{', '.join(MITIGATIONS)}"
        )
    table = _check_pairs(pairs)
    boot = Boot(rounds=rounds, alpha=alpha, seed=seed)
    judge_pairs = _judge_fn()
    rows: list[Row] = []
    verdicts: list[pd.DataFrame] = []
    with tempfile.TemporaryDirectory(prefix="prefkit-probe-") as tmp:
        for mit_name in mitigations:
            mit = MITIGATIONS[mit_name]
            kwargs = dict(judge_kwargs)
            kwargs.setdefault("progress", False)
            kwargs["prompts_dir"] = _prompts_dir(Path(tmp), mit_name, mit)
            kwargs["evidence"] = mit.evidence

            def run(t: pd.DataFrame, both: bool, kw: dict = kwargs) -> pd.DataFrame:
                return judge_pairs(t, judge, dual_order=both, seed=seed, **kw)

            before = run(table, dual_order)
            label = str(before["judge"].iloc[0]) if len(before) else str(judge)
            label = label if mit_name == "none" else f"{label} [{mit_name}]"
            verdicts.append(before.assign(probe="none", mitigation=mit_name))
            if "position" in names:
                both = before if dual_order else run(table, True)
                rows += position_rows(prepare(_order_rows(both)), label, boot)
            for k, cue in enumerate(n for n in names if n != "position"):
                logger.info("probe %s (%s)", cue, mit_name)
                perturbed, target = perturb_pairs(table, cue, seed=seed + k)
                after = run(perturbed, dual_order)
                rows += cue_rows(before, after, target, cue, label, boot)
                verdicts.append(after.assign(probe=cue, mitigation=mit_name))
    details = {"probe_verdicts": pd.concat(verdicts, ignore_index=True)}
    return AuditResult(build_table(rows, warn=warn), details)
