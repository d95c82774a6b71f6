"""The main job end to end: generate -> judge -> rank -> audit -> report.

:func:`evaluate` composes the steps of :mod:`prefkit.evaluate.steps` under an
:class:`EvaluateConfig` (read from YAML/TOML by :func:`load_config`) and
writes one output folder; :func:`demo_config` is the setting of
``prefkit demo``.
"""

from prefkit.evaluate.config import (
    ConfigError,
    EvaluateConfig,
    SystemSpec,
    config_from_dict,
    load_config,
)
from prefkit.evaluate.demo import DEMO_JUDGES, DEMO_SYSTEMS, demo_config
from prefkit.evaluate.run import RunResult, evaluate, versions
from prefkit.evaluate.steps import (
    RankResult,
    audit_step,
    generate_step,
    judge_step,
    pair_step,
    rank_step,
    read_prompts,
)

__all__ = [
    "DEMO_JUDGES",
    "DEMO_SYSTEMS",
    "ConfigError",
    "EvaluateConfig",
    "RankResult",
    "RunResult",
    "SystemSpec",
    "audit_step",
    "config_from_dict",
    "demo_config",
    "evaluate",
    "generate_step",
    "judge_step",
    "load_config",
    "pair_step",
    "rank_step",
    "read_prompts",
    "versions",
]
