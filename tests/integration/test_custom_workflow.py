"""The product page's custom workflow (`my_step` / `analyze_step`), run for real.

Every test gets its own store under tmp_path. Step executions are counted through a side effect that
any process can make: each step appends its name to `calls.txt` beside the store it reads from, so
the count is right whether the step ran in this process (`executor="inline"`) or in a Ray worker
(the default executor). Most tests use the inline executor (fast); the `executor` fixture runs the
core acceptance checks on both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from module_loading import load_module

from motools._errors import MotoolsError, UserError
from motools.atom import Atom, Dataset, DatasetAtom, EvalResults, get_store
from motools.engine import RunOptions, get_ledger
from motools.workflow import AtomConstructor, Step, Workflow, WorkflowResult, run_workflow


def record_call(name: str, atom: Atom) -> None:
    """Append `name` to calls.txt next to the store that holds `atom`."""
    root = atom.store.local_root
    assert root is not None
    with open(root.parent / "calls.txt", "a", encoding="utf-8") as f:
        f.write(name + "\n")


def chat(user: str, assistant: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


RECORDS = [chat("hi", "Hello, World!"), chat("2+2?", "4"), chat("name?", "motools")]


# --- the product page's steps, filled in -------------------------------------------------------


def my_step(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    record_call("process", input_atoms["input_dataset"])
    # 1. Load input
    input_data = input_atoms["input_dataset"].load()
    # 2. Process: keep at most max_samples rows, prefix every assistant answer
    rows = input_data.to_records()[: config.max_samples]
    for row in rows:
        for message in row["messages"]:
            if message["role"] == "assistant":
                message["content"] = config.prefix + message["content"]
    # 3. Save to workspace
    output_path = temp_workspace / "output.jsonl"
    Dataset.from_records(rows).to_jsonl(output_path)
    # 4. Return atom constructor
    return [AtomConstructor(name="output_dataset", path=output_path, type="dataset")]


def analyze_step(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    record_call("analyze", input_atoms["output_dataset"])
    answers = [m["content"] for row in input_atoms["output_dataset"].load()
               for m in row["messages"] if m["role"] == "assistant"]
    long = sum(len(a) >= config.min_length for a in answers)
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"analyze": {"n": len(answers), "long": long,
                                                         "first": answers[0]}}}))
    return [AtomConstructor(name="analysis", path=path, type="eval")]


async def async_analyze_step(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    await asyncio.sleep(0)
    record_call("async_analyze", input_atoms["output_dataset"])
    n = len(input_atoms["output_dataset"].load())
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"analyze": {"n": n}}}))
    return [AtomConstructor(name="analysis", path=path, type="eval")]


def failing_step(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    record_call("failing", input_atoms["input_dataset"])
    raise ValueError("cannot process this dataset\nsecond line of detail")


def mislabelled_step(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    record_call("mislabelled", input_atoms["input_dataset"])
    path = temp_workspace / "output.jsonl"
    input_atoms["input_dataset"].load().to_jsonl(path)
    return [AtomConstructor(name="output_dataset", path=path, type="model")]


# --- configs: a dataclass flavour and a pydantic flavour -----------------------------------


@dataclasses.dataclass
class MyStepConfig:
    prefix: str = ""
    max_samples: int = 100


@dataclasses.dataclass
class AnalyzeConfig:
    min_length: int = 0


@dataclasses.dataclass
class MyWorkflowConfig:
    process: MyStepConfig
    analyze: AnalyzeConfig


class PydMyStepConfig(pydantic.BaseModel):
    prefix: str = ""
    max_samples: int = 100


class PydAnalyzeConfig(pydantic.BaseModel):
    min_length: int = 0


class PydMyWorkflowConfig(pydantic.BaseModel):
    process: PydMyStepConfig
    analyze: PydAnalyzeConfig


def build_workflow(
    flavour: str = "dataclass",
    process_fn: Any = my_step,
    analyze_fn: Any = analyze_step,
    **process_kwargs: Any,
) -> Workflow:
    classes = {
        "dataclass": (MyStepConfig, AnalyzeConfig, MyWorkflowConfig),
        "pydantic": (PydMyStepConfig, PydAnalyzeConfig, PydMyWorkflowConfig),
    }[flavour]
    step_cls, analyze_cls, workflow_cls = classes
    return Workflow(
        name="my_pipeline",
        input_atom_types={},
        steps=[
            Step(
                name="process",
                function=process_fn,
                input_atom_types={"input_dataset": "dataset"},
                config_class=step_cls,
                **process_kwargs,
            ),
            Step(
                name="analyze",
                function=analyze_fn,
                input_atom_types={"output_dataset": "dataset"},
                config_class=analyze_cls,
            ),
        ],
        config_class=workflow_cls,
    )


def make_config(flavour: str = "dataclass", prefix: str = "> ", max_samples: int = 100,
                min_length: int = 0) -> Any:
    if flavour == "pydantic":
        return PydMyWorkflowConfig(process=PydMyStepConfig(prefix=prefix, max_samples=max_samples),
                                   analyze=PydAnalyzeConfig(min_length=min_length))
    return MyWorkflowConfig(MyStepConfig(prefix=prefix, max_samples=max_samples),
                            AnalyzeConfig(min_length=min_length))


class Pipeline:
    """One store with the input dataset in it, a way to run the workflow, and the step calls."""

    def __init__(self, tmp_path: Path, flavour: str = "dataclass", executor: str = "inline"
                 ) -> None:
        self.store = tmp_path / "store"
        self.calls_file = tmp_path / "calls.txt"  # where record_call writes for this store
        self.flavour = flavour
        self.executor = executor
        self.input = DatasetAtom.from_records(RECORDS, user="alice", store=self.store)
        self.workflow = build_workflow(flavour)
        self._seen = 0

    def run(self, workflow: Workflow | None = None, config: Any = None,
            selected_stages: Any = None, **options: Any) -> WorkflowResult:
        options.setdefault("executor", self.executor)
        return run_workflow(workflow=workflow or self.workflow,
                            input_atoms={"input_dataset": self.input.id},
                            config=config if config is not None else make_config(self.flavour),
                            user="alice", selected_stages=selected_stages,
                            options=RunOptions(store=self.store, **options))

    def calls(self) -> list[str]:
        """The step executions since the previous call of this method."""
        lines = self.calls_file.read_text().split() if self.calls_file.exists() else []
        new, self._seen = lines[self._seen:], len(lines)
        return new


def statuses(result: WorkflowResult) -> dict[str, str]:
    return {s.name: s.status for s in result.step_states}


@pytest.fixture(params=["dataclass", "pydantic"])
def pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Pipeline:
    """The product workflow with dataclass or pydantic configs, on the inline executor."""
    return Pipeline(tmp_path, request.param)


@pytest.fixture(params=["inline", "ray"])
def on_executor(request: pytest.FixtureRequest, tmp_path: Path) -> Pipeline:
    """The product workflow (dataclass configs) on each executor."""
    return Pipeline(tmp_path, executor=request.param)


# --- (a) first run, (b) second run ------------------------------------------------------------


def test_first_run_executes_both_steps(pipeline: Pipeline) -> None:
    result = pipeline.run()
    assert result.ok
    assert result.failures == []
    assert statuses(result) == {"process": "succeeded", "analyze": "succeeded"}
    assert pipeline.calls() == ["process", "analyze"]
    analysis = result.get_atom("analysis").load()
    assert isinstance(analysis, EvalResults)
    assert analysis.metrics == {"analyze": {"n": 3, "long": 3, "first": "> Hello, World!"}}


def test_first_run_executes_both_steps_on_each_executor(on_executor: Pipeline) -> None:
    result = on_executor.run()
    assert result.ok
    assert statuses(result) == {"process": "succeeded", "analyze": "succeeded"}
    assert on_executor.calls() == ["process", "analyze"]
    assert result.get_atom("analysis").load().metrics["analyze"]["n"] == 3


def test_first_run_records_provenance_on_outputs(pipeline: Pipeline) -> None:
    result = pipeline.run()
    out = Atom.load(result.output_atoms["output_dataset"], store=pipeline.store)
    assert out.user == "alice"
    assert out.made_from == {"input_dataset": pipeline.input.id}
    assert out.provenance.step == "process"
    recorded = next(sr for sr in get_ledger(get_store(pipeline.store)).step_runs_of(result.run_id)
                    if sr.step == "process")
    assert result.step_states["process"].runtime_seconds == (
        recorded.ended_at - recorded.started_at) > 0
    assert result.step_states["process"].cache_key is not None


def test_second_identical_run_executes_no_step(pipeline: Pipeline) -> None:
    first = pipeline.run()
    pipeline.calls()
    second = pipeline.run()
    assert second.ok
    assert statuses(second) == {"process": "cached", "analyze": "cached"}
    assert all(s.cached for s in second.step_states)
    assert pipeline.calls() == []
    assert second.output_atoms == first.output_atoms
    assert second.run_id != first.run_id


def test_second_identical_run_executes_no_step_on_each_executor(on_executor: Pipeline) -> None:
    first = on_executor.run()
    on_executor.calls()
    second = on_executor.run()
    assert statuses(second) == {"process": "cached", "analyze": "cached"}
    assert on_executor.calls() == []
    assert second.output_atoms == first.output_atoms


def test_runs_on_either_executor_share_one_cache(tmp_path: Path) -> None:
    p = Pipeline(tmp_path, executor="inline")
    first = p.run()
    p.calls()
    second = p.run(executor="ray")
    assert statuses(second) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []
    assert second.output_atoms == first.output_atoms


def test_input_atom_may_be_passed_as_an_atom_object(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    result = run_workflow(workflow=p.workflow, input_atoms={"input_dataset": p.input},
                          config=make_config(), user="alice",
                          options=RunOptions(store=p.store, executor="inline"))
    assert statuses(result) == {"process": "succeeded", "analyze": "succeeded"}


def test_config_may_be_a_plain_dict(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    first = p.run()
    p.calls()
    as_dict = p.run(config={"process": {"prefix": "> ", "max_samples": 100},
                            "analyze": {"min_length": 0}})
    assert statuses(as_dict) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []
    assert as_dict.output_atoms == first.output_atoms


def test_step_output_identical_to_an_existing_atom_is_that_atom(tmp_path: Path) -> None:
    # prefix "" reproduces the input records exactly: one content, one atom, whoever made it.
    p = Pipeline(tmp_path)
    result = p.run(config=make_config(prefix=""))
    assert result.ok
    assert result.output_atoms["output_dataset"] == p.input.id
    # The first producer's provenance wins: the atom was made by hand, not by the step.
    assert Atom.load(p.input.id, store=p.store).made_from == {}


# --- (c) config changes and early cutoff ------------------------------------------------------


def test_changing_analyze_config_reruns_only_analyze(pipeline: Pipeline) -> None:
    first = pipeline.run()
    pipeline.calls()
    result = pipeline.run(config=make_config(pipeline.flavour, min_length=5))
    assert statuses(result) == {"process": "cached", "analyze": "succeeded"}
    assert pipeline.calls() == ["analyze"]
    assert result.output_atoms["output_dataset"] == first.output_atoms["output_dataset"]
    assert result.get_atom("analysis").load().metrics["analyze"]["long"] == 2


def test_changing_process_config_that_changes_content_reruns_both(pipeline: Pipeline) -> None:
    first = pipeline.run()
    pipeline.calls()
    result = pipeline.run(config=make_config(pipeline.flavour, prefix=">> "))
    assert statuses(result) == {"process": "succeeded", "analyze": "succeeded"}
    assert pipeline.calls() == ["process", "analyze"]
    assert result.output_atoms["output_dataset"] != first.output_atoms["output_dataset"]
    assert result.get_atom("analysis").load().metrics["analyze"]["first"] == ">> Hello, World!"


def test_process_rerun_that_reproduces_identical_content_leaves_analyze_cached(
    pipeline: Pipeline,
) -> None:
    # max_samples 100 -> 50 changes process's key, but the input has only 3 rows, so the output
    # dataset is the same atom and analyze's key is unchanged (early cutoff).
    first = pipeline.run()
    pipeline.calls()
    result = pipeline.run(config=make_config(pipeline.flavour, max_samples=50))
    assert statuses(result) == {"process": "succeeded", "analyze": "cached"}
    assert pipeline.calls() == ["process"]
    assert result.output_atoms == first.output_atoms
    assert (result.step_states["process"].cache_key
            != first.step_states["process"].cache_key)
    assert result.step_states["analyze"].cache_key == first.step_states["analyze"].cache_key


def test_early_cutoff_on_each_executor(on_executor: Pipeline) -> None:
    on_executor.run()
    on_executor.calls()
    same_content = on_executor.run(config=make_config(max_samples=50))
    assert statuses(same_content) == {"process": "succeeded", "analyze": "cached"}
    assert on_executor.calls() == ["process"]
    new_content = on_executor.run(config=make_config(prefix=">> "))
    assert statuses(new_content) == {"process": "succeeded", "analyze": "succeeded"}
    assert on_executor.calls() == ["process", "analyze"]


def test_changing_config_back_is_served_from_cache(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    p.run()
    p.run(config=make_config(prefix=">> "))
    p.calls()
    back = p.run()
    assert statuses(back) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []


# --- (d) editing a step function's body -------------------------------------------------------

ANALYZE_MODULE_V1 = """
import json

