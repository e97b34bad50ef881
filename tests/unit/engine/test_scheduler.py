"""The Scheduler, driven phase by phase with a scripted backend: no Ray, real chains and Ledger.

The scripted backend runs each submitted chain with the real `run_chain` (real steps, real store),
but only when the script lets it finish, so the tests choose the order tasks complete in, and
which tasks die as a worker would past its retries.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from motools.atom import get_store
from motools.engine import Ledger, RunOptions, RunRecord, StepRun
from motools.engine._chain import ChainResult, run_chain
from motools.engine._fuse import Chain
from motools.engine._run_context import RunContext
from motools.engine._schedule import Capabilities, Scheduler
from motools.workflow import AtomConstructor, Plan, Step, Workflow, compile_plan


@dataclasses.dataclass
class StageConfig:
    tag: str = "x"
    fail: bool = False


@dataclasses.dataclass
class ChainConfig:
    first: StageConfig
    second: StageConfig
    third: StageConfig


def _stage(name: str) -> Any:
    def stage(config: StageConfig, input_atoms: dict[str, Any], temp_workspace: Path) -> Any:
        if config.fail:
            raise RuntimeError(f"{name} {config.tag} failed")
        path = temp_workspace / "out.jsonl"
        path.write_text(json.dumps({"stage": name, "tag": config.tag}) + "\n")
        return [AtomConstructor(name=name, path=path, type="dataset")]

    stage.__name__ = name
    return stage


WORKFLOW = Workflow(
    name="three_stages",
    input_atom_types={},
    steps=[
        Step(name="first", function=_stage("first"), input_atom_types={},
             config_class=StageConfig, output_atom_types={"first": "dataset"}),
        Step(name="second", function=_stage("second"), input_atom_types={"first": "dataset"},
             config_class=StageConfig, output_atom_types={"second": "dataset"}),
        Step(name="third", function=_stage("third"), input_atom_types={"second": "dataset"},
             config_class=StageConfig, output_atom_types={"third": "dataset"}),
    ],
    config_class=ChainConfig,
)


def config(tag: str, fail: str | None = None) -> dict[str, Any]:
    return {s: {"tag": tag, "fail": s == fail} for s in ("first", "second", "third")}


class Task:
    """A submitted chain: finished only when the script says so."""

    def __init__(self, chain: Chain, args: tuple[Any, ...], upstream: list[Task]) -> None:
        self.chain, self.args, self.upstream = chain, args, upstream
        self.outcome: ChainResult | Exception | None = None

    @property
    def name(self) -> str:
        return "+".join(n.name for n in self.chain) + ":" + self.chain[0].config.tag


class ScriptedBackend:
    """Finishes one task per `wait`, the most recently submitted one that can run: tasks complete
    in the reverse of their submission order whenever more than one is in flight."""

    capabilities = Capabilities(concurrent=True, queues=False, lends_cpu=False)

    def __init__(self, dies: frozenset[str] = frozenset()) -> None:
        self.dies = dies  # task names whose worker dies past its retries
        self.submitted: list[str] = []
        self.finished: list[str] = []
        self.in_flight = self.most_in_flight = 0

    def start(self, nodes: Any) -> None:
        pass

    def submit(self, chain: Chain, args: tuple[Any, ...], inputs: list[Task]) -> Task:
        task = Task(chain, args, inputs)
        self.submitted.append(task.name)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return task

    def as_input(self, handle: Task) -> Task:
        return handle

    def wait(self, handles: list[Task]) -> list[Task]:
        task = [t for t in handles if all(u.outcome is not None for u in t.upstream)][-1]
        failed_upstream = [u.outcome for u in task.upstream if isinstance(u.outcome, Exception)]
        if task.name in self.dies:
            task.outcome = RuntimeError(f"worker running {task.name} died (retries exhausted)")
        elif failed_upstream:  # as Ray does: a task whose argument failed fails with its error
            task.outcome = failed_upstream[0]
        else:
            task.outcome = run_chain(task.chain, *task.args, *(u.outcome for u in task.upstream))
        self.finished.append(task.name)
        self.in_flight -= 1
        return [task]

    def results(self, handles: list[Task]) -> list[ChainResult | Exception]:
        return [t.outcome for t in handles]  # type: ignore[misc]


class Observed:
    def __init__(self) -> None:
        self.runs: list[StepRun] = []

    def started(self, plan: Plan) -> None:
        pass

    def settled(self, step_run: StepRun) -> None:
        self.runs.append(step_run)


def schedule(tmp_path: Path, configs: list[dict[str, Any]], backend: ScriptedBackend, *,
             fuse: bool, **options: Any) -> tuple[Plan, dict[str, StepRun], RunContext]:
    store = get_store(tmp_path / "store")
    ledger = Ledger(store.ledger_path)
    record = RunRecord(kind="sweep", name="three_stages", user="alice")
    ledger.save_run(record)
    opts = RunOptions(executor="inline", store=store, observe=Observed(), **options)
    run = RunContext(opts, store, ledger, record.id, "alice")
    plan = compile_plan(WORKFLOW, configs, {})
    return plan, Scheduler(plan, run, backend, fuse=fuse).execute(), run


def statuses(plan: Plan, done: dict[str, StepRun], point: int) -> list[str]:
    return [done[pid].status for pid in plan.points[point].values()]


def test_tasks_completing_out_of_order_settle_every_point(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    plan, done, run = schedule(tmp_path, [config(t) for t in "abc"], backend, fuse=False)
    assert backend.finished != backend.submitted  # the script did reorder completions
    assert [statuses(plan, done, i) for i in range(3)] == [["succeeded"] * 3] * 3
    # Every run recorded once, through the driver's Ledger, and shown to the observer.
    recorded = run.ledger.step_runs_of(run.run_id)
    assert sorted(sr.plan_id for sr in recorded) == sorted(plan.nodes)
    assert sorted(sr.plan_id for sr in run.options.observe.runs) == sorted(plan.nodes)


def test_a_failure_mid_chain_keeps_the_step_before_and_skips_the_one_after(
    tmp_path: Path
) -> None:
    backend = ScriptedBackend()
    plan, done, _ = schedule(tmp_path, [config("a", fail="second"), config("b")], backend,
                             fuse=True)
    assert backend.submitted == ["first+second+third:a", "first+second+third:b"]
    assert statuses(plan, done, 0) == ["succeeded", "failed", "skipped"]
    assert statuses(plan, done, 1) == ["succeeded"] * 3
    second = done[plan.points[0]["second"]]
    assert "RuntimeError: second a failed" in (second.error or "")


@pytest.mark.parametrize("max_parallel", [1, 2])
def test_max_parallel_caps_the_tasks_in_flight(tmp_path: Path, max_parallel: int) -> None:
    backend = ScriptedBackend()
    plan, done, _ = schedule(tmp_path, [config(t) for t in "abcde"], backend, fuse=True,
                             max_parallel=max_parallel)
    assert backend.most_in_flight == max_parallel
    assert all(sr.status == "succeeded" for sr in done.values()) and len(done) == 15


def test_a_worker_death_after_retries_fails_its_chain_and_skips_what_depends_on_it(
    tmp_path: Path
) -> None:
    backend = ScriptedBackend(dies=frozenset({"second:a"}))
    plan, done, run = schedule(tmp_path, [config("a"), config("b")], backend, fuse=False)
    assert statuses(plan, done, 0) == ["succeeded", "failed", "skipped"]
    assert "worker running second:a died" in (done[plan.points[0]["second"]].error or "")
    assert statuses(plan, done, 1) == ["succeeded"] * 3
    # The dead task's records reach the Ledger like any others: nothing is left unrecorded.
    assert len(run.ledger.step_runs_of(run.run_id)) == 6

