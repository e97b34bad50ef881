"""Leases left by a driver that died: taken over after their TTL, or at once on this host.

A lease holder is `run@host:pid`. A holder on another host cannot be checked, so its lease must
run out first (`MOTOOLS_LEASE_TTL`); a holder on this host whose pid is gone is known dead.
"""

from __future__ import annotations

import socket
import sqlite3
import time

import pytest
from fault_drivers import Driver, alive, driver_env, wait_until, write_sweep
from fault_steps import faults_workflow, read_events

from motools.atom import get_store
from motools.engine import RunOptions, get_ledger
from motools.engine._leases import executing_holder
from motools.sweep import run_sweep
from motools.workflow import compile_plan, run_workflow

TAGS = ["p0", "p1", "p2", "p3"]


def leases(store_root) -> dict[str, tuple[str, float]]:
    """Key -> (holder, expires_at), read straight from the Ledger's SQLite file."""
    with sqlite3.connect(get_store(store_root).ledger_path) as db:
        return {k: (h, e) for k, h, e in db.execute("SELECT key, holder, expires_at FROM leases")}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["ray", "inline"])
def test_a_lease_held_on_another_host_is_taken_over_once_it_expires(
    tmp_path, monkeypatch, executor
):
    monkeypatch.setenv("MOTOOLS_LEASE_TTL", "2")
    store, log = get_store(tmp_path / "store"), tmp_path / "executions.log"
    config = {"work": {"tag": "w", "log": str(log)}, "report": {"log": str(log)}}
    work = next(n for n in compile_plan(faults_workflow, [config], {}).nodes.values()
                if n.name == "work")
    key = work.cache_key({})
    # A task of a driver on another machine was computing the key when that machine died:
    # nothing here can tell, so the lease must run out first.
    holder = executing_holder("run-20260101-000000-deadbeef@another-host.example:4242")
    assert get_ledger(store).claim_many([key], holder, 2.0)[key] == holder
    expires_at = leases(store.local_root)[key][1]

    result = run_workflow(faults_workflow, {}, config, "alice",
                          options=RunOptions(store=store, executor=executor))
    assert result.ok, result.failures
    starts = read_events(log, "start", step="work")
    assert len(starts) == 1, "the leased step ran more than once"
    assert starts[0]["t"] >= expires_at, "the live lease of another host's driver was ignored"
    assert leases(store.local_root) == {}


@pytest.mark.timeout(240)
def test_a_lease_of_a_killed_driver_on_this_host_is_taken_over_at_once(tmp_path, ray_address):
    store, log = tmp_path / "store", tmp_path / "executions.log"
    sweep = write_sweep(tmp_path / "four.yaml", log, TAGS, seconds=1.0)
    # Leases this long would stall the rerun past the test's timeout if it waited for them.
    env = driver_env(tmp_path, store, ray_address, MOTOOLS_LEASE_TTL="600")
    driver = Driver(["sweep", "run", sweep], env, tmp_path / "driver.out")
    try:
        wait_until(lambda: read_events(log, "start") or driver.proc.poll() is not None, 180,
                   "the first step to start")
        driver.kill()
        workers = {e["pid"] for e in read_events(log)}
        wait_until(lambda: not any(alive(pid) for pid in workers), 60, "the workers to die")
    finally:
        driver.stop()
    dead = f"@{socket.gethostname()}:{driver.pid}"
    held = {k for k, (holder, expires) in leases(store).items()
            if dead in holder and expires > time.time() + 300}
    assert held, f"the killed driver held no live lease: {leases(store)}"

    started = time.time()
    base = {"work": {"seconds": 1.0, "log": str(log)}, "report": {"log": str(log)}}
    result = run_sweep(faults_workflow, base, grid={"work.tag": TAGS}, name="four",
                       options=RunOptions(store=store))
    assert result.ok, result.failures
    assert time.time() - started < 120
    rerun = {sr.key: sr for sr in get_ledger(get_store(store)).step_runs_of(result.run_id)}
    assert held <= set(rerun), "the rerun is not the same sweep"
    for key in held:
        # Each leased key was finished by the rerun (run now, or served from the store if the
        # killed driver's task completed it before dying), never waited out.
        assert rerun[key].status in ("succeeded", "cached")
    assert leases(store) == {}
    assert {e["tag"] for e in read_events(log, "end", step="work")} == set(TAGS)
