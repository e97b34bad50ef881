"""The Ray executor: real local Ray (one per test session), real worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from motools.atom import DatasetAtom
from motools.engine import RunOptions, get_ledger
from motools.workflow import AtomConstructor, Resources, Step, Workflow, run_workflow

REPO = Path(__file__).resolve().parents[2]


@dataclass
class SleepConfig:
    seconds: float = 0.0
    log: str = ""
    fail: bool = False
    tag: str = ""


def _log(path: str, event: dict) -> None:
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(event) + "\n")


def sleepy(config: SleepConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    start = time.time()
    _log(config.log, {"event": "start", "tag": config.tag, "pid": os.getpid(), "t": start})
    time.sleep(config.seconds)
    if config.fail:
        raise RuntimeError(f"step {config.tag} was told to fail")
    out = temp_workspace / "out.txt"
    out.write_text(config.tag + "".join(sorted(a.id for a in input_atoms.values())))
    _log(config.log, {"event": "end", "tag": config.tag, "t": time.time()})
    return [AtomConstructor(name=f"out_{config.tag}", path=out, type="blob")]


def events(log: Path, kind: str = "start") -> list[dict]:
    if not log.exists():
        return []
    return [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == kind]


def fan_workflow(n: int, resources: Resources = Resources()) -> Workflow:
    """n independent steps a0..a{n-1}, then one step that consumes all of them."""
    steps = [
        Step(name=f"a{i}", function=sleepy, input_atom_types={}, config_class=SleepConfig,
             output_atom_types={f"out_a{i}": "blob"}, resources=resources)
        for i in range(n)
    ]
    steps.append(Step(name="join", function=sleepy, config_class=SleepConfig,
                      input_atom_types={f"out_a{i}": "blob" for i in range(n)},
                      output_atom_types={"out_join": "blob"}))
    fields = {s.name: SleepConfig for s in steps}
    config_class = dataclass(type("FanConfig", (), {"__annotations__": fields}))
    return Workflow(name=f"fan{n}", input_atom_types={}, steps=steps, config_class=config_class)


def fan_config(n: int, log: Path, seconds: float = 0.0, fail: set[str] = frozenset()) -> dict:
    cfg = {f"a{i}": {"seconds": seconds, "log": str(log), "tag": f"a{i}", "fail": f"a{i}" in fail}
           for i in range(n)}
    cfg["join"] = {"log": str(log), "tag": "join"}
    return cfg


def test_inline_and_ray_give_identical_atom_ids(tmp_path):
    wf, cfg = fan_workflow(2), fan_config(2, tmp_path / "log")
    ray_result = run_workflow(wf, {}, cfg, "alice", options=RunOptions(store=tmp_path / "ray"))
    inline_result = run_workflow(wf, {}, cfg, "alice",
                                 options=RunOptions(store=tmp_path / "inline", executor="inline"))
    assert ray_result.ok and inline_result.ok
    assert ray_result.output_atoms == inline_result.output_atoms


def test_steps_run_in_ray_workers_not_the_driver(tmp_path):
    log = tmp_path / "log"
    result = run_workflow(fan_workflow(2), {}, fan_config(2, log), "alice")
    assert result.ok
    pids = {e["pid"] for e in events(log)}
    assert pids and os.getpid() not in pids
    runs = get_ledger(result.store).step_runs_of(result.run_id)
    assert {r.pid for r in runs if r.status == "succeeded"} == pids


def test_independent_steps_run_concurrently(tmp_path):
    log = tmp_path / "log"
    result = run_workflow(fan_workflow(2), {}, fan_config(2, log, seconds=1.5), "alice")
    assert result.ok
    starts = {e["tag"]: e["t"] for e in events(log)}
    ends = {e["tag"]: e["t"] for e in events(log, "end")}
    assert starts["a0"] < ends["a1"] and starts["a1"] < ends["a0"], "a0 and a1 did not overlap"


def test_failing_branch_fails_only_its_downstream_and_rerun_executes_only_it(tmp_path):
    log = tmp_path / "log"
    wf = fan_workflow(3)
    result = run_workflow(wf, {}, fan_config(3, log, fail={"a1"}), "alice")
    status = {s.name: s.status for s in result.step_states}
    assert status == {"a0": "succeeded", "a1": "failed", "a2": "succeeded", "join": "skipped"}
    assert "told to fail" in result.step_states["a1"].error
    traceback = get_ledger(result.store).step_run(result.step_states["a1"].step_run_id).traceback
    assert "RuntimeError" in traceback

    log.unlink()
    rerun = run_workflow(wf, {}, fan_config(3, log), "alice")
    assert rerun.ok
    assert sorted(e["tag"] for e in events(log)) == ["a1", "join"]
    assert {s.name: s.status for s in rerun.step_states}["a0"] == "cached"


def test_concurrency_group_caps_running_tasks(tmp_path):
    log = tmp_path / "log"
    # num_cpus=0: without the group, all six would run at once on two cores.
    wf = fan_workflow(6, Resources(num_cpus=0, concurrency_group="api", concurrency_limit=2))
    result = run_workflow(wf, {}, fan_config(6, log, seconds=0.6), "alice")
    assert result.ok
    spans = [(s["t"], e["t"]) for s in events(log) for e in events(log, "end")
             if s["tag"] == e["tag"] and s["tag"] != "join"]
    assert len(spans) == 6
    most = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
    assert most == 2


def test_fully_cached_rerun_starts_no_ray(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import ray
        from test_ray_executor import fan_workflow, fan_config
        from motools.workflow import run_workflow
        wf, cfg = fan_workflow(2), fan_config(2, {str(tmp_path / 'log')!r})
        assert run_workflow(wf, {{}}, cfg, "alice").ok
        ray.shutdown()
        result = run_workflow(wf, {{}}, cfg, "alice")
        print([s.status for s in result.step_states], ray.is_initialized())
        """
    )
    env = {**os.environ, "MOTOOLS_STORE": str(tmp_path / "store-sub")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['cached', 'cached', 'cached'] False"


def test_two_drivers_compute_each_key_once(tmp_path):
    log = tmp_path / "log"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_ray_executor import fan_workflow, fan_config
        from motools import RunOptions, run_workflow
        result = run_workflow(fan_workflow(3), {{}}, fan_config(3, {str(log)!r}, seconds=1.0),
                              "alice", options=RunOptions(executor=sys.argv[1]))
        print(result.ok, sorted(result.output_atoms.items()))
        """
    )
    env = {**os.environ, "MOTOOLS_STORE": str(tmp_path / "shared-store"), "MOTOOLS_LEASE_TTL": "5"}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, executor], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for executor in ("ray", "inline")
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    lines = [o[0].strip().splitlines()[-1] for o in outs]
    assert lines[0] == lines[1] and lines[0].startswith("True")
    assert sorted(e["tag"] for e in events(log)) == ["a0", "a1", "a2", "join"]


def test_dataset_outputs_reach_downstream_steps_through_the_object_store(tmp_path):
    def make(config: SleepConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
        path = temp_workspace / "d.jsonl"
        path.write_text('{"x": 1}\n{"x": 2}\n')
        return [AtomConstructor(name="data", path=path, type="dataset")]

    def count(config: SleepConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
        atom = input_atoms["data"]
        # Preloaded from the upstream task's result, not read back from the store.
        assert atom._dataset is not None, "dataset was not handed over in memory"
        path = temp_workspace / "n.txt"
        path.write_text(str(len(atom.load())))
        return [AtomConstructor(name="n", path=path, type="blob")]

    @dataclass
    class Cfg:
        make: SleepConfig
        count: SleepConfig

    wf = Workflow(name="handover", input_atom_types={}, config_class=Cfg, steps=[
        Step(name="make", function=make, input_atom_types={}, config_class=SleepConfig,
             output_atom_types={"data": "dataset"}),
        Step(name="count", function=count, input_atom_types={"data": "dataset"},
             config_class=SleepConfig, output_atom_types={"n": "blob"}),
    ])
    result = run_workflow(wf, {}, {"make": {}, "count": {}}, "alice")
    assert result.ok, result.failures
    assert (result.get_atom("n").local_path() / "n.txt").read_text() == "2"
    assert len(DatasetAtom.load(result.output_atoms["data"], store=result.store).load()) == 2


@dataclass
class FlakyConfig:
    marker: str = ""
    how: str = "raise"  # or "die": kill the worker process itself


def flaky(config: FlakyConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    marker = Path(config.marker)
    with open(marker.with_suffix(".starts"), "a") as f:
        f.write(f"{os.getpid()}\n")
    if not marker.exists():
        marker.write_text("failed once")
        if config.how == "die":
            os.kill(os.getpid(), 9)
        raise RuntimeError("transient failure")
    out = temp_workspace / "ok.txt"
    out.write_text("ok")
    return [AtomConstructor(name="ok", path=out, type="blob")]


def flaky_workflow(resources: Resources) -> Workflow:
    @dataclass
    class Cfg:
        flaky: FlakyConfig

    return Workflow(name="flaky", input_atom_types={}, config_class=Cfg, steps=[
        Step(name="flaky", function=flaky, input_atom_types={}, config_class=FlakyConfig,
             output_atom_types={"ok": "blob"}, resources=resources),
    ])


def test_a_dying_worker_is_retried_by_ray_and_the_output_exists_once(tmp_path):
    marker = tmp_path / "flaky"
    result = run_workflow(flaky_workflow(Resources(max_retries=2)), {},
                          {"flaky": {"marker": str(marker), "how": "die"}}, "alice")
    assert result.ok, result.failures
    starts = marker.with_suffix(".starts").read_text().split()
    assert len(starts) == 2 and starts[0] != starts[1], "the retry did not run in a new worker"
    atoms = [p for p in (result.store.local_root / "atoms").glob("blob-*.json")]
    assert len(atoms) == 1


def test_a_step_exception_is_not_retried_by_default(tmp_path):
    marker = tmp_path / "flaky"
    result = run_workflow(flaky_workflow(Resources()), {}, {"flaky": {"marker": str(marker)}},
                          "alice")
    assert [s.status for s in result.step_states] == ["failed"]
    assert len(marker.with_suffix(".starts").read_text().split()) == 1


def test_a_step_that_opts_in_is_retried_after_an_exception(tmp_path):
    marker = tmp_path / "flaky"
    result = run_workflow(flaky_workflow(Resources(max_retries=1, retry_exceptions=True)), {},
                          {"flaky": {"marker": str(marker)}}, "alice")
    assert result.ok
    assert len(marker.with_suffix(".starts").read_text().split()) == 2


def test_per_step_resource_overrides_apply_and_unknown_fields_are_refused(tmp_path):
    marker = tmp_path / "flaky"
    wf = flaky_workflow(Resources())
    result = run_workflow(wf, {}, {"flaky": {"marker": str(marker)}}, "alice",
                          options=RunOptions(resources={"flaky": {"retry_exceptions": True,
                                                                  "max_retries": 1}}))
    assert result.ok
    with pytest.raises(Exception, match="unknown field"):
        run_workflow(wf, {}, {"flaky": {"marker": str(marker)}}, "alice",
                     options=RunOptions(resources={"flaky": {"gpus": 1}}))


@dataclass
class EmptyConfig:
    pass


def options_seen(config: EmptyConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    import pickle

    from motools.engine._chain import running_context

    context = running_context()
    out = temp_workspace / "options.pickle"
    out.write_bytes(pickle.dumps((os.getpid(), context.options if context else None)))
    return [AtomConstructor(name="seen", path=out, type="blob")]


def test_the_run_options_reach_the_ray_task_unchanged(tmp_path: Path) -> None:
    import pickle

    from motools.atom import Atom

    step = Step(name="see", function=options_seen, input_atom_types={}, config_class=EmptyConfig,
                output_atom_types={"seen": "blob"})
    wf = Workflow(name="see_options", input_atom_types={}, steps=[step],
                  config_class=dataclass(type("SeeConfig", (), {"__annotations__": {
                      "see": EmptyConfig}})))
    options = RunOptions(store=str(tmp_path / "store"), user="alice", max_parallel=3,
                         force_rerun={"see"}, resources={"see": {"num_cpus": 1}})
    result = run_workflow(wf, {}, {"see": {}}, options=options)
    assert result.ok
    atom = Atom.load(result.output_atoms["seen"], store=tmp_path / "store")
    pid, seen = pickle.loads(next(iter(atom.local_path().iterdir())).read_bytes())
    assert pid != os.getpid()  # a Ray worker, not this process
    assert seen == options


def test_a_process_on_another_host_reaches_the_ledger_through_its_actor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reach_ledger` picks the actor when the Ledger's actor runs on another machine."""
    from motools.atom import get_store
    from motools.engine import _access, ensure_ray, reach_ledger

    ensure_ray()
    store = get_store(tmp_path / "store")
    _access.start_ledger_actor(store)
    # This process now claims to be elsewhere than the actor (which is on the file's machine).
    monkeypatch.setattr(_access.socket, "gethostname", lambda: "another-node")
    monkeypatch.setattr(_access, "_routes", {})
    remote = reach_ledger(store)
    assert isinstance(remote, _access.ActorLedger)
    assert remote.claim_many(["k"], "plugin@another-node:1", 60) == {"k": "plugin@another-node:1"}
    # The claim went through the actor into the store's one Ledger file.
    assert get_ledger(store).claim_many(["k"], "someone-else", 60)["k"] == "plugin@another-node:1"
