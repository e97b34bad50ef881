"""Leases: which ones a task waits for, and which ones it may take over at once."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

# The fault tests' two-step workflow (tests/faults is on the path): it logs every execution.
from fault_steps import faults_workflow, read_events

from motools.atom import get_store
from motools.engine import Ledger, RunOptions, RunRecord, get_ledger, lease, reach_ledger
from motools.engine._leases import dead_local_holder, executing_holder
from motools.workflow import compile_plan, run_workflow

HOST = socket.gethostname()
KEY = "a" * 64


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_a_lease_of_a_run_that_ended_is_free(ledger: Ledger, status: str) -> None:
    run = RunRecord(name="wf", status=status)
    ledger.save_run(run)
    ended = executing_holder(f"{run.id}@{HOST}:{os.getpid()}")
    ledger.claim_many([KEY], ended, 60)
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == "run-b@h:1"


@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_a_lease_of_a_run_that_may_still_compute_is_kept(ledger: Ledger, status: str) -> None:
    run = RunRecord(name="wf", status=status)
    ledger.save_run(run)
    holder = f"{run.id}@{HOST}:{os.getpid()}"
    ledger.claim_many([KEY], holder, 60)
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == holder


def test_a_group_permit_of_a_run_that_ended_is_free(ledger: Ledger) -> None:
    run = RunRecord(name="wf", status="failed")
    ledger.save_run(run)
    slots = ["group:api:0"]
    assert ledger.claim_any(slots, f"{run.id}/plan1", 60) == "group:api:0"
    assert ledger.claim_any(slots, "run-b/plan2", 60) == "group:api:0"


def test_an_unknown_holder_keeps_its_lease_until_it_expires(ledger: Ledger) -> None:
    ledger.claim_many([KEY], "someone", 0.2)
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == "someone"
    time.sleep(0.3)
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == "run-b@h:1"


def test_release_frees_only_the_holders_own_leases(ledger: Ledger) -> None:
    ledger.claim_many([KEY, "b" * 64], "run-a@h:1", 60)
    ledger.release([KEY], "run-b@h:1")
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == "run-a@h:1"
    ledger.release([KEY], "run-a@h:1")
    assert ledger.claim_many([KEY], "run-b@h:1", 60)[KEY] == "run-b@h:1"


def _claim_each(path: str, holder: str, keys: list[str], won: Any) -> None:
    ledger = Ledger(path)
    won.put([k for k in keys if ledger.claim_many([k], holder, 60)[k] == holder])


def test_concurrent_processes_never_both_win_a_key(tmp_path: Path) -> None:
    """Reading a lease and writing it is one write transaction: four processes racing for the
    same 500 keys win each key exactly once (before, about 10 keys had two winners)."""
    path = str(tmp_path / "ledger.sqlite")
    Ledger(path)
    keys = [f"{i:064x}" for i in range(500)]
    won: Any = multiprocessing.Queue()
    racers = [multiprocessing.Process(target=_claim_each, args=(path, f"run-{i}@h:1", keys, won))
              for i in range(4)]
    for racer in racers:
        racer.start()
    wins = Counter(k for _ in racers for k in won.get(timeout=60))
    for racer in racers:
        racer.join()
    assert sorted(wins) == keys
    assert set(wins.values()) == {1}


def test_executing_holder_marks_a_driver_holder_once() -> None:
    holder = f"run-x@{HOST}:1"
    assert executing_holder(holder) == executing_holder(executing_holder(holder)) != holder


def test_a_dead_local_pid_is_seen_with_or_without_the_executing_mark() -> None:
    pid = dead_pid()
    for holder in (f"run-x@{HOST}:{pid}", executing_holder(f"run-x@{HOST}:{pid}")):
        assert dead_local_holder(holder)
    assert not dead_local_holder(executing_holder(f"run-x@{HOST}:{os.getpid()}"))
    assert not dead_local_holder(f"run-x@elsewhere.example:{pid}")
    assert not dead_local_holder("run-x")


def test_lease_holds_the_key_inside_the_block_and_releases_it_after(ledger: Ledger) -> None:
    with lease(ledger, KEY, "plugin-a") as held:
        assert held == KEY
        assert ledger.claim_many([KEY], "plugin-b", 60)[KEY] == "plugin-a"
    assert ledger.claim_many([KEY], "plugin-b", 60)[KEY] == "plugin-b"


def test_lease_waits_for_the_holder_to_let_go(ledger: Ledger) -> None:
    order: list[str] = []
    with lease(ledger, KEY, "plugin-a"):
        waiter = threading.Thread(target=lambda: _take(ledger, "plugin-b", order))
        waiter.start()
        waiter.join(0.3)
        order.append("a lets go")
    waiter.join(10)
    assert order == ["a lets go", "b holds"]


def _take(ledger: Ledger, holder: str, order: list[str]) -> None:
    with lease(ledger, KEY, holder, poll=0.01):
        order.append("b holds")


def test_lease_of_several_keys_holds_a_free_one(ledger: Ledger) -> None:
    slots = ["group:g:0", "group:g:1"]
    ledger.claim_many(slots[:1], "other", 60)
    with lease(ledger, slots, "plugin-a") as held:
        assert held == "group:g:1"


def test_without_ray_a_process_reaches_the_ledger_file_once(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    assert reach_ledger(store) is reach_ledger(store) is get_ledger(store)


def _work_key(config: dict) -> str:
    node = next(n for n in compile_plan(faults_workflow, [config], {}).nodes.values()
                if n.name == "work")
    return node.cache_key({})


def test_a_reservation_of_a_live_driver_is_taken_over_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A queued task's reservation must not make a running task wait (it could deadlock)."""
    store, log = get_store(tmp_path / "store"), tmp_path / "log"
    config = {"work": {"tag": "w", "log": str(log)}, "report": {"log": str(log)}}
    key = _work_key(config)
    # Another driver, alive in this very process, reserved the key for a task still queued
    # (for a few seconds only: a run that waited for it would log so, then finish).
    get_ledger(store).claim_many([key], f"run-other@{HOST}:{os.getpid()}", 5)
    with caplog.at_level(logging.WARNING, logger="motools"):
        result = run_workflow(faults_workflow, {}, config, "alice",
                              options=RunOptions(store=store, executor="inline"))
    assert result.ok
    assert not [r for r in caplog.records if "waiting for" in r.getMessage()]
    assert len(read_events(log, "start", step="work")) == 1


def test_a_task_waits_for_a_live_executing_lease_and_then_serves_its_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTOOLS_LEASE_TTL", "1")
    store, log = get_store(tmp_path / "store"), tmp_path / "log"
    config = {"work": {"tag": "w", "log": str(log)}, "report": {"log": str(log)}}
    key = _work_key(config)
    other = executing_holder(f"run-other@{HOST}:{os.getpid()}")
    get_ledger(store).claim_many([key], other, 1.0)
    expires = time.time() + 1.0
    result = run_workflow(faults_workflow, {}, config, "alice",
                          options=RunOptions(store=store, executor="inline"))
    assert result.ok
    # Nobody finished it meanwhile, so once the lease ran out this run computed it, once.
    starts = read_events(log, "start", step="work")
    assert len(starts) == 1 and starts[0]["t"] >= expires - 0.05
