"""The settings of one evaluation: frozen dataclasses read from YAML or TOML.

A config file names the prompts, the candidate systems (the embedded model
with a system prompt and decoding settings, or an OpenAI-compatible endpoint),
the judges, the pairing plan, the ranking and the audit options::

    prompts: prompts.jsonl            # prompt_id, prompt
    systems:
      - name: plain
      - name: concise
        system_prompt: "Answer in one short sentence."
      - name: remote
        backend: "openai:my-model@http://127.0.0.1:8080/v1"
    judges: [likelihood, local]
    pairs: all
    baseline: plain

Every field is checked once, in ``__post_init__``, with a message that names
the field, what was received and what to do.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from prefkit.errors import PrefkitError

DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
Ties = Literal["half", "drop", "rao-kupper", "davidson"]
TIES: tuple[str, ...] = ("half", "drop", "rao-kupper", "davidson")
CIS: tuple[str, ...] = ("sandwich", "bootstrap", "none")
DISAGREEMENTS: tuple[str, ...] = ("tie", "average", "drop")


class ConfigError(PrefkitError, ValueError):
    """A setting of an evaluation that cannot be used as given."""


def _bad(name: str, got: object, expected: str) -> ConfigError:
    """The uniform wording of a rejected setting."""
    return ConfigError(
        f"setting '{name}' is invalid (got {got!r}); expected {expected}"
    )


def _is(value: Any, kind: str) -> bool:
    """Whether ``value`` is of the plain type named by a field annotation."""
    optional = kind.endswith(" | None")
    if optional and value is None:
        return True
    kind = kind.removesuffix(" | None")
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "tuple[str, ...]":
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    # str, Literal[...] and aliases of str literals: text
    if kind == "str" or kind.startswith("Literal[") or kind == "Ties":
        return isinstance(value, str)
    return True


_EXPECTED = {
    "bool": "true or false",
    "int": "an integer",
    "int | None": "an integer or nothing",
    "float": "a number",
    "str | None": "a text or nothing",
    "tuple[str, ...]": "a list of texts",
}


def check_types(config: Any, prefix: str = "") -> None:
    """Raise :class:`ConfigError` naming the first setting of the wrong type.

    Settings read from YAML/TOML arrive as whatever the file says
    (``rounds: "abc"``, ``dual_order: "no"``); each is checked against its
    field's type before anything is used.
    """
    for f in fields(config):
        value = getattr(config, f.name)
        kind = str(f.type)
        if not _is(value, kind):
            raise _bad(prefix + f.name, value, _EXPECTED.get(kind, "a text"))


def _check_judge(spec: str) -> None:
    """Refuse a judge spec whose backend name is not known, before any work."""
    from prefkit.judge.backends import check_judge_spec
    from prefkit.judge.types import JudgeError

    try:
        check_judge_spec(spec)
    except JudgeError as exc:
        raise ConfigError(f"setting 'judges' is invalid: {exc}") from None


def check_plan(plan: str) -> None:
    """Raise unless ``plan`` is ``all``, ``baseline:MODEL``, ``sample:N`` or
    ``adaptive:N``."""
    kind, _, arg = plan.partition(":")
    ok = (
        (kind == "all" and not arg)
        or (kind == "baseline" and bool(arg))
        or (kind in ("sample", "adaptive") and arg.isdigit() and int(arg) > 0)
    )
    if not ok:
        raise _bad("pairs", plan, "all, baseline:MODEL, sample:N or adaptive:N (N > 0)")


def check_probes(probes: str | Sequence[str]) -> tuple[str, ...]:
    """Probe names as ``prefkit audit --probes`` reads them (``all`` expanded)."""
    from prefkit.audit.probes import PROBES, ProbeError, parse_probes

    if not probes:
        return ()
    if not isinstance(probes, str) and not (
        isinstance(probes, Sequence) and all(isinstance(p, str) for p in probes)
    ):
        raise _bad("probes", probes, "all or a list of probe names")
    try:
        return tuple(parse_probes(probes if isinstance(probes, str) else [*probes]))
    except ProbeError:
        raise _bad(
            "probes",
            probes if isinstance(probes, str) else ",".join(probes),
            f"all or a comma-separated list of {', '.join(PROBES)}",
        ) from None


@dataclass(frozen=True)
class SystemSpec:
    """One candidate system that answers the prompts.

    Attributes
    ----------
    name : str
        The model id in every table.
    backend : str, default="local"
        ``local`` (the embedded SmolLM2) or ``openai:MODEL@URL``.
    system_prompt : str, default="You are a helpful AI assistant."
        Sent with every prompt.
    max_tokens : int, default=96
        Longest response in tokens.
    temperature : float, default=0.0
        Sampling temperature (0 is greedy).
    truncate_words : int or None, default=None
        Keep only the first N words of each response: a deliberately
        weakened system for checking that a judge notices.
    """

    name: str
    backend: str = "local"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_tokens: int = 96
    temperature: float = 0.0
    truncate_words: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _bad("systems[].name", self.name, "a non-empty model name")
        check_types(self, f"systems[{self.name}].")
        if self.max_tokens < 1:
            raise _bad(
                f"systems[{self.name}].max_tokens", self.max_tokens, "an int >= 1"
            )
        if self.temperature < 0:
            raise _bad(f"systems[{self.name}].temperature", self.temperature, ">= 0")
        if self.truncate_words is not None and self.truncate_words < 1:
            raise _bad(
                f"systems[{self.name}].truncate_words",
                self.truncate_words,
                "an int >= 1",
            )


@dataclass(frozen=True)
class EvaluateConfig:
    """Every setting of :func:`prefkit.evaluate.evaluate`.

    Exactly one of ``prompts`` (with ``systems``), ``candidates`` and
    ``comparisons`` says where the run starts.

    Attributes
    ----------
    prompts : str or None, default=None
        A file of ``prompt_id, prompt`` (JSONL/CSV/Parquet) or ``"demo"`` for
        the built-in instructions; responses come from ``systems``.
    candidates : str or None, default=None
        A candidates table (``prompt_id, prompt, model, response``).
    comparisons : str or None, default=None
        A comparisons table, judged (its verdicts are used as recorded) or
        not (it is judged by ``judges``).
    format : str, default="auto"
        Reader of ``comparisons`` (a key of ``prefkit.data.FORMATS``).
    systems : tuple of SystemSpec, default=()
        The candidate systems (with ``prompts``).
    judges : tuple of str, default=()
        Judge specs (``local``, ``likelihood``, ``replay:FILE``,
        ``openai:MODEL@URL``); several form a jury, reported separately and
        combined. Empty: use the recorded verdicts of ``comparisons``
        (prompts and candidates need at least one judge).
    jury : {"mean", "majority"}, default="mean"
        How several judges are combined.
    pairs : str, default="all"
        Pairing plan: ``all``, ``baseline:MODEL``, ``sample:N`` (uniform) or
        ``adaptive:N`` (N pairs judged in ``stages``, later stages aimed at
        the neighbouring ranks the verdicts so far leave unsure; see
        :mod:`prefkit.judge.adaptive`). Plans apply to prompts and
        candidates; a comparisons table is judged as given.
    stages : int, default=5
        Judging stages of an ``adaptive:N`` plan.
    dual_order : bool, default=True
        Judge each pair in both display orders.
    disagreement : {"tie", "average", "drop"}, default="tie"
        What a verdict that flips with the order becomes.
    baseline : str or None, default=None
        Reference model: win rates and length-controlled win rates [Dubois24].
    gold : str or None, default=None
        Human comparisons on the same items: the judges' agreement is audited.
    gold_format : str, default="auto"
        Reader of ``gold``.
    ties : {"half", "drop", "rao-kupper", "davidson"}, default="half"
        Tie handling of the Bradley-Terry fit [BT52].
    ci : {"sandwich", "bootstrap", "none"}, default="sandwich"
        Confidence intervals of the ratings.
    control : tuple of str, default=()
        Style-control features of the fit (e.g. ``("length",)``).
    rounds : int, default=1000
        Bootstrap rounds of the rank CIs and of the audit.
    probes : tuple of str, default=()
        Active bias probes run after judging with each live judge (as
        ``prefkit audit --probes``: ``all`` or names among bandwagon,
        authority, distraction, reflection, verbosity, position). Empty: the
        passive audits only.
    probe_pairs : int, default=40
        Pairs the probes re-judge: a seeded sample of the run's pairs.
    n_uncertain : int, default=20
        Items listed in the report and written to ``human_queue.jsonl``.
    cache : str or None, default=None
        SQLite cache of generations and verdicts (``OUT/cache.sqlite`` if None).
    output : str, default="prefkit-runs/latest"
        Output folder.
    title : str, default="prefkit evaluation"
        Heading of the report.
    seed : int, default=0
        Seed of every random step.
    notes : tuple of str, default=()
        Statements shown at the top of the report.
    """

    prompts: str | None = None
    candidates: str | None = None
    comparisons: str | None = None
    format: str = "auto"
    systems: tuple[SystemSpec, ...] = ()
    judges: tuple[str, ...] = ()
    jury: Literal["mean", "majority"] = "mean"
    pairs: str = "all"
    stages: int = 5
    dual_order: bool = True
    disagreement: Literal["tie", "average", "drop"] = "tie"
    baseline: str | None = None
    gold: str | None = None
    gold_format: str = "auto"
    ties: Ties = "half"
    ci: Literal["sandwich", "bootstrap", "none"] = "sandwich"
    control: tuple[str, ...] = ()
    rounds: int = 1000
    probes: tuple[str, ...] = ()
    probe_pairs: int = 40
    n_uncertain: int = 20
    cache: str | None = None
    output: str = "prefkit-runs/latest"
    title: str = "prefkit evaluation"
    seed: int = 0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # frozen: the normalised probe names are set once, here
        object.__setattr__(self, "probes", check_probes(self.probes))
        check_types(self)
        sources = [
            s for s in ("prompts", "candidates", "comparisons") if getattr(self, s)
        ]
        if len(sources) != 1:
            raise ConfigError(
                "an evaluation starts from exactly one of prompts, candidates or "
                f"comparisons (got {', '.join(sources) or 'none'}); set one of them"
            )
        if self.prompts and not self.systems:
            raise _bad("systems", self.systems, "at least one system with prompts")
        names = [s.name for s in self.systems]
        if len(set(names)) != len(names):
            raise _bad("systems[].name", names, "distinct system names")
        if not self.judges and not self.comparisons:
            raise _bad(
                "judges",
                self.judges,
                "at least one judge spec (e.g. likelihood) to judge generated "
                "or given candidates",
            )
        for spec in self.judges:
            _check_judge(spec)
        check_plan(self.pairs)
        if self.comparisons and self.pairs != "all":
            raise _bad(
                "pairs",
                self.pairs,
                "all with a comparisons table (its pairs are judged as given); "
                "pairing plans apply to prompts and candidates",
            )
        if self.stages < 1:
            raise _bad("stages", self.stages, "an int >= 1")
        if self.probes and not self.judges:
            raise _bad(
                "probes",
                ",".join(self.probes),
                "no probes without a live judge: name one in judges "
                "(e.g. judges: [local]) or drop probes",
            )
        if self.probe_pairs < 1:
            raise _bad("probe_pairs", self.probe_pairs, "an int >= 1")
        for name, value, allowed in (
            ("ties", self.ties, TIES),
            ("ci", self.ci, CIS),
            ("disagreement", self.disagreement, DISAGREEMENTS),
            ("jury", self.jury, ("mean", "majority")),
        ):
            if value not in allowed:
                raise _bad(name, value, "one of " + ", ".join(allowed))
        if self.rounds < 0:
            raise _bad("rounds", self.rounds, "an int >= 0")
        if self.n_uncertain < 0:
            raise _bad("n_uncertain", self.n_uncertain, "an int >= 0")

    @property
    def cache_path(self) -> Path:
        """Where generations and verdicts are cached."""
        return Path(self.cache) if self.cache else Path(self.output) / "cache.sqlite"

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON values."""
        return asdict(self)


