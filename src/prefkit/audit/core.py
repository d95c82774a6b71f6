"""``audit``: every passive audit the data allow, in one table."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from prefkit.audit.agreement import ceiling_rows, leaderboard_rows
from prefkit.audit.passive import (
    Boot,
    Row,
    agreement_rows,
    calibration_rows,
    position_rows,
    self_preference_rows,
    transitivity_rows,
    verbosity_rows,
)
from prefkit.audit.pointwise import ratings_rows, score_comparison_rows
from prefkit.audit.prepare import attach_gold, prepare
from prefkit.audit.result import AuditResult, build_table
from prefkit.audit.winrate import lc_win_rate, win_rate
from prefkit.data.schema import validate_comparisons, validate_ratings
from prefkit.errors import PrefkitError

logger = logging.getLogger("prefkit.audit")


class AuditError(PrefkitError, ValueError):
    """An audit parameter that cannot be used."""


def _check_params(rounds: int, alpha: float) -> None:
    """Validate the CI parameters once, at the boundary."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise AuditError(
            f"rounds must be a non-negative integer (got {rounds!r}); "
            "pass e.g. rounds=1000, or 0 for no CIs"
        )
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise AuditError(
            f"alpha must lie strictly between 0 and 1 (got {alpha!r}); "
            "pass e.g. alpha=0.05 for 95% CIs"
        )


def audit(
    comparisons: pd.DataFrame,
    *,
    gold: pd.DataFrame | None = None,
    ratings: pd.DataFrame | None = None,
    baseline: str | None = None,
    rounds: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    families: Mapping[str, str] | None = None,
    warn: bool = True,
) -> AuditResult:
    """Run every passive audit the data allow, per judge.

    Position needs ``swapped`` (both orders add flip/conflict rates and an
    exact McNemar test); verbosity needs response texts or ``len_a``/``len_b``;
    agreement, calibration and excess figures need gold labels; self-
    preference needs models of the judge's own family; transitivity needs
    three responses to one prompt compared pairwise; scale use and DBG need
    ``ratings``; win rates need ``baseline``. A figure the data do not allow
    is a row whose ``note`` says why it was skipped.

    Every figure carries a cluster-bootstrap CI over prompts, and a flag is
    raised only when the whole CI leaves the band an unbiased judge could
    occupy (:data:`prefkit.audit.result.BANDS`), with a
    :class:`~prefkit.errors.JudgeBiasWarning`.

    Parameters
    ----------
    comparisons : DataFrame
        A comparisons table; several judges are audited separately
        (``judge`` column).
    gold : DataFrame or None, default=None
        Human or gold comparisons on the same items (joined on ``prompt_id``
        and the model pair, in either order). Several annotators per item
        are reduced to their majority, and their agreement is reported as
        the ceiling. None uses a ``gold`` column (a/b/tie) if present.
    ratings : DataFrame or None, default=None
        Pointwise grades (``prompt_id, model, score``, optional ``judge`` and
        a ``gold`` grade): scale use, DBG, score-comparison consistency.
    baseline : str or None, default=None
        Reference model for AlpacaEval win rates and LC win rates (in
        ``details``).
    rounds : int, default=1000
        Cluster-bootstrap rounds (0: no CIs, hence no flags).
    alpha : float, default=0.05
        One minus the CI level.
    seed : int, default=0
        Seed of the resampling.
    families : mapping of str to str or None, default=None
        Model or judge name to family name for self-preference (a judge's
        family defaults to its own name).
    warn : bool, default=True
        Emit a ``JudgeBiasWarning`` per flagged figure.

    Returns
    -------
    AuditResult
        ``.table`` in the audit-result format, ``.details`` with
        ``worst_cycles``, ``leaderboards``, ``flipped_pairs``,
        ``win_rates``, ``lc_win_rates`` when computed.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"prompt_id": ["1", "2", "3", "4"],
    ...                   "model_a": ["x"] * 4, "model_b": ["y"] * 4,
    ...                   "winner": ["a", "a", "a", "b"],
    ...                   "swapped": [False, False, True, True]})
    >>> res = audit(t, rounds=0)
    >>> float(res.table.set_index("figure").loc["first_slot_rate", "value"])
    0.75
    """
    _check_params(rounds, alpha)
    boot = Boot(rounds=rounds, alpha=float(alpha), seed=seed)
    fam = dict(families or {})
    checked = validate_comparisons(
        comparisons, source="<comparisons>", require_winner=False
    )
    df = prepare(checked)
    if len(df) < len(checked):
        logger.info("left out %d rows without a verdict", len(checked) - len(df))
    if df.empty:
        raise AuditError(
            "comparisons hold no verdict (every winner is missing); "
            "judge the pairs first, e.g. with prefkit judge"
        )
    gold_df = None
    if gold is not None:
        gold_df = validate_comparisons(gold, source="<gold>", require_winner=False)
        gold_df = gold_df[gold_df["winner"].notna()]
    df = attach_gold(df, gold_df)
    ratings_df = None
    if ratings is not None:
        ratings_df = validate_ratings(ratings, source="<ratings>")

    rows: list[Row] = []
    details: dict[str, list[pd.DataFrame]] = {}
    for judge, g in df.groupby("_judge", sort=True):
        name = str(judge)
        logger.info("auditing judge %s (%d rows)", name, len(g))
        rows += _judge_rows(g, name, fam, boot, ratings_df, details)
    if gold_df is not None:
        rows += ceiling_rows(gold_df, boot)
    if ratings_df is not None:
        rows += ratings_rows(ratings_df, fam, boot)
    if baseline is not None:
        details["win_rates"] = [win_rate(df, baseline, alpha=alpha)]
        try:
            details["lc_win_rates"] = [lc_win_rate(df, baseline, alpha=alpha)]
        except PrefkitError as exc:
            logger.info("no LC win rates: %s", exc)
    frames = {k: pd.concat(v, ignore_index=True) for k, v in details.items() if v}
    return AuditResult(build_table(rows, warn=warn), frames)


def _judge_rows(
    g: pd.DataFrame,
    judge: str,
    fam: dict[str, str],
    boot: Boot,
    ratings: pd.DataFrame | None,
    details: dict[str, list[pd.DataFrame]],
) -> list[Row]:
    """All comparison-based audits of one judge."""
    rows = position_rows(g, judge, boot)
    rows += verbosity_rows(g, judge, boot)
    rows += self_preference_rows(g, judge, fam, boot)
    rows += calibration_rows(g, judge, boot)
    rows += agreement_rows(g, judge, boot)
    trans, cycles = transitivity_rows(g, judge, boot)
    rows += trans
    if not cycles.empty:
        details.setdefault("worst_cycles", []).append(cycles)
    if ratings is not None:
        rows += score_comparison_rows(g, ratings, judge, boot)
    if "_gold" in g.columns and g["_gold"].notna().any():
        board_rows, frames = leaderboard_rows(g, judge, boot)
        rows += board_rows
        for key, frame in frames.items():
            details.setdefault(key, []).append(frame)
    return rows