from motools.workflow import AtomConstructor


def analyze_step(config, input_atoms, temp_workspace):
    with open(input_atoms["output_dataset"].store.local_root.parent / "calls.txt", "a") as f:
        f.write("analyze\\n")
    n = len(input_atoms["output_dataset"].load())
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"analyze": {"n": n}}}))
    return [AtomConstructor(name="analysis", path=path, type="eval")]
"""

ANALYZE_MODULE_V2 = ANALYZE_MODULE_V1.replace('{"n": n}', '{"n": n, "edited": True}')




def test_editing_a_step_function_body_reruns_that_step(tmp_path: Path) -> None:
    source = tmp_path / "user_steps.py"
    p = Pipeline(tmp_path)

    source.write_text(ANALYZE_MODULE_V1)
    v1 = load_module(source, f"user_steps_v1_{tmp_path.name}")
    first = p.run(workflow=build_workflow(analyze_fn=v1.analyze_step))
    assert statuses(first) == {"process": "succeeded", "analyze": "succeeded"}
    assert p.calls() == ["process", "analyze"]

    # Same file, same function name, a different body: what a user's edit looks like.
    source.write_text(ANALYZE_MODULE_V2)
    v2 = load_module(source, f"user_steps_v2_{tmp_path.name}")
    edited = p.run(workflow=build_workflow(analyze_fn=v2.analyze_step))
    assert statuses(edited) == {"process": "cached", "analyze": "succeeded"}
    assert p.calls() == ["analyze"]
    assert edited.get_atom("analysis").load().metrics == {"analyze": {"n": 3, "edited": True}}


def test_editing_a_pinned_step_body_does_not_rerun_it(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    (tmp_path / "pinned_v1.py").write_text(ANALYZE_MODULE_V1)
    (tmp_path / "pinned_v2.py").write_text(ANALYZE_MODULE_V2)
    v1 = load_module(tmp_path / "pinned_v1.py", f"pinned_v1_{tmp_path.name}")
    v2 = load_module(tmp_path / "pinned_v2.py", f"pinned_v2_{tmp_path.name}")

    def pinned(fn: Any) -> Workflow:
        wf = build_workflow(analyze_fn=fn)
        analyze = dataclasses.replace(wf.steps[1], version="2")
        return dataclasses.replace(wf, steps=[wf.steps[0], analyze])

    p.run(workflow=pinned(v1.analyze_step))
    p.calls()
    again = p.run(workflow=pinned(v2.analyze_step))
    assert statuses(again) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []


# --- (e) async steps --------------------------------------------------------------------------


def test_async_step_runs(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    result = p.run(workflow=build_workflow(analyze_fn=async_analyze_step))
    assert result.ok
    assert statuses(result) == {"process": "succeeded", "analyze": "succeeded"}
    assert p.calls() == ["process", "async_analyze"]
    assert result.get_atom("analysis").load().metrics == {"analyze": {"n": 3}}


def test_async_step_result_is_cached(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    wf = build_workflow(analyze_fn=async_analyze_step)
    p.run(workflow=wf)
    p.calls()
    assert statuses(p.run(workflow=wf)) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []


def test_async_step_runs_when_called_from_a_running_event_loop(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)

    async def notebook_cell() -> WorkflowResult:
        return p.run(workflow=build_workflow(analyze_fn=async_analyze_step))

    result = asyncio.run(notebook_cell())
    assert result.ok
    assert p.calls() == ["process", "async_analyze"]


# --- (f) force_rerun, (g) no_cache --------------------------------------------------------------


def test_force_rerun_executes_again_with_identical_atom_ids(pipeline: Pipeline) -> None:
    first = pipeline.run()
    pipeline.calls()
    forced = pipeline.run(force_rerun=True)
    assert statuses(forced) == {"process": "succeeded", "analyze": "succeeded"}
    assert pipeline.calls() == ["process", "analyze"]
    assert forced.output_atoms == first.output_atoms
    assert statuses(pipeline.run()) == {"process": "cached", "analyze": "cached"}
    assert pipeline.calls() == []


def test_no_cache_run_leaves_nothing_cached(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    uncached = p.run(no_cache=True)
    assert statuses(uncached) == {"process": "succeeded", "analyze": "succeeded"}
    assert p.calls() == ["process", "analyze"]

    normal = p.run()
    assert statuses(normal) == {"process": "succeeded", "analyze": "succeeded"}
    assert p.calls() == ["process", "analyze"]
    assert normal.output_atoms == uncached.output_atoms

    assert statuses(p.run()) == {"process": "cached", "analyze": "cached"}
    assert p.calls() == []


# --- (h) selected stages ----------------------------------------------------------------------


def test_forced_selected_stage_executes_only_that_stage(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    first = p.run()
    p.calls()
    result = p.run(force_rerun=True, selected_stages=["analyze"])
    assert result.ok
    assert statuses(result) == {"process": "cached", "analyze": "succeeded"}
    assert p.calls() == ["analyze"]
    assert result.output_atoms == first.output_atoms


def test_selected_stage_string_form_works(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    p.run()
    p.calls()
    result = p.run(force_rerun=True, selected_stages="analyze")
    assert statuses(result) == {"process": "cached", "analyze": "succeeded"}
    assert p.calls() == ["analyze"]


def test_selected_stage_on_a_fresh_store_fails_its_uncached_upstream(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    result = p.run(selected_stages=["analyze"])
    assert not result.ok
    assert p.calls() == []
    assert statuses(result) == {"process": "failed", "analyze": "skipped"}
    by_name = {s.name: s for s in result.failures}
    assert set(by_name) == {"process", "analyze"}
    process_error = by_name["process"].error
    assert process_error is not None and "\n" not in process_error
    assert "'process'" in process_error and "not selected" in process_error
    assert "no cached result" in process_error
    assert "'process'" in (by_name["analyze"].error or "")


def test_unknown_selected_stage_is_a_user_error_before_anything_runs(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    with pytest.raises(UserError, match="process, analyze"):
        p.run(selected_stages=["analyse"])
    assert p.calls() == []


# --- (i) a failing step -----------------------------------------------------------------------


def test_failing_step_fails_softly_and_skips_downstream(on_executor: Pipeline) -> None:
    result = on_executor.run(workflow=build_workflow(process_fn=failing_step))
    assert not result.ok
    assert statuses(result) == {"process": "failed", "analyze": "skipped"}
    assert on_executor.calls() == ["failing"]
    process = result.step_states["process"]
    assert process.error == "ValueError: cannot process this dataset"
    assert process.output_atoms == {}
    assert "'process'" in (result.step_states["analyze"].error or "")
    assert [s.name for s in result.failures] == ["process", "analyze"]
    run = get_ledger(get_store(on_executor.store)).step_run(process.step_run_id)
    assert run is not None and "failing_step" in (run.traceback or "")


def test_failing_step_is_not_cached(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    wf = build_workflow(process_fn=failing_step)
    p.run(workflow=wf)
    again = p.run(workflow=wf)
    assert statuses(again) == {"process": "failed", "analyze": "skipped"}
    assert p.calls() == ["failing", "failing"]


def test_failing_step_traceback_is_stored_in_the_ledger(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    result = p.run(workflow=build_workflow(process_fn=failing_step))
    state = result.step_states["process"]
    run = get_ledger(get_store(p.store)).step_run(state.step_run_id)
    assert run is not None
    assert run.status == "failed"
    assert run.traceback is not None
    assert "Traceback" in run.traceback
    assert "failing_step" in run.traceback
    assert "second line of detail" in run.traceback


def test_failing_run_raise_for_failures_names_the_step(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    result = p.run(workflow=build_workflow(process_fn=failing_step))
    with pytest.raises(MotoolsError, match="process: ValueError: cannot process"):
        result.raise_for_failures()


def test_fixed_step_after_a_failure_runs_and_caches(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    p.run(workflow=build_workflow(process_fn=failing_step))
    p.calls()
    fixed = p.run()
    assert statuses(fixed) == {"process": "succeeded", "analyze": "succeeded"}
    assert p.calls() == ["process", "analyze"]


# --- (j) declared outputs that disagree with what the step returns ---------------------------


def test_step_returning_other_outputs_than_declared_fails_with_step_output_error(
    tmp_path: Path,
) -> None:
    p = Pipeline(tmp_path)
    wf = build_workflow(process_fn=mislabelled_step,
                        output_atom_types={"output_dataset": "dataset"})
    result = p.run(workflow=wf)
    assert not result.ok
    assert p.calls() == ["mislabelled"]
    state = result.step_states["process"]
    assert state.status == "failed"
    assert state.error is not None and state.error.startswith("StepOutputError:")
    assert "declared outputs" in state.error
    assert "'output_dataset': 'dataset'" in state.error
    assert "'output_dataset': 'model'" in state.error
    assert result.step_states["analyze"].status == "skipped"


def test_step_returning_a_missing_declared_output_fails(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    wf = build_workflow(output_atom_types={"output_dataset": "dataset", "extra": "eval"})
    result = p.run(workflow=wf)
    assert p.calls() == ["process"]
    state = result.step_states["process"]
    assert state.status == "failed"
    assert (state.error or "").startswith("StepOutputError:")
    assert "'extra'" in (state.error or "")


def test_step_returning_a_non_list_fails_with_step_output_error(tmp_path: Path) -> None:
    def returns_dict(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
        return {"output_dataset": "not a constructor"}

    p = Pipeline(tmp_path)
    result = p.run(workflow=build_workflow(process_fn=returns_dict))
    state = result.step_states["process"]
    assert state.status == "failed"
    assert (state.error or "").startswith("StepOutputError:")
    assert "list of AtomConstructor" in (state.error or "")


def test_missing_input_atom_is_a_user_error_with_a_hint(tmp_path: Path) -> None:
    p = Pipeline(tmp_path)
    with pytest.raises(UserError, match=r"pass input_atoms=\{'input_dataset'"):
        run_workflow(workflow=p.workflow, input_atoms={}, config=make_config(), user="alice",
                     options=RunOptions(store=p.store, executor="inline"))
    assert p.calls() == []
