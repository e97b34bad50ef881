"""Live results (issue #14, item 4): while a sweep runs, `motools sweep results` and `sweep status`
show the points that have finished, the others as pending; the final table is unchanged.

The sweep runs in a real `motools` driver process that joins the test session's Ray. Each point's
dataset loader blocks until the test creates that point's gate file, so the test decides which
points finish when. Ray workers import the loader from this module by name (conftest puts this
folder on their PYTHONPATH).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from cli_runner import cli
from fault_drivers import Driver, wait_until

from motools.atom import get_store
from motools.sweep import find_sweep_run, live_results, load_results
from mozoo.datasets.hello_world import generate_hello_world_dataset

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "hello_world.yaml"
TAG = "prepare_dataset.loader_kwargs.tag"
LOADER = f"{Path(__file__).stem}:gated_loader"


def gated_loader(gates: str, tag: str, num_samples: int = 5) -> Any:
    """The hello_world loader, once the file `gates/tag` exists (at most two minutes)."""
    deadline = time.monotonic() + 120
    while not (Path(gates) / tag).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {tag} never opened")
        time.sleep(0.05)
    return generate_hello_world_dataset(num_samples=num_samples, seed=0)


@pytest.fixture
def ray_address() -> str:
    import ray

    from motools.engine import ensure_ray

    ensure_ray()
    return str(ray.get_runtime_context().gcs_address)


@pytest.fixture
def gated_sweep(tmp_path: Path) -> tuple[Path, Path]:
    gates = tmp_path / "gates"
    gates.mkdir()
    sweep = tmp_path / "live.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "live", "workflow": "train_and_evaluate", "base": str(BASE),
        "config": {"prepare_dataset": {"dataset_loader": LOADER,
                                       "loader_kwargs": {"gates": str(gates)}}},
        "grid": {TAG: ["a", "b", "c"]},
    }, sort_keys=False))
    return sweep, gates


def start(sweep: Path, store: Path, ray_address: str) -> Driver:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTOOLS_", "RAY_ADDRESS"))}
    env.update(MOTOOLS_STORE=str(store), RAY_ADDRESS=ray_address)
    return Driver(["sweep", "run", sweep], env, sweep.parent / "driver.out")


def results_rows(sweep: Path, out: Path) -> list[dict[str, Any]]:
    result = cli("sweep", "results", sweep, "-o", out)
    assert result.code == 0, result.out + result.err
    return pq.read_table(out).to_pylist()


def first_point_done(sweep: Path, out: Path) -> list[dict[str, Any]] | None:
    result = cli("sweep", "results", sweep, "-o", out)
    if result.code != 0:  # the driver has not recorded its run yet
        return None
    rows = pq.read_table(out).to_pylist()
    return rows if rows[0]["status"] == "succeeded" else None


def test_results_and_status_show_finished_points_while_the_sweep_runs(
        gated_sweep, isolated_store, ray_address, tmp_path):
    sweep, gates = gated_sweep
    driver = start(sweep, isolated_store, ray_address)
    try:
        (gates / "a").touch()
        rows = wait_until(lambda: first_point_done(sweep, tmp_path / "live.parquet"), 120,
                          "point 0 to finish")
        assert driver.proc.poll() is None  # the sweep is still running
        assert [r["status"] for r in rows] == ["succeeded", "pending", "pending"]
        assert isinstance(rows[0]["accuracy"], float) and rows[0]["eval_atom"]
        assert [r["accuracy"] for r in rows[1:]] == [None, None]
        assert [r[TAG] for r in rows] == ["a", "b", "c"]

        shown = cli("sweep", "results", sweep)
        assert shown.code == 0 and "live (run-" in shown.out and shown.out.count("pending") == 2
        status = cli("sweep", "status", sweep)
        assert status.code == 0, status.err
        assert ": running; " in status.out
        assert "points: pending 2, succeeded 1" in status.out
        assert "so far" in status.out
        shown = cli("runs", "show", find_sweep_run(sweep).id)
        assert shown.code == 0 and "pending" in shown.out
        plotted = cli("sweep", "plot", sweep, "--x", TAG, "--y", "accuracy",
                      "-o", tmp_path / "so_far.png")
        assert plotted.code == 0, plotted.err  # the finished point alone

        (gates / "b").touch()
        (gates / "c").touch()
        assert driver.wait(timeout=180) == 0, driver.output()
    finally:
        for tag in "abc":
            (gates / tag).touch()
        driver.stop()

    final = results_rows(sweep, tmp_path / "final.parquet")
    assert [r["status"] for r in final] == ["succeeded"] * 3
    assert final[0]["accuracy"] == rows[0]["accuracy"]


def test_a_finished_sweeps_live_collation_equals_its_final_table(gated_sweep, isolated_store):
    sweep, gates = gated_sweep
    for tag in "abc":
        (gates / tag).touch()
    result = cli("sweep", "run", sweep, "--executor", "inline")
    assert result.code == 0, result.err
    store = get_store()
    run = find_sweep_run(sweep, store=store)
    final, live = load_results(store, run.id), live_results(store, run)
    assert live is not None and final is not None
    assert live.equals(final) and live.schema.metadata == final.schema.metadata


def test_an_interrupted_sweeps_unfinished_points_say_so(gated_sweep, isolated_store, ray_address,
                                                         tmp_path):
    sweep, gates = gated_sweep
    driver = start(sweep, isolated_store, ray_address)
    try:
        (gates / "a").touch()
        wait_until(lambda: first_point_done(sweep, tmp_path / "live.parquet"), 120,
                   "point 0 to finish")
        driver.kill()
    finally:
        for tag in "abc":
            (gates / tag).touch()
        driver.stop()
    rows = results_rows(sweep, tmp_path / "after.parquet")
    assert [r["status"] for r in rows] == ["succeeded", "interrupted", "interrupted"]
    status = cli("sweep", "status", sweep)
    assert ": interrupted; " in status.out and "points: interrupted 2, succeeded 1" in status.out
