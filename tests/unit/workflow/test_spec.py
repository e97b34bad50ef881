"""Tests for motools.workflow._spec: Step / Workflow validation and step code versions."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import pydantic
import pytest
from module_loading import load_module

from motools._errors import UserError, WorkflowDefinitionError
from motools.workflow import AtomConstructor, Resources, Step, Workflow
from motools.workflow._spec import source_version


@dataclasses.dataclass
class ProcessConfig:
    factor: int = 1


class AnalyzeConfig(pydantic.BaseModel):
    metric: str = "mean"


@dataclasses.dataclass
class PipelineConfig:
    process: ProcessConfig
    analyze: AnalyzeConfig


def process_step(config, input_atoms, temp_workspace):
    return [AtomConstructor(name="output_dataset", path=temp_workspace / "o.jsonl", type="dataset")]


def analyze_step(config, input_atoms, temp_workspace):
    return []


def make_steps() -> list[Step]:
    return [
        Step(name="process", function=process_step,
             input_atom_types={"input_dataset": "dataset"}, config_class=ProcessConfig),
        Step(name="analyze", function=analyze_step,
             input_atom_types={"output_dataset": "dataset"}, config_class=AnalyzeConfig),
    ]




def assert_one_line_definition_error(info: pytest.ExceptionInfo[BaseException]) -> str:
    assert isinstance(info.value, WorkflowDefinitionError)
    assert isinstance(info.value, UserError)
    message = str(info.value)
    assert message and "\n" not in message
    return message


# --- Step validation --------------------------------------------------------------------------


def test_valid_step_keeps_its_fields() -> None:
    step = make_steps()[0]
    assert step.name == "process"
    assert step.input_atom_types == {"input_dataset": "dataset"}
    assert step.output_atom_types is None
    assert step.resources == Resources()


def test_step_with_non_callable_function_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name="process", function="not a function",  # type: ignore[arg-type]
             input_atom_types={}, config_class=ProcessConfig)
    message = assert_one_line_definition_error(info)
    assert "'process'" in message and "callable" in message


@pytest.mark.parametrize("bad", [dict, int, "ProcessConfig", ProcessConfig(), None])
def test_step_with_bad_config_class_is_rejected(bad: object) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name="process", function=process_step, input_atom_types={},
             config_class=bad)  # type: ignore[arg-type]
    assert "config_class" in assert_one_line_definition_error(info)


@pytest.mark.parametrize("bad_type", ["Dataset", "data set", "data-set", "", "../x", 3])
def test_step_with_invalid_input_atom_type_is_rejected(bad_type: object) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name="process", function=process_step,
             input_atom_types={"x": bad_type},  # type: ignore[dict-item]
             config_class=ProcessConfig)
    message = assert_one_line_definition_error(info)
    assert "input 'x'" in message and "invalid atom type" in message


def test_step_with_invalid_output_atom_type_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name="process", function=process_step, input_atom_types={},
             config_class=ProcessConfig, output_atom_types={"out": "Model"})
    assert "output 'out'" in assert_one_line_definition_error(info)


@pytest.mark.parametrize("bad_name", ["", "my step", "1step", "a-b"])
def test_step_with_non_identifier_name_is_rejected(bad_name: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name=bad_name, function=process_step, input_atom_types={}, config_class=ProcessConfig)
    assert_one_line_definition_error(info)


def test_pydantic_and_dataclass_config_classes_are_both_accepted() -> None:
    steps = make_steps()
    assert steps[0].config_class is ProcessConfig
    assert steps[1].config_class is AnalyzeConfig


# --- Workflow validation ----------------------------------------------------------------------


def test_product_page_workflow_composes() -> None:
    wf = Workflow(name="my_pipeline", input_atom_types={}, steps=make_steps(),
                  config_class=PipelineConfig)
    assert wf.step_names == ["process", "analyze"]
    assert wf.step("analyze").function is analyze_step


def test_workflow_with_duplicate_step_names_is_rejected() -> None:
    steps = make_steps()
    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={}, steps=[steps[0], steps[1], steps[0]],
                 config_class=PipelineConfig)
    message = assert_one_line_definition_error(info)
    assert "duplicate" in message and "process" in message


def test_workflow_without_steps_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={}, steps=[], config_class=PipelineConfig)
    assert "no steps" in assert_one_line_definition_error(info)


def test_workflow_with_bad_config_class_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={}, steps=make_steps(), config_class=dict)
    assert "config_class" in assert_one_line_definition_error(info)


def test_workflow_config_missing_a_step_section_is_rejected() -> None:
    @dataclasses.dataclass
    class OnlyProcess:
        process: ProcessConfig

    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={}, steps=make_steps(), config_class=OnlyProcess)
    message = assert_one_line_definition_error(info)
    assert "analyze" in message and "OnlyProcess" in message


def test_workflow_with_invalid_input_atom_type_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={"base": "Not A Type"}, steps=make_steps(),
                 config_class=PipelineConfig)
    message = assert_one_line_definition_error(info)
    assert "'base'" in message and "invalid atom type" in message


def test_step_with_non_mapping_input_atom_types_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Step(name="process", function=process_step,
             input_atom_types=["dataset"],  # type: ignore[arg-type]
             config_class=ProcessConfig)
    assert "'process'" in assert_one_line_definition_error(info)


def test_workflow_with_a_non_step_in_steps_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        Workflow(name="w", input_atom_types={},
                 steps=[make_steps()[0], process_step],  # type: ignore[list-item]
                 config_class=PipelineConfig)
    assert_one_line_definition_error(info)


def test_workflow_step_lookup_of_unknown_name_lists_steps() -> None:
    wf = Workflow(name="w", input_atom_types={}, steps=make_steps(), config_class=PipelineConfig)
    with pytest.raises(WorkflowDefinitionError, match=r"\['process', 'analyze'\]"):
        wf.step("nope")


def test_atom_constructor_is_frozen() -> None:
    constructor = AtomConstructor(name="o", path="o.jsonl", type="dataset")
    with pytest.raises(dataclasses.FrozenInstanceError):
        constructor.name = "p"  # type: ignore[misc]


# --- code versions ----------------------------------------------------------------------------

STEP_SOURCE_V1 = '''
def my_step(config, input_atoms, temp_workspace):
    return []
'''

STEP_SOURCE_V2 = '''
def my_step(config, input_atoms, temp_workspace):
    print("an edit to the body")
    return []
'''


def _step_from_source(tmp_path: Path, tag: str, source: str, **kwargs: object) -> Step:
    path = tmp_path / f"steps_{tag}.py"
    path.write_text(source)
    module = load_module(path, f"spec_steps_{tag}_{tmp_path.name}")
    return Step(name="my_step", function=module.my_step, input_atom_types={},
                config_class=ProcessConfig, **kwargs)  # type: ignore[arg-type]


def test_code_version_changes_when_the_function_source_changes(tmp_path: Path) -> None:
    v1 = _step_from_source(tmp_path, "v1", STEP_SOURCE_V1)
    v2 = _step_from_source(tmp_path, "v2", STEP_SOURCE_V2)
    assert v1.code_version != v2.code_version


def test_code_version_is_the_same_for_identical_source_in_another_module(tmp_path: Path) -> None:
    a = _step_from_source(tmp_path, "a", STEP_SOURCE_V1)
    b = _step_from_source(tmp_path, "b", STEP_SOURCE_V1)
    assert a.function is not b.function
    assert a.code_version == b.code_version


def test_pinned_version_stays_when_the_source_changes(tmp_path: Path) -> None:
    v1 = _step_from_source(tmp_path, "p1", STEP_SOURCE_V1, version="2")
    v2 = _step_from_source(tmp_path, "p2", STEP_SOURCE_V2, version="2")
    assert v1.code_version == v2.code_version == "2"


def test_resources_do_not_change_the_code_version() -> None:
    a = Step(name="s", function=process_step, input_atom_types={}, config_class=ProcessConfig)
    b = Step(name="s", function=process_step, input_atom_types={}, config_class=ProcessConfig,
             resources=Resources(num_cpus=0, num_gpus=1, concurrency_group="api"))
    assert a.code_version == b.code_version


def test_code_version_of_functions_without_source_changes_with_their_body() -> None:
    # Functions made by exec() (or in a REPL) have no retrievable source; editing their body
    # must still give a new version, or the stale cached result would be served.
    ns1: dict[str, Any] = {}
    ns2: dict[str, Any] = {}
    exec("def my_step(config, input_atoms, temp_workspace):\n    return 1\n", ns1)
    exec("def my_step(config, input_atoms, temp_workspace):\n    return 2\n", ns2)
    assert source_version(ns1["my_step"]) != source_version(ns2["my_step"])


def _double(config, input_atoms, temp_workspace, factor=2):
    return []


def _negate(config, input_atoms, temp_workspace, factor=2):
    return []


def test_code_version_of_partials_depends_on_the_wrapped_function() -> None:
    # functools.partial has no source of its own; two partials of different functions must not
    # share one version (they would share each other's cache entries).
    assert source_version(functools.partial(_double, factor=3)) != source_version(
        functools.partial(_negate, factor=3)
    )
