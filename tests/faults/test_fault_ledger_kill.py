"""SIGKILL the Ledger actor's process, again and again, mid-sweep: the sweep loses nothing, the actor
comes back (tasks on other nodes of a cluster reach the Ledger through it; the driver commits to
the file)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from fault_drivers import alive, wait_until
from fault_steps import faults_workflow, read_events

from motools.atom import get_store
from motools.engine import Ledger, RunOptions, get_ledger
from motools.sweep import run_sweep

TAGS = [f"p{i}" for i in range(12)]
KILLS = 3


def _ledger_pid(name: str) -> int | None:
    """The pid of the named Ledger actor's process, or None while it does not exist (yet)."""
    import ray

    from motools.engine import RAY_NAMESPACE as NAMESPACE

    try:
        actor = ray.get_actor(name, namespace=NAMESPACE)
        return int(ray.get(actor.__ray_call__.remote(lambda _: os.getpid()), timeout=30))
    except (ValueError, ray.exceptions.RayError):
        return None


@pytest.mark.timeout(240)
def test_killing_the_ledger_actor_repeatedly_mid_sweep_loses_no_committed_entry(tmp_path):
    from motools.engine._access import ledger_actor_name

    store, log = get_store(tmp_path / "store"), tmp_path / "executions.log"
    name = ledger_actor_name(store)
    # A second connection to the same SQLite file: what was committed, as any reader sees it.
    reader = Ledger(store.ledger_path)
    killed: list[int] = []
    kill_times: list[float] = []
    committed_before_kill: list[set[str]] = []
    failures: list[BaseException] = []

    def killer() -> None:
        try:
            for n in range(1, KILLS + 1):
                # Each kill waits for a step finished since the last one, so results are always
                # on their way to the Ledger (or waiting for it to come back) when it dies.
                ends = len(read_events(log, "end"))
                wait_until(lambda ends=ends: len(read_events(log, "end")) > ends, 120,
                           f"a step to finish before kill {n}")
                pid = wait_until(lambda: (p := _ledger_pid(name)) not in (None, *killed) and p,
                                 60, f"the Ledger actor (restarted {n - 1} times)")
                committed_before_kill.append({k for k, _, _ in reader.cache_entries()})
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                kill_times.append(time.time())
                wait_until(lambda pid=pid: not alive(pid), 30, "the Ledger actor's process to die")
        except BaseException as exc:  # surfaced in the test thread below
            failures.append(exc)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    # 12 points x 1 s on 2 CPUs: the sweep outlasts three kills and restarts of the actor.
    result = run_sweep(faults_workflow,
                       {"work": {"seconds": 1.0, "log": str(log)},
                                         "report": {"log": str(log)}},
                       grid={"work.tag": TAGS}, options=RunOptions(store=store))
    finished = time.time()
    thread.join(timeout=60)
    assert not failures, failures
    assert len(killed) == KILLS, f"the Ledger actor was killed {len(killed)} times"
    assert sum(t < finished for t in kill_times) >= 2, "fewer than two kills landed mid-sweep"

    assert result.ok, result.failures
    ledger = get_ledger(store)
    keys = {s.cache_key for r in result.point_results for s in r.step_states}
    entries = {k for k, _, _ in ledger.cache_entries()}
    assert keys == entries and len(keys) == 2 * len(TAGS)
    for before in committed_before_kill:
        assert before <= entries
    # Retried commits are idempotent: one step run per node, every node executed once.
    step_runs = ledger.step_runs_of(result.run_id)
    assert sorted(sr.key for sr in step_runs) == sorted(keys)
    assert len(read_events(log, "start")) == len(keys)
    assert ledger.get_run(result.run_id).status == "succeeded"
    assert _ledger_pid(name) not in killed, "the Ledger actor did not come back"
