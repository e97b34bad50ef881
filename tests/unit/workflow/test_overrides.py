"""`a.b.c=VALUE` overrides applied to a loaded config (motools.workflow.apply_overrides)."""

from __future__ import annotations

import pytest

from motools._errors import ConfigError
from motools.workflow import apply_overrides
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig

LR = "submit_training.hyperparameters.learning_rate"


def test_values_are_typed_as_yaml_reads_them() -> None:
    out = apply_overrides({}, [f"{LR}=1e-4", "a.rank=8", "a.on=true", "a.name=x", "a.l=[4, 8]",
                               "a.none="])
    assert out == {"submit_training": {"hyperparameters": {"learning_rate": 1e-4}},
                   "a": {"rank": 8, "on": True, "name": "x", "l": [4, 8], "none": None}}


def test_the_input_is_left_unchanged_and_a_later_override_wins() -> None:
    data = {"a": {"b": 1}}
    assert apply_overrides(data, ["a.b=2", "a.b=3"]) == {"a": {"b": 3}}
    assert data == {"a": {"b": 1}}


def test_an_unknown_path_of_the_config_class_is_one_line_naming_it() -> None:
    with pytest.raises(ConfigError) as err:
        apply_overrides({}, ["submit_training.hyperparameters.lr=1"],
                        config_class=TrainAndEvaluateConfig)
    message = str(err.value)
    assert message.startswith("--set submit_training.hyperparameters.lr: unknown config path")
    assert LR in message and "\n" not in message


@pytest.mark.parametrize(("text", "fragment"), [
    ("nothing", "expected PATH=VALUE"),
    ("=3", "expected PATH=VALUE"),
    ("a..b=3", "empty segment"),
    ("a.api_key=sk-1", "looks like a credential"),
    ("a.b=[1, 2", "invalid YAML"),
    ("a.b.c=1", "a.b is not a mapping"),
])
def test_a_bad_override_is_one_line(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        apply_overrides({"a": {"b": 1}}, [text])
