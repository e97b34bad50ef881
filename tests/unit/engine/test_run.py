"""Tests for the inline engine: run_workflow's front door, execute_node, stale cache entries."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from motools.atom import Atom, get_store
from motools.engine import RunOptions, StepRun, get_ledger
from motools.engine._node import execute_node, one_line
from motools.errors import ArgumentError, UserError
from motools.workflow import (
    AtomConstructor,
    Step,
    Workflow,
    compile_plan,
    dry_run_workflow,
    run_workflow,
)

SEEN: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _reset_seen() -> None:
    SEEN.clear()


@dataclasses.dataclass
class MakeConfig:
    n: int = 2


@dataclasses.dataclass
class SumConfig:
    scale: int = 1


@dataclasses.dataclass
class PipelineConfig:
    make: MakeConfig
    total: SumConfig


def make(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    SEEN.setdefault("calls", []).append("make")
    SEEN["workspace"] = temp_workspace
    SEEN["workspace_was_empty"] = list(temp_workspace.iterdir()) == []
    path = temp_workspace / "nums.jsonl"
    path.write_text("".join(json.dumps({"x": i}) + "\n" for i in range(config.n)))
    return [AtomConstructor(name="nums", path=path, type="dataset")]


def total(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    SEEN.setdefault("calls", []).append("total")
    s = sum(r["x"] for r in input_atoms["nums"].load()) * config.scale
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"sum": {"value": s}}}))
    return [AtomConstructor(name="sum", path=path, type="eval")]


def interrupting(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    raise KeyboardInterrupt


def workflow(total_fn: Any = total) -> Workflow:
    return Workflow(
        name="sums",
        input_atom_types={},
        steps=[
            Step(name="make", function=make, input_atom_types={}, config_class=MakeConfig,
                 output_atom_types={"nums": "dataset"}),
            Step(name="total", function=total_fn, input_atom_types={"nums": "dataset"},
                 config_class=SumConfig),
        ],
        config_class=PipelineConfig,
    )


CONFIG = PipelineConfig(MakeConfig(), SumConfig())


def test_run_workflow_uses_motools_store_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-store"
    monkeypatch.setenv("MOTOOLS_STORE", str(root))
    result = run_workflow(workflow(), {}, CONFIG, user="u", options=RunOptions(executor="inline"))
    assert result.ok
    assert (root / "atoms" / f"{result.output_atoms['sum']}.json").is_file()
    assert (root / "ledger.sqlite").is_file()


def test_run_workflow_defaults_user_to_motools_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTOOLS_USER", "carol")
    result = run_workflow(workflow(), {}, CONFIG,
                          options=RunOptions(store=tmp_path / "store", executor="inline"))
    assert Atom.load(result.output_atoms["sum"], store=tmp_path / "store").user == "carol"


def test_unknown_executor_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown executor 'ray2'"):
        RunOptions(store=tmp_path / "store", executor="ray2")  # type: ignore[arg-type]


def test_run_workflow_takes_its_run_options_as_one_object(tmp_path: Path) -> None:
    store = tmp_path / "store"
    options = RunOptions(executor="inline", store=store, user="dana")
    result = run_workflow(workflow=workflow(), input_atoms={}, config=CONFIG, options=options)
    assert result.ok
    record = get_ledger(get_store(store)).get_run(result.run_id)
    assert record is not None and record.user == "dana"


def test_user_given_directly_fills_in_options_without_a_user(tmp_path: Path) -> None:
    store = tmp_path / "store"
    options = RunOptions(executor="inline", store=store)
    result = run_workflow(workflow(), {}, CONFIG, user="erin", options=options)
    record = get_ledger(get_store(store)).get_run(result.run_id)
    assert record is not None and record.user == "erin"


def test_user_given_twice_and_different_is_refused_before_anything_runs(tmp_path: Path) -> None:
    options = RunOptions(executor="inline", store=tmp_path / "store", user="dana")
    with pytest.raises(ArgumentError, match="user='erin' and options.user='dana' disagree"):
        run_workflow(workflow(), {}, CONFIG, user="erin", options=options)
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("keyword", ["executor", "store", "force_rerun", "no_cache", "address"])
def test_an_execution_keyword_is_refused_and_the_error_says_what_to_write(keyword: str) -> None:
    with pytest.raises(ArgumentError, match=rf"write options=RunOptions\({keyword}=1\) instead"):
        run_workflow(workflow(), {}, CONFIG, **{keyword: 1})


def test_an_unknown_keyword_is_a_type_error_as_python_would_raise() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'exector'"):
        run_workflow(workflow(), {}, CONFIG, exector="inline")


def test_dry_run_workflow_says_what_would_run_and_runs_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    options = RunOptions(executor="inline", store=store)
    before = dry_run_workflow(workflow(), {}, CONFIG, options=options)
    assert [(c.step, c.cached, c.to_run) for c in before] == [("make", 0, 1), ("total", 0, 1)]
    assert "calls" not in SEEN
    assert not store.exists()
    run_workflow(workflow(), {}, CONFIG, options=options)
    after = dry_run_workflow(workflow(), {}, CONFIG, options=options)
    assert [(c.step, c.cached, c.to_run) for c in after] == [("make", 1, 0), ("total", 1, 0)]


def test_dry_run_workflow_names_a_stage_that_cannot_run(tmp_path: Path) -> None:
    options = RunOptions(store=tmp_path / "store")
    counts = dry_run_workflow(workflow(), {}, CONFIG, selected_stages="total", options=options)
    assert (counts[0].step, counts[0].failed) == ("make", 1)
    assert "not selected and has no cached result" in counts[0].errors[0]


class Recorder:
    """A RunObserver: told the plan once per run, then every StepRun as it settles."""

    def __init__(self) -> None:
        self.plans: list[Any] = []
        self.runs: list[StepRun] = []

    def started(self, plan: Any) -> None:
        self.plans.append(plan)

    def settled(self, step_run: StepRun) -> None:
        self.runs.append(step_run)


def test_observer_is_told_the_plan_then_every_step_run_as_it_settles(tmp_path: Path) -> None:
    seen = Recorder()
    store = tmp_path / "store"
    run_workflow(workflow(), {}, CONFIG,
                 options=RunOptions(store=store, executor="inline", observe=seen))
    run_workflow(workflow(), {}, CONFIG,
                 options=RunOptions(store=store, executor="inline", observe=seen))
    assert [sorted(n.name for n in plan.nodes.values()) for plan in seen.plans] == [
        ["make", "total"], ["make", "total"]]
    assert [(r.step, r.status) for r in seen.runs] == [
        ("make", "succeeded"), ("total", "succeeded"), ("make", "cached"), ("total", "cached")]


def test_step_gets_a_fresh_workspace_that_is_removed_afterwards(tmp_path: Path) -> None:
    result = run_workflow(workflow(), {}, CONFIG,
                          options=RunOptions(store=tmp_path / "store", executor="inline"))
    assert result.ok
    assert SEEN["workspace_was_empty"]
    assert not Path(SEEN["workspace"]).exists()


def test_cache_entry_whose_atom_left_the_store_is_recomputed(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = run_workflow(workflow(), {}, CONFIG,
                         options=RunOptions(store=store, executor="inline"))
    (store / "atoms" / f"{first.output_atoms['sum']}.json").unlink()
    SEEN.clear()
    again = run_workflow(workflow(), {}, CONFIG,
                         options=RunOptions(store=store, executor="inline"))
    assert [s.status for s in again.step_states] == ["cached", "succeeded"]
    assert SEEN["calls"] == ["total"]
    assert again.output_atoms == first.output_atoms
    assert Atom.load(again.output_atoms["sum"], store=store).load().metrics == {
        "sum": {"value": 1}}


def test_interrupt_inside_a_step_propagates_and_marks_the_run_interrupted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    runs_before = get_ledger(get_store(store)).list_runs()
    with pytest.raises(KeyboardInterrupt):
        run_workflow(workflow(total_fn=interrupting), {}, CONFIG,
                     options=RunOptions(store=store, executor="inline"))
    runs = get_ledger(get_store(store)).list_runs()
    assert len(runs) == len(runs_before) + 1
    assert runs[0].status == "interrupted"
    # The step that finished before the interrupt is committed and cached.
    SEEN.clear()
    rerun = run_workflow(workflow(), {}, CONFIG,
                         options=RunOptions(store=store, executor="inline"))
    assert [s.status for s in rerun.step_states] == ["cached", "succeeded"]


def test_failed_run_record_counts_statuses(tmp_path: Path) -> None:
    def broken(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
        raise RuntimeError("nope")

    store = tmp_path / "store"
    result = run_workflow(workflow(total_fn=broken), {}, CONFIG,
                          options=RunOptions(store=store, executor="inline"))
    record = get_ledger(get_store(store)).get_run(result.run_id)
    assert record is not None
    assert record.status == "failed"
    assert record.counts == {"succeeded": 1, "failed": 1}


# --- execute_node -------------------------------------------------------------------------------


def _first_node(wf: Workflow):  # type: ignore[no-untyped-def]
    plan = compile_plan(wf, [CONFIG], {})
    return plan.levels()[0][0]


def test_execute_node_returns_a_failure_as_data(tmp_path: Path) -> None:
    def boom(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
        raise ValueError("first line\nsecond line")

    wf = Workflow(name="w", input_atom_types={}, config_class=PipelineConfig, steps=[
        Step(name="make", function=boom, input_atom_types={}, config_class=MakeConfig),
        Step(name="total", function=total, input_atom_types={"nums": "dataset"},
             config_class=SumConfig),
    ])
    node = _first_node(wf)
    run = execute_node(node, {}, node.cache_key({}), get_store(tmp_path / "store"),
                       run_id="run-x", user="u")
    assert run.status == "failed"
    assert run.error == "ValueError: first line"
    assert run.traceback is not None and "second line" in run.traceback
    assert run.outputs == {}
    assert run.ended_at is not None


def test_execute_node_without_cache_writes_no_step_record(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    node = _first_node(workflow())
    key = node.cache_key({})
    run = execute_node(node, {}, key, store, run_id="run-x", user="u", write_cache=False)
    assert run.status == "succeeded"
    assert store.get_step_record(key) is None
    assert store.has_atom(run.outputs["nums"])


def test_execute_node_writes_the_step_record_under_its_key(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    node = _first_node(workflow())
    key = node.cache_key({})
    run = execute_node(node, {}, key, store, run_id="run-x", user="u")
    record = store.get_step_record(key)
    assert record is not None
    assert record["outputs"] == run.outputs
    assert record["status"] == "succeeded"


def test_one_line_keeps_only_the_first_line_and_the_type() -> None:
    assert one_line(ValueError("a\nb")) == "ValueError: a"
    assert one_line(RuntimeError()) == "RuntimeError"