def _tuple(value: Any) -> tuple[Any, ...]:
    """A scalar or list as a tuple (``None`` as empty)."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(value)
    # a scalar where a list belongs: one item (its type is checked later)
    return (value,)


def config_from_dict(
    raw: dict[str, Any], base_dir: str | os.PathLike[str] = "."
) -> EvaluateConfig:
    """An :class:`EvaluateConfig` from plain values (as read from a file).

    Relative file paths are read relative to ``base_dir``; unknown keys are
    refused with the list of known ones.
    """
    known = {f.name for f in fields(EvaluateConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known settings are "
            f"{', '.join(sorted(known))}"
        )
    values = dict(raw)
    base = Path(base_dir)
    for key in ("prompts", "candidates", "comparisons", "gold"):
        path = values.get(key)
        if path is not None and not isinstance(path, str):
            raise _bad(key, path, "one file path")
        is_demo = key == "prompts" and str(path).split(":")[0] == "demo"
        if path and not is_demo and not Path(path).is_absolute():
            values[key] = str(base / path)
    system_keys = {f.name for f in fields(SystemSpec)}
    systems = []
    for item in _tuple(values.get("systems")):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or set(item) - system_keys:
            raise ConfigError(
                f"systems entry {item!r} is invalid; expected a mapping with keys "
                f"among {', '.join(sorted(system_keys))}"
            )
        systems.append(SystemSpec(**item))
    values["systems"] = tuple(systems)
    if isinstance(values.get("probes"), str):
        values["probes"] = values["probes"].split(",")
    for key in ("judges", "control", "notes", "probes"):
        if key in values:
            values[key] = _tuple(values[key])
    return EvaluateConfig(**values)


def load_config(path: str | os.PathLike[str]) -> EvaluateConfig:
    """Read an evaluation config from a YAML (``.yaml``/``.yml``) or TOML file."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix == ".toml":
            raw = tomllib.loads(text)
        elif file.suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
        else:
            raise ConfigError(
                f"config file {file} has suffix {file.suffix!r}; expected .yaml, "
                ".yml or .toml"
            )
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {file} cannot be parsed: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {file} must hold a mapping of settings")
    return config_from_dict(raw, base_dir=file.parent)


def is_config_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a config file (by its suffix)."""
    return Path(path).suffix in (".yaml", ".yml", ".toml")
