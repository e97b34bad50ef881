"""SIGKILL the driver of an adaptive sweep between its rungs, then run the same command again.

The real organism (hello_world on the local tiny LM, trained with PyTorch, evaluated with
inspect-ai): the rerun must take the decisions an uninterrupted run takes, and no epoch may be
trained twice, counted from what each training job records it ran (not from wall time).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fault_drivers import Driver, driver_env, wait_until

from motools import RunOptions
from motools.atom import Atom, get_store
from motools.sweep import load_results, run_sweep_file

REPO = Path(__file__).resolve().parents[2]
LR = "submit_training.hyperparameters.learning_rate"


def write_adaptive(folder: Path) -> Path:
    base = yaml.safe_load((REPO / "configs" / "hello_world_local.yaml").read_text())
    base["prepare_dataset"]["loader_kwargs"]["num_samples"] = 40
    base["submit_training"]["hyperparameters"]["batch_size"] = 8
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    sweep = {"name": "asha-kill", "workflow": "train_and_evaluate", "base": "base.yaml",
             "grid": {LR: [3e-3, 1e-3, 1e-2, 3e-4]},
             "schedule": {"metric": "train_loss", "mode": "min", "rungs": [1, 2, 3],
                          "resource": "submit_training.hyperparameters.n_epochs",
                          "reduction_factor": 2}}
    path = folder / "asha.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def decisions(table) -> list[tuple]:
    return [(r["point"], r["rung"], r["status"] == "stopped", r["train_loss"])
            for r in table.to_pylist()]


def epochs_trained(store: Path) -> list[int]:
    st = get_store(store)
    return [Atom.load(a, store=st).metadata["info"]["epochs_trained"]
            for a in st.iter_atom_ids() if a.startswith("model-")]


@pytest.mark.timeout(600)
def test_a_killed_adaptive_driver_reruns_to_the_same_decisions_training_nothing_twice(
    tmp_path, ray_address
):
    store = tmp_path / "store"
    sweep = write_adaptive(tmp_path)
    env = driver_env(tmp_path, store, ray_address)

    first = Driver(["sweep", "run", sweep], env, tmp_path / "first.out")
    try:
        # The rungs table is written when a rung has finished: kill in the next one.
        wait_until(lambda: list(store.glob("runs/*/rungs.parquet")) or first.proc.poll()
                   is not None, 400, "the first rung to finish")
        assert first.proc.poll() is None, first.output()[-3000:]
        first.kill()
    finally:
        first.stop()

    second = Driver(["sweep", "run", sweep], env, tmp_path / "second.out")
    try:
        assert second.wait(timeout=400) == 0, second.output()[-3000:]
    finally:
        second.stop()
    run_id = re.search(r"run (run-[\w-]+); results", second.output()).group(1)
    resumed = load_results(get_store(store), run_id)

    fresh = run_sweep_file(sweep, options=RunOptions(store=tmp_path / "fresh"))
    assert decisions(resumed) == decisions(fresh.table)
    # 4 points at 1 epoch, 2 of them on to 2, 1 on to 3: warm starts train 1 + 1 more epochs.
    reached = [r["resource"] for r in resumed.to_pylist()]
    assert sum(epochs_trained(store)) == sum(reached) == fresh.summary["trained"]
    assert sorted(epochs_trained(store)) == sorted(epochs_trained(tmp_path / "fresh"))
