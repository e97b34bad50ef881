"""Two `motools sweep run` drivers start the same sweep at the same moment, on one store."""

from __future__ import annotations

from collections import Counter

import pytest
from fault_drivers import Driver, assert_store_clean, driver_env, write_sweep
from fault_steps import read_events

from motools.atom import get_store
from motools.engine import get_ledger
from motools.sweep._run import load_results

TAGS = [f"p{i}" for i in range(6)]


@pytest.mark.timeout(240)
def test_two_drivers_of_one_sweep_execute_each_key_once_and_agree(tmp_path, ray_address):
    store, log = tmp_path / "store", tmp_path / "executions.log"
    sweep = write_sweep(tmp_path / "six.yaml", log, TAGS, seconds=1.0)
    env = driver_env(tmp_path, store, ray_address)

    drivers = [Driver(["sweep", "run", sweep], env, tmp_path / f"driver{i}.out") for i in (1, 2)]
    try:
        for d in drivers:
            assert d.wait() == 0, d.output()[-3000:]
    finally:
        for d in drivers:
            d.stop()

    ledger = get_ledger(get_store(store))
    runs = sorted(ledger.list_runs(), key=lambda r: r.started_at)
    assert len(runs) == 2 and runs[1].started_at < runs[0].ended_at, "the drivers did not overlap"

    # Every key executed once, by one driver or the other; the other was served its result.
    starts = read_events(log, "start")
    assert Counter(e["step"] for e in starts) == {"work": len(TAGS), "report": len(TAGS)}
    assert sorted(e["tag"] for e in starts if e["step"] == "work") == TAGS
    assert len({e["tag"] for e in starts if e["step"] == "report"}) == len(TAGS)
    executed = [sr.key for r in runs for sr in ledger.step_runs_of(r.id) if sr.status == "succeeded"]
    assert len(executed) == len(set(executed)) == 2 * len(TAGS)

    # Both finish with the same results: the same atoms per node, the same table.
    outputs = [{(sr.step, sr.key): sr.outputs for sr in ledger.step_runs_of(r.id)} for r in runs]
    assert outputs[0] == outputs[1]
    tables = [load_results(get_store(store), r.id).drop_columns(["status"]) for r in runs]
    assert tables[0].equals(tables[1])
    assert tables[0].column("work.tag").to_pylist() == TAGS
    assert len(set(tables[0].column("eval_atom").to_pylist())) == len(TAGS)
    assert_store_clean(store)
