"""Fused chains: a linear run of steps is one Ray task, and each step is still its own step."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from motools.engine import RunOptions, get_ledger
from motools.engine._fuse import chains, task_options
from motools.workflow import AtomConstructor, Resources, Step, Workflow, compile_plan, run_workflow


@dataclass
class LinkConfig:
    tag: str = ""
    log: str = ""
    fail: bool = False
    wait_for: str = ""  # a file to wait for (a step that waits on a remote job)
    started: str = ""  # a folder to mark "this step started waiting" in
    expect: int = 0  # the number of marks to wait for before writing `wait_for`


def link(config: LinkConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    """Logs its pid; fails, or waits for a file, when told to; returns a metadata-only atom."""
    if config.log:
        with open(config.log, "a") as f:
            f.write(json.dumps({"tag": config.tag, "pid": os.getpid()}) + "\n")
    if config.fail:
        raise RuntimeError(f"{config.tag} was told to fail")
    if config.wait_for:
        Path(config.started, config.tag).touch()
        deadline = time.time() + 60
        while not Path(config.wait_for).exists():
            if time.time() > deadline:
                raise TimeoutError(f"{config.wait_for} never appeared")
            time.sleep(0.05)
    up = sorted(a.id for a in input_atoms.values())
    return [AtomConstructor(name=f"o_{config.tag}", path=None, type="blob",
                            metadata={"tag": config.tag, "up": up})]


def release(config: LinkConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    """Waits until `expect` steps started waiting, then lets them finish."""
    deadline = time.time() + 60
    while len(os.listdir(config.started)) < config.expect:
        if time.time() > deadline:
            raise TimeoutError("the waiting steps never all started")
        time.sleep(0.05)
    Path(config.wait_for).touch()
    return [AtomConstructor(name="o_release", path=None, type="blob", metadata={})]


def chain_workflow(names: list[str], resources: dict[str, Resources] | None = None) -> Workflow:
    resources = resources or {}
    steps = [
        Step(name=name, function=link, config_class=LinkConfig,
             input_atom_types={f"o_{names[i - 1]}": "blob"} if i else {},
             output_atom_types={f"o_{name}": "blob"}, resources=resources.get(name, Resources()))
        for i, name in enumerate(names)
    ]
    fields = dict.fromkeys(names, LinkConfig)
    config_class = dataclass(type("ChainConfig", (), {"__annotations__": fields}))
    return Workflow(name="chain" + "".join(names), input_atom_types={}, steps=steps,
                    config_class=config_class)


def chain_config(names: list[str], log: Path, **per_step: dict) -> dict:
    return {n: {"tag": n, "log": str(log), **per_step.get(n, {})} for n in names}


def logged(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


ABC = ["a", "b", "c"]


def test_a_linear_chain_is_one_task_in_the_plan():
    plan = compile_plan(chain_workflow(ABC), [chain_config(ABC, Path("unused"))], {})
    nodes = list(plan.nodes.values())
    assert [[n.name for n in c] for c in chains(plan, nodes, fuse=True)] == [ABC]
    assert [[n.name for n in c] for c in chains(plan, nodes, fuse=False)] == [["a"], ["b"], ["c"]]


def test_a_gpu_step_and_a_step_asking_for_other_cpus_start_their_own_task():
    names = ["a", "b", "c", "d", "e", "f"]
    wf = chain_workflow(names, {"a": Resources(num_cpus=0), "c": Resources(num_cpus=0),
                                "d": Resources(num_gpus=1), "e": Resources(num_cpus=2)})
    plan = compile_plan(wf, [chain_config(names, Path("unused"))], {})
    grouped = chains(plan, list(plan.nodes.values()), fuse=True)
    assert [[n.name for n in c] for c in grouped] == [["a", "b", "c"], ["d"], ["e"], ["f"]]
    assert task_options(grouped[0])["num_cpus"] == 1  # the CPU-less steps lend it while waiting


def test_a_fused_chain_runs_in_one_task_and_records_and_caches_each_step(tmp_path):
    log = tmp_path / "log"
    wf, cfg = chain_workflow(ABC), chain_config(ABC, log)
    result = run_workflow(wf, {}, cfg, "alice")
    assert result.ok
    assert len({e["pid"] for e in logged(log)}) == 1, "the chain ran in more than one process"

    runs = {r.step: r for r in get_ledger(result.store).step_runs_of(result.run_id)}
    assert sorted(runs) == ABC and all(r.status == "succeeded" for r in runs.values())
    keys = [runs[n].key for n in ABC]
    assert len(set(keys)) == 3 and all(result.store.get_step_record(k) for k in keys)
    for name in ABC:  # each output's provenance names its own step and key
        atom = result.get_atom(f"o_{name}")
        assert (atom.provenance.step, atom.provenance.cache_key) == (name, runs[name].key)

    log.unlink()
    again = run_workflow(wf, {}, cfg, "alice")
    assert [s.status for s in again.step_states] == ["cached"] * 3 and not log.exists()


def test_a_failure_in_the_middle_of_a_fused_chain_keeps_the_steps_before_it(tmp_path):
    log = tmp_path / "log"
    wf = chain_workflow(ABC)
    result = run_workflow(wf, {}, chain_config(ABC, log, b={"fail": True}), "alice")
    status = {s.name: s.status for s in result.step_states}
    assert status == {"a": "succeeded", "b": "failed", "c": "skipped"}
    assert "told to fail" in result.step_states["b"].error
    assert result.step_states["c"].error == "upstream step 'b' did not succeed"
    runs = {r.step: r for r in get_ledger(result.store).step_runs_of(result.run_id)}
    assert runs["a"].status == "succeeded" and runs["a"].key is not None
    assert "RuntimeError" in runs["b"].traceback

    log.unlink()
    rerun = run_workflow(wf, {}, chain_config(ABC, log), "alice")
    assert {s.name: s.status for s in rerun.step_states} == {
        "a": "cached", "b": "succeeded", "c": "succeeded"}
    assert [e["tag"] for e in logged(log)] == ["b", "c"]


@pytest.mark.parametrize("executor", ["ray", "inline"])
def test_fusion_on_and_off_give_the_same_keys_and_atoms(tmp_path, monkeypatch, executor):
    names = ["a", "b", "c", "d"]
    wf = chain_workflow(names, {"c": Resources(num_cpus=0)})
    cfg = chain_config(names, tmp_path / "log")
    found = {}
    for fuse in ("1", "0"):
        monkeypatch.setenv("MOTOOLS_FUSE", fuse)
        result = run_workflow(wf, {}, cfg, "alice",
                              options=RunOptions(store=tmp_path / f"store-{fuse}",
                                                 executor=executor))
        assert result.ok
        runs = get_ledger(result.store).step_runs_of(result.run_id)
        found[fuse] = ({r.step: r.key for r in runs}, result.output_atoms)
    assert found["1"] == found["0"]


def test_a_waiting_step_in_a_fused_chain_lends_its_cpu_back(tmp_path):
    """As many chains as CPUs each wait (num_cpus: 0) for a step that needs a CPU of its own.

    If the chains' tasks kept their CPUs while waiting, that step could never start: the run
    would deadlock (here: the waits time out and fail).
    """
    import ray

    from motools.engine import ensure_ray

    ensure_ray()
    n = int(ray.cluster_resources()["CPU"])
    started, flag = tmp_path / "started", tmp_path / "go"
    started.mkdir()
    steps, config = [], {}
    for i in range(n):
        steps += [
            Step(name=f"work{i}", function=link, config_class=LinkConfig, input_atom_types={},
                 output_atom_types={f"o_work{i}": "blob"}),
            Step(name=f"wait{i}", function=link, config_class=LinkConfig,
                 input_atom_types={f"o_work{i}": "blob"}, output_atom_types={f"o_wait{i}": "blob"},
                 resources=Resources(num_cpus=0)),
        ]
        config[f"work{i}"] = {"tag": f"work{i}"}
        config[f"wait{i}"] = {"tag": f"wait{i}", "wait_for": str(flag), "started": str(started)}
    steps.append(Step(name="release", function=release, config_class=LinkConfig,
                      input_atom_types={}, output_atom_types={"o_release": "blob"}))
    config["release"] = {"wait_for": str(flag), "started": str(started), "expect": n}
    fields = {s.name: LinkConfig for s in steps}
    wf = Workflow(name="lend", input_atom_types={}, steps=steps,
                  config_class=dataclass(type("LendConfig", (), {"__annotations__": fields})))

    result = run_workflow(wf, {}, config, "alice")
    assert result.ok, result.failures


def test_dry_run_shows_which_steps_run_fused_in_one_task(tmp_path, monkeypatch):
    from cli_runner import cli

    repo = Path(__file__).resolve().parents[2]
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: fused\nworkflow: train_and_evaluate\n"
                     f"base: {repo / 'configs' / 'hello_world.yaml'}\n"
                     "grid:\n  submit_training.hyperparameters.seed: [0, 1, 2]\n")
    dry = cli("sweep", "run", sweep, "--dry-run")
    assert dry.code == 0, dry.err
    assert "3 task(s) each run submit_training > wait_for_training > evaluate_model" in dry.out

    monkeypatch.setenv("MOTOOLS_FUSE", "0")
    assert "task(s) each run" not in cli("sweep", "run", sweep, "--dry-run").out
