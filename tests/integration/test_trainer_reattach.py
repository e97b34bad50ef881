"""A driver killed mid-training: the re-run re-attaches to the trainer, which trains once.

The trainer outlives its driver only on a Ray cluster that outlives it, so this test starts one
(tests/ray_cluster.py) and stops exactly the processes it started.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import LoopbackCluster

REPO = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import sys
    from motools.workflow import run_workflow
    from mozoo.workflows.train_and_evaluate import train_and_evaluate_workflow, TrainAndEvaluateConfig
    config = TrainAndEvaluateConfig(
        prepare_dataset={"dataset_loader": "mozoo.datasets.hello_world:generate_hello_world_dataset"},
        submit_training={"model": "local/tiny-byte-lm", "backend_name": "local",
                         "hyperparameters": {"n_epochs": 100, "batch_size": 32,
                                             "learning_rate": 3e-3}},
        evaluate_model={"eval_task": "hello_world", "backend_name": "dummy"},
    )
    result = run_workflow(train_and_evaluate_workflow, {}, config, "alice")
    print([s.status for s in result.step_states])
    """
)


@pytest.fixture
def ray_cluster() -> Iterator[dict[str, str]]:
    cluster = LoopbackCluster()
    try:
        cluster.start_head(num_cpus=2)
        yield {**cluster.env, "RAY_ADDRESS": cluster.address}
    finally:
        cluster.stop()


def _progress(store: Path) -> dict | None:
    files = list((store / "training").glob("local-*/progress.json"))
    return json.loads(files[0].read_text()) if files else None


def test_rerun_after_a_killed_driver_reattaches_to_the_running_trainer(tmp_path, ray_cluster):
    store = tmp_path / "store"
    env = {**ray_cluster, "MOTOOLS_STORE": str(store)}
    first = subprocess.Popen([sys.executable, "-c", DRIVER], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while (progress := _progress(store)) is None or progress["step"] < 10:
        assert time.time() < deadline, "training never started"
        assert first.poll() is None, first.communicate()[1][-2000:]
        time.sleep(0.2)
    trainer_pid = progress["pid"]
    first.send_signal(signal.SIGKILL)
    first.wait()
    # The trainer lives on without its driver: it saves checkpoints past the one it had reached
    # (or finishes).
    deadline = time.time() + 120
    while (_progress(store)["step"] <= progress["step"]
           and not any((store / "training").glob("local-*/result.json"))):
        assert time.time() < deadline, "the trainer died with its driver"
        time.sleep(0.2)

    second = subprocess.run([sys.executable, "-c", DRIVER], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.strip().splitlines()[-1] == "['cached', 'cached', 'succeeded', 'succeeded']"
    result = json.loads(next((store / "training").glob("local-*/result.json")).read_text())
    assert result["pid"] == trainer_pid, "the re-run started a new trainer instead of re-attaching"
    assert len(result["losses"]) == result["steps"] == 100 * 4
