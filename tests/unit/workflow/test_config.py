from __future__ import annotations

import dataclasses
from typing import Optional

import pydantic
import pytest

from motools._errors import ConfigError
from motools.workflow._config import (
    WorkflowConfig,
    config_fields,
    config_json_schema,
    config_section,
    config_to_dict,
    format_validation_error,
    validate_config,
)
from motools.workflow._yaml import load_yaml_file, yaml_load


class Hyperparameters(pydantic.BaseModel):
    n_epochs: int = 1
    learning_rate: float


class SubmitTraining(pydantic.BaseModel):
    model: str
    hyperparameters: Hyperparameters
    suffix: str | None = None


class Evaluate(pydantic.BaseModel):
    eval_task: str
    backend_name: str = "inspect"


class Wait(pydantic.BaseModel):
    pass


class TrainCfg(WorkflowConfig):
    submit_training: SubmitTraining
    wait_for_training: Wait = Wait()
    evaluate_model: Evaluate


GOOD = {
    "submit_training": {
        "model": "meta-llama/Llama-3.2-1B",
        "hyperparameters": {"n_epochs": 2, "learning_rate": 1e-4},
        "suffix": "hello-world",
    },
    "wait_for_training": {},
    "evaluate_model": {"eval_task": "mozoo.tasks.hello_world:hello_world"},
}


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class DcTrain:
    model: str
    hyperparameters: Hyperparameters
    # typing.Optional on purpose: user configs written either way must validate.
    origin: Optional[Point] = None  # noqa: UP045


@dataclasses.dataclass
class DcWorkflow:
    train: DcTrain
    points: list[Point] = dataclasses.field(default_factory=list)


