"""Judge audits: position, verbosity, self-preference, scale use, calibration,
consistency, agreement with humans, leaderboard agreement, and active probes.

:func:`audit` runs every passive audit the data allow and returns an
:class:`AuditResult` whose ``table`` follows the audit-result format of
``docs/tables.md``; :mod:`prefkit.audit.probes` perturbs pairs and re-judges
them through a live judge.
"""

from prefkit.audit.core import AuditError, audit
from prefkit.audit.drift import rubric_drift
from prefkit.audit.probes import MITIGATIONS, PROBES, probe
from prefkit.audit.result import AUDIT_COLUMNS, BANDS, AuditResult
from prefkit.audit.winrate import instruction_difficulty, lc_win_rate, win_rate

__all__ = [
    "AUDIT_COLUMNS",
    "BANDS",
    "MITIGATIONS",
    "PROBES",
    "AuditError",
    "AuditResult",
    "audit",
    "instruction_difficulty",
    "lc_win_rate",
    "probe",
    "rubric_drift",
    "win_rate",
]
