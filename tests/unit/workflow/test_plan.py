"""Tests for motools.workflow._plan: wiring errors, dedup, plan identities, cache keys, stages."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest
from module_loading import load_module

from motools._errors import ConfigError, InvalidAtomIdError, UserError, WorkflowDefinitionError
from motools.workflow import AtomConstructor, Step, Workflow, compile_plan
from motools.workflow._plan import cache_key, parse_stages

DATASET_ID = "dataset-" + "1" * 64
OTHER_DATASET_ID = "dataset-" + "2" * 64
MODEL_ID = "model-" + "3" * 64


@dataclasses.dataclass
class ProcessConfig:
    prefix: str = "p"
    max_samples: int = 10


class AnalyzeConfig(pydantic.BaseModel):
    metric: str = "mean"
    api_key: str | None = None


@dataclasses.dataclass
class PipelineConfig:
    process: ProcessConfig
    analyze: AnalyzeConfig


def my_step(config, input_atoms, temp_workspace):
    return [AtomConstructor(name="output_dataset", path=temp_workspace / "o.jsonl", type="dataset")]


def analyze_step(config, input_atoms, temp_workspace):
    return []


def product_workflow(**process_kwargs: object) -> Workflow:
    return Workflow(
        name="my_pipeline",
        input_atom_types={},
        steps=[
            Step(name="process", function=my_step, input_atom_types={"input_dataset": "dataset"},
                 config_class=ProcessConfig, **process_kwargs),  # type: ignore[arg-type]
            Step(name="analyze", function=analyze_step,
                 input_atom_types={"output_dataset": "dataset"}, config_class=AnalyzeConfig),
        ],
        config_class=PipelineConfig,
    )


def config(prefix: str = "p", metric: str = "mean", api_key: str | None = None) -> PipelineConfig:
    return PipelineConfig(
        ProcessConfig(prefix=prefix), AnalyzeConfig(metric=metric, api_key=api_key)
    )


def nodes_by_step(plan) -> dict[str, list]:  # type: ignore[no-untyped-def]
    out: dict[str, list] = {}
    for node in plan.nodes.values():
        out.setdefault(node.name, []).append(node)
    return out


def one_line_message(info: pytest.ExceptionInfo[BaseException]) -> str:
    assert isinstance(info.value, UserError)
    message = str(info.value)
    assert message and "\n" not in message
    return message


@dataclasses.dataclass
class Empty:
    pass


def two_step_workflow(a: Step, b: Step, **kwargs: object) -> Workflow:
    @dataclasses.dataclass
    class Cfg:
        a: Empty
        b: Empty

    return Workflow(name="two", input_atom_types=kwargs.get("inputs", {}),  # type: ignore[arg-type]
                    steps=[a, b], config_class=Cfg)


def empty_config() -> dict[str, dict]:
    return {"a": {}, "b": {}}


# --- compile errors ---------------------------------------------------------------------------


def test_missing_input_error_names_the_input_and_the_fix() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(product_workflow(), [config()], {})
    message = one_line_message(info)
    assert "'process'" in message and "'input_dataset'" in message
    assert "pass input_atoms={'input_dataset': <dataset atom id>}" in message


def test_declared_producer_type_mismatch_is_rejected() -> None:
    wf = two_step_workflow(
        Step(name="a", function=my_step, input_atom_types={}, config_class=Empty,
             output_atom_types={"data": "model"}),
        Step(name="b", function=analyze_step, input_atom_types={"data": "dataset"},
             config_class=Empty),
    )
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(wf, [empty_config()], {})
    message = one_line_message(info)
    assert "'b'" in message and "'data'" in message and "'model'" in message
    assert "'dataset'" in message


def test_given_input_atom_of_the_wrong_type_is_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(product_workflow(), [config()], {"input_dataset": MODEL_ID})
    message = one_line_message(info)
    assert "'input_dataset'" in message and "'model'" in message and "'dataset'" in message


def test_workflow_level_input_of_the_wrong_type_is_rejected() -> None:
    wf = two_step_workflow(
        Step(name="a", function=my_step, input_atom_types={"base": "dataset"}, config_class=Empty,
             output_atom_types={"x": "dataset"}),
        Step(name="b", function=analyze_step, input_atom_types={"x": "dataset"},
             config_class=Empty),
        inputs={"base": "dataset"},
    )
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(wf, [empty_config()], {"base": MODEL_ID})
    assert "'base'" in one_line_message(info)


def test_workflow_level_missing_input_is_rejected() -> None:
    wf = two_step_workflow(
        Step(name="a", function=my_step, input_atom_types={"base": "dataset"}, config_class=Empty,
             output_atom_types={"x": "dataset"}),
        Step(name="b", function=analyze_step, input_atom_types={"x": "dataset"},
             config_class=Empty),
        inputs={"base": "dataset"},
    )
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(wf, [empty_config()], {})
    assert "['base']" in one_line_message(info)


def test_cycle_between_two_steps_with_declared_outputs_is_rejected() -> None:
    wf = two_step_workflow(
        Step(name="a", function=my_step, input_atom_types={"from_b": "dataset"},
             config_class=Empty, output_atom_types={"from_a": "dataset"}),
        Step(name="b", function=analyze_step, input_atom_types={"from_a": "dataset"},
             config_class=Empty, output_atom_types={"from_b": "dataset"}),
    )
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(wf, [empty_config()], {})
    message = one_line_message(info)
    assert "cycle" in message and "'a'" in message and "'b'" in message


def test_two_steps_declaring_the_same_output_are_rejected() -> None:
    wf = two_step_workflow(
        Step(name="a", function=my_step, input_atom_types={}, config_class=Empty,
             output_atom_types={"data": "dataset"}),
        Step(name="b", function=analyze_step, input_atom_types={}, config_class=Empty,
             output_atom_types={"data": "dataset"}),
    )
    with pytest.raises(WorkflowDefinitionError) as info:
        compile_plan(wf, [empty_config()], {})
    message = one_line_message(info)
    assert "'data'" in message and "'a'" in message and "'b'" in message


def test_malformed_input_atom_id_is_rejected() -> None:
    with pytest.raises(InvalidAtomIdError):
        compile_plan(product_workflow(), [config()], {"input_dataset": "../../etc/passwd"})


def test_invalid_config_is_a_one_line_config_error_naming_the_point() -> None:
    good = {"process": {}, "analyze": {}}
    bad = {"process": {"max_samples": "many"}, "analyze": {}}
    with pytest.raises(ConfigError) as info:
        compile_plan(product_workflow(), [good, bad], {"input_dataset": DATASET_ID})
    message = one_line_message(info)
    assert message.startswith("config[1]")
    assert "process.max_samples" in message


def test_declared_outputs_may_come_after_their_consumer_in_step_order() -> None:
    wf = two_step_workflow(
        Step(name="a", function=analyze_step, input_atom_types={"x": "dataset"},
             config_class=Empty),
        Step(name="b", function=my_step, input_atom_types={}, config_class=Empty,
             output_atom_types={"x": "dataset"}),
    )
    plan = compile_plan(wf, [empty_config()], {})
    levels = [[n.name for n in level] for level in plan.levels()]
    assert levels == [["b"], ["a"]]


# --- wiring, dedup and identities -------------------------------------------------------------


def test_product_workflow_wires_analyze_after_process() -> None:
    plan = compile_plan(product_workflow(), [config()], {"input_dataset": DATASET_ID})
    levels = [[n.name for n in level] for level in plan.levels()]
    assert levels == [["process"], ["analyze"]]
    process, analyze = (level[0] for level in plan.levels())
    assert process.inputs["input_dataset"].atom_id == DATASET_ID
    assert analyze.upstream == (process.plan_id,)
    assert plan.downstream()[process.plan_id] == [analyze.plan_id]


def test_configs_differing_only_in_the_last_step_share_the_first_node() -> None:
    configs = [config(metric=f"m{i}") for i in range(5)]
    plan = compile_plan(product_workflow(), configs, {"input_dataset": DATASET_ID})
    by_step = nodes_by_step(plan)
    assert len(by_step["process"]) == 1
    assert len(by_step["analyze"]) == 5
    assert len(plan.points) == 5
    assert len({p["process"] for p in plan.points}) == 1
    assert len({p["analyze"] for p in plan.points}) == 5


def test_configs_differing_in_the_first_step_give_distinct_downstream_nodes() -> None:
    configs = [config(prefix="a"), config(prefix="b")]
    plan = compile_plan(product_workflow(), configs, {"input_dataset": DATASET_ID})
    by_step = nodes_by_step(plan)
    assert len(by_step["process"]) == 2
    assert len(by_step["analyze"]) == 2


def test_identical_configs_compile_to_one_node_per_step() -> None:
    plan = compile_plan(product_workflow(), [config(), config()], {"input_dataset": DATASET_ID})
    assert len(plan.nodes) == 2
    assert plan.points[0] == plan.points[1]


def test_plan_ids_change_with_the_given_input_atom() -> None:
    wf = product_workflow()
    a = compile_plan(wf, [config()], {"input_dataset": DATASET_ID})
    b = compile_plan(wf, [config()], {"input_dataset": OTHER_DATASET_ID})
    assert set(a.nodes).isdisjoint(b.nodes)


def test_secret_config_fields_do_not_change_plan_ids_or_keys() -> None:
    wf = product_workflow()
    a = compile_plan(wf, [config(api_key="sk-one")], {"input_dataset": DATASET_ID})
    b = compile_plan(wf, [config(api_key="sk-two")], {"input_dataset": DATASET_ID})
    assert list(a.nodes) == list(b.nodes)
    node = next(n for n in a.nodes.values() if n.name == "analyze")
    assert "api_key" not in node.config_data
    assert "sk-one" not in json.dumps(node.config_data)
    inputs = {"output_dataset": OTHER_DATASET_ID}
    assert node.cache_key(inputs) == b.nodes[node.plan_id].cache_key(inputs)


def test_plan_id_of_a_pinned_step_matches_golden_value() -> None:
    plan = compile_plan(product_workflow(version="7"), [config()], {"input_dataset": DATASET_ID})
    process = plan.levels()[0][0]
    # Computed once; a change means every plan identity changed (see test_hashing.py).
    assert process.plan_id == "de48640b38a2855a7bed3b295dd04f490554f020468725e0fda3b700c413052e"


PLAN_MODULE = '''
import dataclasses
from motools.workflow import AtomConstructor, Step, Workflow


@dataclasses.dataclass
class ProcessConfig:
    prefix: str = "p"
    learning_rate: float = 1e-4


@dataclasses.dataclass
class AnalyzeConfig:
    metric: str = "mean"


@dataclasses.dataclass
class PipelineConfig:
    process: ProcessConfig
    analyze: AnalyzeConfig


def my_step(config, input_atoms, temp_workspace):
    return [AtomConstructor(name="output_dataset", path=temp_workspace / "o.jsonl", type="dataset")]


def analyze_step(config, input_atoms, temp_workspace):
    return []


workflow = Workflow(
    name="my_pipeline",
    input_atom_types={},
    steps=[
        Step(name="process", function=my_step, input_atom_types={"input_dataset": "dataset"},
             config_class=ProcessConfig),
        Step(name="analyze", function=analyze_step,
             input_atom_types={"output_dataset": "dataset"}, config_class=AnalyzeConfig),
    ],
    config_class=PipelineConfig,
)
CONFIGS = [
    {"process": {"prefix": "x", "learning_rate": 0.1 * i}, "analyze": {"metric": "ü" + str(i)}}
    for i in range(3)
]


def describe(input_id):
    from motools.workflow import compile_plan
    plan = compile_plan(workflow, CONFIGS, {"input_dataset": input_id})
    return {
        "ids": list(plan.nodes),
        "versions": sorted({n.version for n in plan.nodes.values()}),
        "keys": [n.cache_key({k: input_id for k in n.inputs}) for n in plan.nodes.values()],
    }
'''


def test_plan_ids_and_keys_are_the_same_in_another_process(tmp_path: Path) -> None:
    (tmp_path / "plan_mod.py").write_text(PLAN_MODULE)
    module = load_module(tmp_path / "plan_mod.py", f"plan_mod_{tmp_path.name}")
    here = module.describe(DATASET_ID)
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import plan_mod; "
        "print(json.dumps(plan_mod.describe(sys.argv[2])))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "777", "MOTOOLS_STORE": str(tmp_path / "child-store")}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), DATASET_ID],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    there = json.loads(proc.stdout)
    assert len(here["ids"]) == 6  # 3 process configs, each with its own analyze node
    assert there == here


# --- cache keys -------------------------------------------------------------------------------

BASE_KEY = ("train", "1", {"learning_rate": 0.001, "n_epochs": 2}, {"dataset": DATASET_ID})


def test_cache_key_is_deterministic() -> None:
    assert cache_key(*BASE_KEY) == cache_key(*BASE_KEY)
    assert len(cache_key(*BASE_KEY)) == 64


def test_cache_key_changes_with_config() -> None:
    step, version, cfg, inputs = BASE_KEY
    assert cache_key(step, version, {**cfg, "learning_rate": 0.002}, inputs) != cache_key(*BASE_KEY)


def test_cache_key_changes_with_version() -> None:
    step, _, cfg, inputs = BASE_KEY
    assert cache_key(step, "2", cfg, inputs) != cache_key(*BASE_KEY)


def test_cache_key_changes_with_inputs() -> None:
    step, version, cfg, _ = BASE_KEY
    assert cache_key(step, version, cfg, {"dataset": OTHER_DATASET_ID}) != cache_key(*BASE_KEY)


def test_cache_key_changes_with_input_name() -> None:
    step, version, cfg, _ = BASE_KEY
    assert cache_key(step, version, cfg, {"train_set": DATASET_ID}) != cache_key(*BASE_KEY)


def test_cache_key_changes_with_step_name() -> None:
    _, version, cfg, inputs = BASE_KEY
    assert cache_key("evaluate", version, cfg, inputs) != cache_key(*BASE_KEY)


def test_cache_key_ignores_config_key_order() -> None:
    step, version, _, inputs = BASE_KEY
    reordered = {"n_epochs": 2, "learning_rate": 0.001}
    assert cache_key(step, version, reordered, inputs) == cache_key(*BASE_KEY)


def test_node_cache_key_changes_when_the_step_source_changes(tmp_path: Path) -> None:
    source_v2 = PLAN_MODULE.replace("    return []\n", "    return list()\n")
    (tmp_path / "v1.py").write_text(PLAN_MODULE)
    (tmp_path / "v2.py").write_text(source_v2)
    v1 = load_module(tmp_path / "v1.py", f"plan_v1_{tmp_path.name}")
    v2 = load_module(tmp_path / "v2.py", f"plan_v2_{tmp_path.name}")
    d1, d2 = v1.describe(DATASET_ID), v2.describe(DATASET_ID)
    # process is unchanged, analyze's body changed.
    shared = set(d1["keys"]) & set(d2["keys"])
    assert len(shared) == len(d1["keys"]) // 2


def test_pinned_version_keeps_the_cache_key_when_the_source_changes() -> None:
    def v1(config, input_atoms, temp_workspace):
        return 1

    def v2(config, input_atoms, temp_workspace):
        return 2

    @dataclasses.dataclass
    class Cfg:
        s: Empty

    def key_of(function) -> str:  # type: ignore[no-untyped-def]
        wf = Workflow(name="w", input_atom_types={}, config_class=Cfg, steps=[
            Step(name="s", function=function, input_atom_types={}, config_class=Empty,
                 version="2")])
        node = next(iter(compile_plan(wf, [{"s": {}}], {}).nodes.values()))
        return node.cache_key({})

    assert key_of(v1) == key_of(v2)


# --- stages -----------------------------------------------------------------------------------


@pytest.fixture
def abc() -> Workflow:
    @dataclasses.dataclass
    class Cfg:
        a: Empty
        b: Empty
        c: Empty

    return Workflow(name="abc", input_atom_types={}, config_class=Cfg, steps=[
        Step(name=n, function=analyze_step, input_atom_types={}, config_class=Empty)
        for n in "abc"
    ])


def test_parse_stages_none_selects_everything(abc: Workflow) -> None:
    assert parse_stages(abc, None) is None


def test_parse_stages_comma_list(abc: Workflow) -> None:
    assert parse_stages(abc, "a,c") == ["a", "c"]


def test_parse_stages_comma_list_tolerates_spaces(abc: Workflow) -> None:
    assert parse_stages(abc, "a, b") == ["a", "b"]


def test_parse_stages_list_of_names(abc: Workflow) -> None:
    assert parse_stages(abc, ["b"]) == ["b"]


def test_parse_stages_closed_range(abc: Workflow) -> None:
    assert parse_stages(abc, "a:c") == ["a", "b", "c"]


def test_parse_stages_open_start_range(abc: Workflow) -> None:
    assert parse_stages(abc, ":b") == ["a", "b"]


def test_parse_stages_open_end_range(abc: Workflow) -> None:
    assert parse_stages(abc, "b:") == ["b", "c"]


def test_parse_stages_unknown_name_lists_stages(abc: Workflow) -> None:
    with pytest.raises(UserError) as info:
        parse_stages(abc, "a,x")
    message = one_line_message(info)
    assert "'x'" in message and "a, b, c" in message


@pytest.mark.parametrize("stages", ["x:c", "a:x", ":x", "x:"])
def test_parse_stages_unknown_name_in_a_range_is_a_user_error(abc: Workflow, stages: str) -> None:
    with pytest.raises(UserError) as info:
        parse_stages(abc, stages)
    message = one_line_message(info)
    assert "'x'" in message and "a, b, c" in message


def test_parse_stages_empty_selection_is_a_user_error(abc: Workflow) -> None:
    with pytest.raises(UserError, match="no stages selected"):
        parse_stages(abc, [])


def test_selected_stage_plan_includes_unselected_upstream_marked_not_to_run() -> None:
    plan = compile_plan(product_workflow(), [config()], {"input_dataset": DATASET_ID},
                        selected_stages=["analyze"])
    run = {n.name: n.run for n in plan.nodes.values()}
    assert run == {"process": False, "analyze": True}


def test_selected_upstream_stage_leaves_downstream_out_of_the_plan() -> None:
    plan = compile_plan(product_workflow(), [config()], {"input_dataset": DATASET_ID},
                        selected_stages=["process"])
    assert [n.name for n in plan.nodes.values()] == ["process"]


def test_resolve_inputs_without_producer_output_is_a_user_error() -> None:
    plan = compile_plan(product_workflow(), [config()], {"input_dataset": DATASET_ID})
    analyze = plan.levels()[1][0]
    with pytest.raises(UserError, match="'output_dataset'"):
        analyze.resolve_inputs({analyze.upstream[0]: {}})


def test_parse_stages_reversed_range_selects_nothing_and_is_a_user_error(abc: Workflow) -> None:
    with pytest.raises(UserError, match="no stages selected"):
        parse_stages(abc, "c:a")


@dataclasses.dataclass
class TrainConfig:
    learning_rate: float = 0.5


@dataclasses.dataclass
class TrainOnly:
    train: TrainConfig


def _train_plan_id(cfg: object) -> str:
    wf = Workflow(name="t", input_atom_types={}, config_class=TrainOnly, steps=[
        Step(name="train", function=analyze_step, input_atom_types={}, config_class=TrainConfig)])
    return next(iter(compile_plan(wf, [cfg], {}).nodes))


def test_dataclass_config_instance_and_equal_dict_give_the_same_plan_id() -> None:
    # `learning_rate: 1` from YAML/dict is validated to 1.0; the same value written in Python as a
    # dataclass instance must hash the same, or the same experiment misses its own cache.
    assert _train_plan_id(TrainOnly(TrainConfig(learning_rate=1))) == _train_plan_id(
        {"train": {"learning_rate": 1}}
    )


def test_dataclass_config_instance_with_a_wrong_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        _train_plan_id(TrainOnly(TrainConfig(learning_rate="fast")))  # type: ignore[arg-type]
