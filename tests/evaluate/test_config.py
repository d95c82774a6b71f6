"""Tests of the evaluation settings: files, defaults and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefkit.evaluate import ConfigError, EvaluateConfig, SystemSpec, load_config
from prefkit.evaluate.config import config_from_dict


def test_yaml_and_toml_give_the_same_config(tmp_path: Path) -> None:
    """The same settings read from YAML and TOML are equal, paths made absolute."""
    (tmp_path / "a.yaml").write_text(
        "prompts: p.jsonl\n"
        "systems:\n  - name: plain\n  - name: short\n    truncate_words: 3\n"
        "judges: [likelihood, local]\npairs: baseline:plain\nseed: 7\n"
    )
    (tmp_path / "a.toml").write_text(
        'prompts = "p.jsonl"\njudges = ["likelihood", "local"]\n'
        'pairs = "baseline:plain"\nseed = 7\n'
        '[[systems]]\nname = "plain"\n[[systems]]\nname = "short"\n'
        "truncate_words = 3\n"
    )
    yaml_config = load_config(tmp_path / "a.yaml")
    assert yaml_config == load_config(tmp_path / "a.toml")
    assert yaml_config.prompts == str(tmp_path / "p.jsonl")
    assert yaml_config.systems[1] == SystemSpec(name="short", truncate_words=3)
    assert yaml_config.judges == ("likelihood", "local")


def test_config_is_frozen() -> None:
    """A config cannot be changed after it was checked."""
    config = EvaluateConfig(comparisons="x.jsonl")
    with pytest.raises(AttributeError):
        config.seed = 3  # type: ignore[misc]


def test_demo_prompts_are_not_made_paths(tmp_path: Path) -> None:
    """'demo:5' names the built-in set, not a file beside the config."""
    config = config_from_dict(
        {"prompts": "demo:5", "systems": ["plain"], "judges": ["likelihood"]}, tmp_path
    )
    assert config.prompts == "demo:5"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of prompts, candidates or comparisons"),
        ({"prompts": "p", "candidates": "c"}, "got prompts, candidates"),
        ({"prompts": "p", "judges": ("likelihood",)}, "setting 'systems'"),
        ({"candidates": "c"}, "setting 'judges' is invalid"),
        (
            {"comparisons": "c", "pairs": "some"},
            "all, baseline:MODEL, sample:N or adaptive:N",
        ),
        ({"comparisons": "c", "pairs": "sample:0"}, "sample:N"),
        ({"comparisons": "c", "ties": "maybe"}, "setting 'ties'"),
        ({"comparisons": "c", "ci": "exact"}, "setting 'ci'"),
        ({"comparisons": "c", "disagreement": "vote"}, "setting 'disagreement'"),
        ({"comparisons": "c", "jury": "debate"}, "setting 'jury'"),
        ({"comparisons": "c", "rounds": -1}, "setting 'rounds'"),
        ({"comparisons": "c", "n_uncertain": -2}, "setting 'n_uncertain'"),
    ],
)
def test_config_refuses_bad_settings(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    """Each invalid setting is refused with its name and the accepted values."""
    with pytest.raises(ConfigError, match=match):
        EvaluateConfig(**kwargs)


def test_duplicate_system_names_are_refused() -> None:
    """Two systems with one name would mix their responses."""
    systems = (SystemSpec(name="a"), SystemSpec(name="a"))
    with pytest.raises(ConfigError, match="distinct system names"):
        EvaluateConfig(prompts="p", systems=systems, judges=("likelihood",))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": " "}, "systems\\[\\].name"),
        ({"name": "a", "max_tokens": 0}, "max_tokens"),
        ({"name": "a", "temperature": -1.0}, "temperature"),
        ({"name": "a", "truncate_words": 0}, "truncate_words"),
    ],
)
def test_system_spec_refuses_bad_settings(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    """Each invalid system setting is refused with its name."""
    with pytest.raises(ConfigError, match=match):
        SystemSpec(**kwargs)


def test_unknown_keys_and_bad_files_are_refused(tmp_path: Path) -> None:
    """Unknown settings, wrong suffixes, unparsable text and lists are refused."""
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) judge;"):
        config_from_dict({"comparisons": "c", "judge": "local"})
    with pytest.raises(ConfigError, match="systems entry"):
        config_from_dict({"prompts": "p", "systems": [{"nom": "x"}]})
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"expected \.yaml, \.yml or \.toml"):
        load_config(tmp_path / "c.json")
    (tmp_path / "c.yaml").write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="cannot be parsed"):
        load_config(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(tmp_path / "d.yaml")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"rounds": "abc"}, "'rounds' is invalid \\(got 'abc'\\); expected an integer"),
        ({"stages": "3"}, "'stages' is invalid \\(got '3'\\); expected an integer"),
        ({"dual_order": "no"}, "'dual_order' is invalid \\(got 'no'\\); expected true"),
        ({"pairs": 5}, "'pairs' is invalid \\(got 5\\); expected a text"),
        ({"judges": 5}, "'judges' is invalid \\(got \\(5,\\)\\); expected a list"),
        ({"seed": "x"}, "'seed' is invalid \\(got 'x'\\); expected an integer"),
        ({"candidates": ["a.jsonl"]}, "'candidates' is invalid .* one file path"),
        ({"judges": ["likelyhood"]}, "unknown judge 'likelyhood'"),
    ],
)
def test_settings_of_the_wrong_type_are_refused_up_front(raw: dict, match: str) -> None:  # type: ignore[type-arg]
    """A config file's values are type-checked before anything runs."""
    values = {"candidates": "c.jsonl", "judges": ["likelihood"], **raw}
    with pytest.raises(ConfigError, match=match):
        config_from_dict(values)


def test_system_settings_of_the_wrong_type_are_refused() -> None:
    """A system's max_tokens given as text names the system."""
    with pytest.raises(ConfigError, match=r"'systems\[a\].max_tokens' is invalid"):
        config_from_dict(
            {"prompts": "demo:1", "judges": ["likelihood"],
             "systems": [{"name": "a", "max_tokens": "many"}]}
        )  # fmt: skip
