"""SIGKILL the Ray worker process that is running a step: Ray retries the task elsewhere."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from fault_drivers import alive, assert_store_clean, wait_until
from fault_steps import faults_workflow, read_events

from motools.atom import get_store
from motools.engine import RunOptions, get_ledger
from motools.workflow import run_workflow


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_step_is_retried_and_its_output_exists_once(tmp_path):
    store, log = get_store(tmp_path / "store"), tmp_path / "executions.log"
    killed: list[int] = []

    def kill_the_first_worker() -> None:
        start = wait_until(lambda: read_events(log, "start", step="work"), 120, "work to start")[0]
        os.kill(start["pid"], signal.SIGKILL)
        killed.append(start["pid"])

    thread = threading.Thread(target=kill_the_first_worker, daemon=True)
    thread.start()
    # 2 s of work: the kill lands while the step runs (it starts the moment `start` is logged).
    result = run_workflow(faults_workflow, {},
                          {"work": {"tag": "w", "seconds": 2.0, "log": str(log)},
                                                "report": {"log": str(log)}},
                          "alice", options=RunOptions(store=store))
    thread.join(timeout=60)
    assert killed and not alive(killed[0]), "the worker was not killed"
    assert result.ok, result.failures

    starts = [e["pid"] for e in read_events(log, "start", step="work")]
    ends = [e["pid"] for e in read_events(log, "end", step="work")]
    assert len(starts) == 2 and starts[0] == killed[0] and ends == [starts[1]]

    work = result.step_states["work"]
    ledger = get_ledger(store)
    assert [(k, s) for k, s, _ in ledger.cache_entries() if s == "work"] == [(work.cache_key, "work")]
    runs_of_key = [sr for sr in ledger.step_runs_of(result.run_id) if sr.key == work.cache_key]
    assert [sr.status for sr in runs_of_key] == ["succeeded"]
    assert runs_of_key[0].pid == starts[1]
    # The output atom exists once, made by the retry, and nothing half-written is left.
    made_by_work = [a for a in store.iter_atom_ids()
                    if store.get_atom_record(a).provenance.step == "work"]
    assert made_by_work == [work.output_atoms["result"]]
    assert sorted(p.name for p in (store.local_root / "steps").iterdir()) == sorted(
        f"{s.cache_key}.json" for s in result.step_states)
    assert_store_clean(store.local_root)
