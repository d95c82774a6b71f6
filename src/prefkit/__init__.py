"""prefkit: human-preference data for machine learning.

Comparisons from people and LLM judges flow through three canonical tables
(``comparisons``, ``rankings``, ``ratings``; see :mod:`prefkit.data`) into
leaderboards (:mod:`prefkit.rank`), judge audits (:mod:`prefkit.audit`),
reward models (:mod:`prefkit.reward`) and preference optimization
(:mod:`prefkit.optimize`).
"""

from prefkit.errors import (
    ConvergenceWarning,
    JudgeBiasWarning,
    PrefkitDataError,
    PrefkitError,
    PrefkitWarning,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "JudgeBiasWarning",
    "PrefkitDataError",
    "PrefkitError",
    "PrefkitWarning",
    "__version__",
]
