"""A driver killed mid-training: the re-run re-attaches to the trainer, which trains once.

The trainer outlives its driver only on a Ray cluster that outlives it, so this test starts one
(`ray start --head --block`) and stops exactly the processes it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ray_cluster(tmp_path):
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths have a limit
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    if (Path.home() / ".ray" / "auth_token").exists():
        env["RAY_AUTH_MODE"] = "token"  # a token left by an earlier run turns auth on
    head = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
         f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
         f"--temp-dir={temp_dir}", "--disable-usage-stats"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    else:
        pytest.fail("ray start --head did not come up in 60 s")
    time.sleep(2)
    env["RAY_ADDRESS"] = f"127.0.0.1:{port}"
    yield env
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
    # Workers and actors of that cluster carry its temp dir in their command lines.
    subprocess.run(["pkill", "-9", "-f", temp_dir], check=False)


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
    time.sleep(1.0)
    assert _progress(store)["step"] >= progress["step"], "the trainer died with its driver"

    second = subprocess.run([sys.executable, "-c", DRIVER], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.strip().splitlines()[-1] == "['cached', 'cached', 'succeeded', 'succeeded']"
    result = json.loads(next((store / "training").glob("local-*/result.json")).read_text())
    assert result["pid"] == trainer_pid, "the re-run started a new trainer instead of re-attaching"
    assert len(result["losses"]) == result["steps"] == 100 * 4
