"""SIGKILL the driver of `motools sweep run` mid-sweep, then run the same command again.

What finished before the kill is whatever has a step record in the store (results are written
there before anything else learns of them); the rerun must execute exactly the rest, once each.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fault_drivers import (
    Driver,
    alive,
    assert_store_clean,
    cli,
    driver_env,
    step_records,
    wait_until,
    write_sweep,
)
from fault_steps import read_events

from motools.atom import get_store
from motools.engine import get_ledger

TAGS = [f"p{i}" for i in range(6)]


@pytest.mark.timeout(240)
def test_a_killed_driver_loses_nothing_finished_and_the_rerun_runs_only_the_rest(
    tmp_path, ray_address
):
    store, log = tmp_path / "store", tmp_path / "executions.log"
    # 6 points x 1 s on 2 CPUs: after the first result there are seconds of work left to lose.
    sweep = write_sweep(tmp_path / "six.yaml", log, TAGS, seconds=1.0)
    env = driver_env(tmp_path, store, ray_address)

    first = Driver(["sweep", "run", sweep], env, tmp_path / "first.out")
    try:
        wait_until(lambda: step_records(store) or first.proc.poll() is not None, 180,
                   "the first step to finish")
        assert first.proc.poll() is None, first.output()[-3000:]
        first.kill()
        # Ray kills the dead driver's running tasks; wait until every worker that ran one is gone.
        workers = {e["pid"] for e in read_events(log)}
        wait_until(lambda: not any(alive(pid) for pid in workers), 60, "the workers to die")
    finally:
        first.stop()
    finished = step_records(store)
    assert 0 < len(finished) < 2 * len(TAGS), "the driver was not killed mid-sweep"
    runs_before = len(read_events(log, "start"))

    second = Driver(["sweep", "run", sweep], env, tmp_path / "second.out")
    try:
        assert second.wait() == 0, second.output()[-3000:]
    finally:
        second.stop()

    ledger = get_ledger(get_store(store))
    old_run, new_run = sorted(ledger.list_runs(), key=lambda r: r.started_at)
    new_steps = ledger.step_runs_of(new_run.id)
    executed = [sr.key for sr in new_steps if sr.status == "succeeded"]
    everything = {sr.key for sr in new_steps}
    # Only unfinished nodes executed, each once, and every node has exactly one result.
    assert len(everything) == 2 * len(TAGS)
    assert sorted(executed) == sorted(everything - set(finished))
    assert len(read_events(log, "start")) - runs_before == len(executed)
    assert set(step_records(store)) == everything
    assert {sr.status for sr in new_steps if sr.key in finished} == {"cached"}
    ended = Counter(e["tag"] for e in read_events(log, "end", step="work"))
    assert set(ended) == set(TAGS)

    assert_store_clean(store)

    # The killed run's record still says `running`; its dead driver makes it read `interrupted`.
    assert ledger.get_run(old_run.id).status == "running"
    assert old_run.observed_status() == "interrupted"
    listing = cli("runs", "list", "--store", store)
    row = next(line for line in listing.out.splitlines() if old_run.id in line)
    assert "interrupted" in row.split()
    shown = cli("runs", "show", old_run.id, "--store", store)
    assert shown.code == 0 and "status=interrupted" in shown.out
    assert new_run.status == "succeeded"
