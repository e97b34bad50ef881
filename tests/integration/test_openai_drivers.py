"""The `openai` backend as users run it: `motools` driver processes with their own Ray.

Each driver is a fresh process whose private Ray inherits its environment, so the Ray workers that
submit, wait and evaluate see `OPENAI_API_KEY` and `OPENAI_BASE_URL` the way they do on a laptop
(and on a cluster, from the job's environment): nothing carries the key but the environment.
The fake OpenAI API (`openai_fake.py`) runs in the test process and counts what was created.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cli_runner import write
from fault_drivers import Driver, alive, wait_until
from openai_fake import FakeOpenAI, fake_openai

from motools.atom import Atom, get_store
from motools.engine import get_ledger

BASE = "gpt-4.1-mini-2025-04-14"
FAKE_KEY = "sk-test-drivers-0123456789abcdef"
LRM = "submit_training.hyperparameters.learning_rate_multiplier"
SEED = "submit_training.hyperparameters.seed"


def base_config() -> dict[str, Any]:
    return {
        "prepare_dataset": {"dataset_loader": "mozoo.datasets.hello_world:"
                                              "generate_hello_world_dataset",
                            "loader_kwargs": {"num_samples": 20}},
        "submit_training": {"model": BASE, "backend_name": "openai", "suffix": "hello",
                            "hyperparameters": {"n_epochs": 2, "batch_size": 4}},
        "wait_for_training": {},
        "evaluate_model": {"eval_task": "mozoo.tasks.hello_world:hello_world",
                           "backend_name": "inspect"},
    }


@pytest.fixture
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    with fake_openai(FAKE_KEY) as served:
        yield served


@pytest.fixture
def env(tmp_path: Path, server: tuple[FakeOpenAI, str]) -> Iterator[dict[str, str]]:
    """A driver's environment: the key and the fake's URL, a private Ray in a short folder."""
    ray_dir = Path(tempfile.mkdtemp(prefix="mtoai", dir="/tmp"))  # AF_UNIX paths stay short
    (tmp_path / "tiktoken").mkdir()
    drop = ("RAY_ADDRESS", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
            "all_proxy")
    environment = {k: v for k, v in os.environ.items()
                   if k not in drop and not k.startswith("MOTOOLS_")}
    environment.update({
        "OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": server[1], "MOTOOLS_OPENAI_POLL_S": "0.05",
        "MOTOOLS_STORE": str(tmp_path / "store"), "RAY_TMPDIR": str(ray_dir),
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"), "HF_HUB_OFFLINE": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
    })
    yield environment
    shutil.rmtree(ray_dir, ignore_errors=True)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`. Ray workers start process groups of their own (and rename
    themselves), so they are found by parentage, taken while their raylet is still alive."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit():
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(proc.name))
        except (OSError, ValueError, IndexError):
            pass
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.timeout(300)
def test_a_sweep_of_four_points_keeps_open_jobs_under_the_limit_and_every_model_learns(
    tmp_path, server, env
):
    state, _ = server
    write(tmp_path / "base.yaml", base_config())
    sweep = write(tmp_path / "sweep.yaml", {"name": "openai-four", "workflow": "train_and_evaluate",
                                            "base": "base.yaml",
                                            "grid": {LRM: [0.5, 2.0], SEED: [0, 1]}})
    env["MOTOOLS_OPENAI_MAX_OPEN_JOBS"] = "2"
    state.hold = True  # jobs stay running until the test lets them finish
    driver = Driver(["sweep", "run", sweep], env, tmp_path / "sweep.out")
    try:
        # Two waits poll held jobs meanwhile: on a 2-CPU Ray the last two submits could not even
        # start (and upload) if waiting held a CPU slot.
        wait_until(lambda: len(state.files) == 4 or driver.proc.poll() is not None, 240,
                   "every point to upload its file")
        assert driver.proc.poll() is None, driver.output()[-3000:]
        wait_until(lambda: len(state.jobs) == 2, 60, "two jobs")
        # The other two submits are at the limit now; give them time to (wrongly) create a job.
        wait_until(lambda: sum(j.looks for j in state.jobs.values()) >= 10, 60, "polls")
        assert len(state.jobs) == 2
        state.hold = False
        assert driver.wait(240) == 0, driver.output()[-3000:]
    finally:
        driver.stop()
    assert len(state.jobs) == 4 and state.max_open == 2
    assert sorted((j.method["supervised"]["hyperparameters"]["learning_rate_multiplier"], j.seed)
                  for j in state.jobs.values()) == [(0.5, 0), (0.5, 1), (2.0, 0), (2.0, 1)]
    [results] = (tmp_path / "store" / "runs").rglob("results.parquet")
    table = pq.read_table(results).to_pylist()
    assert [row["status"] for row in table] == ["succeeded"] * 4
    assert [row["accuracy"] for row in table] == [1.0] * 4
    assert set(state.chat_models) == {j.fine_tuned_model for j in state.jobs.values()}
    assert list((tmp_path / "tiktoken").iterdir()) == []


@pytest.mark.timeout(300)
def test_a_rerun_after_the_driver_died_reattaches_to_the_pending_job(tmp_path, server, env):
    state, _ = server
    config = write(tmp_path / "openai.yaml", base_config())
    args = ["workflow", "run", "train_and_evaluate", "--config", config, "--user", "test"]
    state.hold = True
    first = Driver(args, env, tmp_path / "first.out")
    try:
        wait_until(lambda: any(j.looks >= 2 for j in state.jobs.values())
                   or first.proc.poll() is not None, 240, "the wait step to poll the job")
        assert first.proc.poll() is None, first.output()[-3000:]
        ray_of_first = descendants(first.pid)
        first.kill()
    finally:
        first.stop()  # and the private Ray it started
    # Every worker of the dead driver is gone: none of them can finish the job for the rerun.
    wait_until(lambda: not any(alive(p) for p in ray_of_first), 60, "the dead driver's workers")
    [job] = state.jobs.values()
    assert job.status == "running"
    state.hold = False

    second = Driver(args, env, tmp_path / "second.out")
    try:
        assert second.wait(240) == 0, second.output()[-3000:]
    finally:
        second.stop()
    assert list(state.jobs) == [job.id] and len(state.files) == 1  # one upload, one job
    store = get_store(tmp_path / "store")
    ledger = get_ledger(store)
    rerun = max(ledger.list_runs(), key=lambda r: r.started_at)
    statuses = {sr.step: sr.status for sr in ledger.step_runs_of(rerun.id)}
    assert statuses == {"prepare_dataset": "cached", "submit_training": "cached",
                        "wait_for_training": "succeeded", "evaluate_model": "succeeded"}
    models = [Atom.load(a, store=store) for a in store.iter_atom_ids() if a.startswith("model-")]
    assert [m.metadata["model_id"] for m in models] == [job.fine_tuned_model]