def config_error(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- YAML ---


def test_yaml_exponent_without_dot_is_float():
    assert yaml_load("lr: 1e-4", "t") == {"lr": 0.0001}
    assert isinstance(yaml_load("lr: 1e-4", "t")["lr"], float)


def test_yaml_other_float_spellings():
    data = yaml_load("a: 1E5\nb: -3.0e+2\nc: .5\nd: 0.0001\ne: 1.5e3", "t")
    assert data == {"a": 1e5, "b": -300.0, "c": 0.5, "d": 0.0001, "e": 1500.0}
    assert all(isinstance(v, float) for v in data.values())


def test_yaml_ints_stay_ints():
    data = yaml_load("a: 100\nb: -3\nc: 0", "t")
    assert data == {"a": 100, "b": -3, "c": 0}
    assert all(type(v) is int for v in data.values())


def test_yaml_quoted_exponent_stays_string():
    assert yaml_load('lr: "1e-4"', "t") == {"lr": "1e-4"}


def test_yaml_loader_leaves_global_safe_loader_alone():
    import yaml

    assert yaml.safe_load("lr: 1e-4") == {"lr": "1e-4"}


def test_yaml_malformed_names_source_and_line():
    message = config_error(yaml_load, "a: 1\nb: [1, 2\nc: 3\n", "cfg.yaml")
    assert message.startswith("cfg.yaml: invalid YAML at line ")
    assert "column" in message


def test_yaml_malformed_line_number_is_one_based():
    message = config_error(yaml_load, "a: 1\nb: 2\n  c: 3\n", "cfg.yaml")
    assert "line 3," in message


def test_yaml_duplicate_key_is_error():
    message = config_error(yaml_load, "a: 1\nb: 2\na: 3\n", "cfg.yaml")
    assert "duplicate key 'a'" in message
    assert "line 3" in message


def test_load_yaml_file_missing(tmp_path):
    path = tmp_path / "nope.yaml"
    assert str(path) in config_error(load_yaml_file, path)


def test_load_yaml_file_not_utf8(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    message = config_error(load_yaml_file, path)
    assert str(path) in message
    assert "UTF-8" in message


def test_load_yaml_file_empty_returns_none(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_yaml_file(path) is None


# --- WorkflowConfig ---


def test_from_dict_builds_nested_models():
    cfg = TrainCfg.from_dict(GOOD)
    assert cfg.submit_training.hyperparameters.learning_rate == 0.0001
    assert isinstance(cfg.wait_for_training, Wait)


def test_unknown_section_lists_allowed():
    message = config_error(TrainCfg.from_dict, {**GOOD, "bogus": {}}, source="cfg.yaml")
    assert message == (
        "cfg.yaml: bogus: unknown key; allowed: submit_training, wait_for_training, evaluate_model"
    )


def test_unknown_nested_key_names_full_path():
    data = {**GOOD, "submit_training": {**GOOD["submit_training"]}}
    data["submit_training"]["hyperparameters"] = {"learning_rate": 0.1, "foo": 1}
    message = config_error(TrainCfg.from_dict, data)
    assert message == (
        "config: submit_training.hyperparameters.foo: unknown key; allowed: n_epochs, learning_rate"
    )


def test_wrong_type_names_path_and_value():
    data = {**GOOD, "submit_training": {**GOOD["submit_training"]}}
    data["submit_training"]["hyperparameters"] = {"learning_rate": "fast"}
    message = config_error(TrainCfg.from_dict, data)
    assert message.startswith("config: submit_training.hyperparameters.learning_rate: ")
    assert "(got 'fast')" in message


def test_missing_required_field():
    data = {**GOOD, "evaluate_model": {}}
    message = config_error(TrainCfg.from_dict, data)
    assert message == "config: evaluate_model.eval_task: required field missing"


def test_from_dict_rejects_non_mapping():
    message = config_error(TrainCfg.from_dict, [1, 2])
    assert "expected a mapping of step name to step config" in message


def test_from_yaml_to_yaml_round_trip(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(TrainCfg.from_dict(GOOD).to_yaml())
    assert TrainCfg.from_yaml(path) == TrainCfg.from_dict(GOOD)


def test_from_yaml_reads_user_yaml(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "submit_training:\n  model: m\n  hyperparameters:\n    n_epochs: 2\n"
        "    learning_rate: 1e-4\nwait_for_training: {}\nevaluate_model:\n  eval_task: t\n"
    )
    cfg = TrainCfg.from_yaml(path)
    assert cfg.submit_training.hyperparameters.learning_rate == 0.0001


def test_from_yaml_empty_file(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("# nothing\n")
    assert config_error(TrainCfg.from_yaml, path) == f"{path}: empty config"


def test_from_yaml_validation_error_names_file(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("bogus: {}\n")
    assert config_error(TrainCfg.from_yaml, path).startswith(f"{path}: bogus: unknown key")


def test_to_dict_is_plain():
    assert TrainCfg.from_dict(GOOD).to_dict()["submit_training"]["hyperparameters"] == {
        "n_epochs": 2,
        "learning_rate": 0.0001,
    }


def test_to_yaml_keeps_declaration_order():
    text = TrainCfg.from_dict(GOOD).to_yaml()
    assert text.index("submit_training") < text.index("wait_for_training")
    assert text.index("wait_for_training") < text.index("evaluate_model")


def test_constructor_coerces_dict_sections():
    cfg = TrainCfg(
        submit_training={"model": "m", "hyperparameters": {"learning_rate": 1}},
        evaluate_model={"eval_task": "t"},
    )
    assert isinstance(cfg.submit_training, SubmitTraining)
    assert cfg.submit_training.hyperparameters.learning_rate == 1.0


def test_json_schema_lists_sections():
    schema = TrainCfg.json_schema()
    assert set(schema["properties"]) == {"submit_training", "wait_for_training", "evaluate_model"}


# --- format_validation_error ---


def test_format_validation_error_indexes_and_truncates():
    class Holder(pydantic.BaseModel):
        points: list[Point]
        name: int

    with pytest.raises(pydantic.ValidationError) as info:
        Holder.model_validate({"points": [{"x": 1}, {"x": 2}, {"x": "q"}], "name": "z" * 100})
    message = format_validation_error(info.value)
    assert "points[2].x: " in message
    assert "(got '" + "z" * 56 + "...)" in message
    assert "\n" not in message


def test_format_validation_error_caps_at_five():
    class Many(pydantic.BaseModel):
        a: int
        b: int
        c: int
        d: int
        e: int
        f: int
        g: int

    with pytest.raises(pydantic.ValidationError) as info:
        Many.model_validate({})
    message = format_validation_error(info.value, prefix="step")
    assert message.count("required field missing") == 5
    assert message.startswith("step.a: required field missing; ")
    assert message.endswith("; and 2 more")


def test_format_validation_error_multiline_msg_becomes_one_line():
    class Picky(pydantic.BaseModel):
        v: int

        @pydantic.field_validator("v")
        @classmethod
        def check(cls, v: int) -> int:
            raise ValueError("bad\nvalue")

    with pytest.raises(pydantic.ValidationError) as info:
        Picky(v=1)
    assert "\n" not in format_validation_error(info.value)


# --- dataclass configs ---


def test_validate_config_builds_nested_dataclasses():
    cfg = validate_config(
        DcWorkflow,
        {
            "train": {"model": "m", "hyperparameters": {"learning_rate": 0.5}, "origin": {"x": 1}},
            "points": [{"x": 2, "y": 3}],
        },
    )
    assert cfg == DcWorkflow(
        train=DcTrain("m", Hyperparameters(learning_rate=0.5), Point(1)), points=[Point(2, 3)]
    )


def test_validate_config_dataclass_unknown_nested_key():
    data = {"train": {"model": "m", "hyperparameters": {"learning_rate": 0.5}, "origin": {"z": 1}}}
    message = config_error(validate_config, DcWorkflow, data, source="cfg.yaml")
    assert message == "cfg.yaml: train.origin.z: unknown key; allowed: x, y"


def test_validate_config_dataclass_unknown_key_in_list_item():
    data = {"train": {"model": "m", "hyperparameters": {"learning_rate": 1}}, "points": [{"w": 1}]}
    message = config_error(validate_config, DcWorkflow, data)
    assert "points[0].w: unknown key; allowed: x, y" in message


def test_validate_config_dataclass_unknown_key_in_pydantic_section():
    data = {"train": {"model": "m", "hyperparameters": {"learning_rate": 1, "lr": 2}}}
    message = config_error(validate_config, DcWorkflow, data)
    assert "train.hyperparameters.lr: unknown key; allowed: n_epochs, learning_rate" in message


def test_validate_config_dataclass_wrong_type():
    train = {"model": "m", "hyperparameters": {"learning_rate": 1}}
    message = config_error(validate_config, DcWorkflow, {"train": train, "points": [{"x": "a"}]})
    assert message.startswith("config: points[0].x: ")
    assert "(got 'a')" in message


def test_validate_config_dataclass_missing_field():
    message = config_error(validate_config, DcWorkflow, {"train": {"model": "m"}})
    assert message == "config: train.hyperparameters: required field missing"


def test_validate_config_passes_pydantic_instances_through():
    cfg = TrainCfg.from_dict(GOOD)
    assert validate_config(TrainCfg, cfg) is cfg


def test_validate_config_revalidates_dataclass_instances():
    # A dataclass is never validated when built, so validate_config does it (and normalises).
    assert validate_config(Point, Point(1, 2)) == Point(1, 2)
    with pytest.raises(ConfigError, match="x"):
        validate_config(Point, Point("not a number", 2))


def test_validate_config_respects_explicit_extra_allow():
    class Loose(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        a: int = 0

    assert validate_config(Loose, {"a": 1, "b": 2}).model_extra == {"b": 2}


def test_config_to_dict_dataclass_round_trip():
    cfg = DcWorkflow(train=DcTrain("m", Hyperparameters(learning_rate=0.5)), points=[Point(1)])
    data = config_to_dict(cfg)
    assert data == {
        "train": {
            "model": "m",
            "hyperparameters": {"n_epochs": 1, "learning_rate": 0.5},
            "origin": None,
        },
        "points": [{"x": 1, "y": 0}],
    }
    assert validate_config(DcWorkflow, data) == cfg


def test_config_to_dict_pydantic_round_trip():
    cfg = TrainCfg.from_dict(GOOD)
    assert validate_config(TrainCfg, config_to_dict(cfg)) == cfg


def test_config_fields_in_declaration_order():
    assert config_fields(TrainCfg) == ["submit_training", "wait_for_training", "evaluate_model"]
    assert config_fields(DcWorkflow) == ["train", "points"]


def test_config_json_schema_for_dataclass():
    schema = config_json_schema(DcWorkflow)
    assert set(schema["properties"]) == {"train", "points"}
    assert "learning_rate" in str(schema)


def test_config_section_by_name():
    cfg = TrainCfg.from_dict(GOOD)
    assert config_section(cfg, "evaluate_model").eval_task == GOOD["evaluate_model"]["eval_task"]


def test_config_section_unknown_name():
    message = config_error(config_section, TrainCfg.from_dict(GOOD), "to_dict")
    assert "no section 'to_dict'" in message
