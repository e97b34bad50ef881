"""A step crashes after writing part of its workspace: no half atom, and the rerun finishes it."""

from __future__ import annotations

import time

import pytest
from fault_drivers import assert_store_clean
from fault_steps import faults_workflow_with, read_events

from motools.engine import RunOptions
from motools.atom import get_store
from motools.engine import get_ledger
from motools.engine._single_flight import lease_ttl
from motools.workflow import Resources, run_workflow

# No retries: a worker that dies fails its node (retries are test_fault_worker_kill's subject).
WORKFLOW = faults_workflow_with(Resources(max_retries=0))


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("crash", "error"), [
    ("raise", "RuntimeError: work w crashed after writing part of its workspace"),
    ("exit", "Worker"),  # os._exit in the worker: Ray reports the dead worker process
])
def test_a_step_that_crashes_midway_leaves_no_half_atom_and_reruns(tmp_path, crash, error):
    store, log = get_store(tmp_path / "store"), tmp_path / "executions.log"
    config = {"work": {"tag": "w", "log": str(log), "crash": crash,
                       "marker": str(tmp_path / "crashed")},
              "report": {"log": str(log)}}

    failed = run_workflow(WORKFLOW, {}, config, "alice", options=RunOptions(store=store))
    states = {s.name: s for s in failed.step_states}
    assert (states["work"].status, states["report"].status) == ("failed", "skipped")
    assert error in states["work"].error and "\n" not in states["work"].error
    assert (tmp_path / "crashed").exists(), "the step did not get as far as its crash"
    # Nothing of the crashed step reached the store or the cache index.
    assert store.iter_atom_ids() == []
    assert not any((store.local_root / "steps").glob("*.json"))
    assert not any((store.local_root / "blobs").rglob("*"))
    assert get_ledger(store).cache_entries() == []
    assert_store_clean(store.local_root)

    started = time.monotonic()
    rerun = run_workflow(WORKFLOW, {}, config, "alice", options=RunOptions(store=store))
    assert rerun.ok, rerun.failures
    # The crashed run's lease on the key ended with that run; waiting out its TTL would mean
    # every rerun after a hard crash stalls for a minute.
    assert time.monotonic() - started < lease_ttl() / 2
    assert [s.status for s in rerun.step_states] == ["succeeded", "succeeded"]
    assert len(read_events(log, "start", step="work")) == 2  # the crash, then the rerun
    assert len(read_events(log, "end", step="work")) == 1
    atom = rerun.get_atom("result")
    assert sorted(atom.files) == ["part.txt", "rest.txt"]
    assert_store_clean(store.local_root)
