"""motools on a real multi-node Ray cluster on loopback, with sweeps sent by `ray job submit`.

The cluster: a head node (2 CPUs, the job server, custom resource `head_node`) and a worker node
(1 CPU, 1 GPU declared to Ray, custom resource `gpu_node`). Each node has its own
MOTOOLS_CACHE_DIR, so that, as on a real cluster, the nodes share no scratch space: only the store.
A step asking for 2 CPUs can only run on the head, one asking for a GPU only on the worker, so
where each step ran is known in advance and checked against the Ledger's step records.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from cli_runner import cli
from ray_cluster import LoopbackCluster
from s3_server import BUCKET, s3_env

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
DUMMY_CONFIG = REPO / "configs" / "hello_world.yaml"
LOCAL_CONFIG = REPO / "configs" / "hello_world_local.yaml"
STEPS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")
# Pins of steps to nodes, through resources alone (see the module docstring).
DRY_ROW = re.compile(r"^│ (\w+)\s+│(?: \d+\s+│){3} (\d+)\s+│ (\d+)\s+│$", re.MULTILINE)
PLACEMENT = {"prepare_dataset": {"num_cpus": 2}, "evaluate_model": {"num_gpus": 1}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    scratch = tmp_path_factory.mktemp("node-scratch")
    nodes = LoopbackCluster()
    # Object-store credentials belong to the nodes (as from an instance profile), not to jobs.
    nodes.env.update({k: v for k, v in s3_env("").items() if k.startswith("AWS_")})
    try:
        nodes.start_head(num_cpus=2, resources={"head_node": 1}, dashboard=True,
                         env={"MOTOOLS_CACHE_DIR": str(scratch / "head")})
        nodes.add_worker(num_cpus=1, num_gpus=1, resources={"gpu_node": 1},
                         env={"MOTOOLS_CACHE_DIR": str(scratch / "worker")})
        ids = {name: next(n["id"] for n in nodes.wait_for_nodes(2) if name in n["resources"])
               for name in ("head_node", "gpu_node")}
        yield {"nodes": nodes, "head": ids["head_node"], "gpu": ids["gpu_node"],
               "scratch": {"head": scratch / "head", "gpu": scratch / "worker"}}
    finally:
        nodes.stop()


def _write_sweep(folder: Path, config: Path, grid: dict[str, list[Any]],
                 overrides: dict[str, Any] | None = None, **sections: Any) -> Path:
    """A user's project folder: a base config and a sweep over it, as `--working-dir` uploads."""
    folder.mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load(config.read_text())
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        base[section][key] = value
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    sweep = {"name": "cluster-test", "workflow": "train_and_evaluate", "base": "base.yaml",
             "grid": grid, "resources": PLACEMENT, **sections}
    (folder / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    return folder / "sweep.yaml"


def _submit(cluster: dict[str, Any], project: Path, env: dict[str, str]) -> str:
    """`ray job submit --working-dir <project> -- motools sweep run sweep.yaml`; its output."""
    nodes: LoopbackCluster = cluster["nodes"]
    deadline = time.monotonic() + 90
    while True:
        done = nodes.ray_cli(
            "job", "submit", "--address", nodes.dashboard, "--working-dir", str(project),
            "--runtime-env-json", json.dumps({"env_vars": env}),
            "--", "motools", "sweep", "run", "sweep.yaml",
            cwd=project,
        )
        # The job server answers before the head's job agent is up; such a job never started.
        if "No available agent" not in done.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "succeeded" in done.stdout, done.stdout[-3000:]
    return done.stdout


def _step_runs(ledger: Path) -> list[dict[str, Any]]:
    """Every step record of the most recent run in a Ledger file."""
    with contextlib.closing(sqlite3.connect(ledger)) as db:
        (run_id,) = db.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        rows = db.execute("SELECT record FROM step_runs WHERE run_id = ?", (run_id,)).fetchall()
    return [json.loads(r) for (r,) in rows]


def _outputs_by_key(step_runs: list[dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """Cache key -> (step, output atom ids): keys hash config and input ids, so two runs agree
    on this map only if every step got the same inputs and produced the same atoms."""
    return {sr["key"]: (sr["step"], sorted(sr["outputs"].values())) for sr in step_runs}


# ---- a shared-path store -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_run(cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2 x 2 dummy sweep submitted to the cluster, its store a path every node sees."""
    root = tmp_path_factory.mktemp("shared")
    grid = {"submit_training.hyperparameters.learning_rate": [1.0e-4, 1.0e-3],
            "submit_training.hyperparameters.seed": [0, 1]}
    project = root / "project"
    _write_sweep(project, DUMMY_CONFIG, grid)
    output = _submit(cluster, project, {"MOTOOLS_STORE": str(root / "store")})
    return {"root": root, "project": project, "output": output,
            "step_runs": _step_runs(root / "store" / "ledger.sqlite")}


def test_job_submit_runs_an_adaptive_sweep_decided_by_the_driver(cluster, tmp_path):
    grid = {"submit_training.hyperparameters.learning_rate": [1.0e-4, 1.0e-3, 1.0e-2]}
    schedule = {"metric": "accuracy", "resource": "submit_training.hyperparameters.n_epochs",
                "rungs": [1, 2]}
    project = tmp_path / "project"
    _write_sweep(project, DUMMY_CONFIG, grid, schedule=schedule)
    output = _submit(cluster, project, {"MOTOOLS_STORE": str(tmp_path / "store")})
    assert "trained 5 of 6 epoch-units" in output
    (results,) = (tmp_path / "store" / "runs").glob("*/results.parquet")
    statuses = pq.read_table(results).column("status").to_pylist()
    assert sorted(statuses) == ["stopped", "stopped", "succeeded"]


def test_job_submit_runs_every_step_of_the_sweep(shared_run):
    step_runs = shared_run["step_runs"]
    assert len(step_runs) == 4 * len(STEPS) - 3  # one dataset, shared by the four points
    assert {sr["status"] for sr in step_runs} == {"succeeded"}
    assert "cluster-test" in shared_run["output"]


def test_steps_ran_on_more_than_one_node(shared_run, cluster):
    nodes = {sr["node"] for sr in shared_run["step_runs"]}
    assert {cluster["head"], cluster["gpu"]} <= nodes


def test_steps_that_ask_for_a_gpu_run_on_the_gpu_node(shared_run, cluster):
    placed = {(sr["step"], sr["node"]) for sr in shared_run["step_runs"]}
    assert {node for step, node in placed if step == "evaluate_model"} == {cluster["gpu"]}
    assert {node for step, node in placed if step == "prepare_dataset"} == {cluster["head"]}


def test_cluster_results_match_the_same_sweep_run_locally(shared_run, tmp_path, monkeypatch):
    local_store = tmp_path / "local-store"
    monkeypatch.setenv("MOTOOLS_STORE", str(local_store))
    # Resources are execution options, not part of any key: this machine has no GPU to give.
    sweep = yaml.safe_load((shared_run["project"] / "sweep.yaml").read_text())
    del sweep["resources"]
    (tmp_path / "base.yaml").write_text((shared_run["project"] / "base.yaml").read_text())
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    ran = cli("sweep", "run", tmp_path / "sweep.yaml")
    assert ran.code == 0, ran.out + ran.err
    local = _outputs_by_key(_step_runs(local_store / "ledger.sqlite"))
    assert len(local) == 13
    assert local == _outputs_by_key(shared_run["step_runs"])


# ---- an S3 store, local training, nodes with separate disks -------------------------------------


def test_sweep_on_s3_trains_across_nodes_and_a_fresh_driver_finds_it_cached(
    cluster, s3_endpoint, tmp_path, monkeypatch
):
    """The trainer's dataset, checkpoints and weights cross nodes through the store alone; then a
    driver elsewhere, with an empty Ledger, rebuilds the index from the bucket."""
    store = f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
    project = tmp_path / "project"
    grid = {"submit_training.hyperparameters.seed": [0, 1]}
    _write_sweep(project, LOCAL_CONFIG, grid, {"submit_training.hyperparameters": {
        "n_epochs": 2, "learning_rate": 3.0e-3, "batch_size": 32}})
    # Training is submitted from the GPU node and waited on from the head: different disks.
    # (A GPU share on a submitting step is also what puts the trainer on a GPU node; a fraction,
    # so that several LoRA trainers can share one GPU.)
    sweep = yaml.safe_load((project / "sweep.yaml").read_text())
    sweep["resources"].update(submit_training={"num_gpus": 0.5}, wait_for_training={"num_cpus": 2})
    (project / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    # Credentials are the nodes' own (as from an instance profile); the endpoint and the store
    # travel with the job. The Ledger is kept outside the job's working dir to look at it.
    ledger = tmp_path / "head-ledger.sqlite"
    job_env = {"MOTOOLS_STORE": store, "MOTOOLS_S3_ENDPOINT": s3_endpoint,
               "MOTOOLS_LEDGER": str(ledger)}
    output = _submit(cluster, project, job_env)
    assert "failed" not in output.split("cluster-test")[-1], output[-3000:]

    placed = {sr["step"]: sr["node"] for sr in _step_runs(ledger)}
    assert placed["submit_training"] == cluster["gpu"]
    assert placed["wait_for_training"] == cluster["head"]
    # The trainers asked for the GPU their submitting step was given, so they trained on the
    # GPU node; the head, which waited, fetched their weights from the store.
    gpu_jobs = cluster["scratch"]["gpu"] / "training"
    head_jobs = cluster["scratch"]["head"] / "training"
    assert len(list(gpu_jobs.glob("local-*/sampler/*"))) == 2
    trainers = [json.loads(p.read_text()) for p in gpu_jobs.glob("local-*/trainer.json")]
    assert trainers == [{"gpus": 0.5}] * 2  # each trainer asked Ray for half a GPU
    assert len(list(head_jobs.glob("local-*/sampler/*"))) == 2
    assert not list(head_jobs.glob("local-*/checkpoints/*"))  # no training on the head

    for key, value in {**s3_env(s3_endpoint), "MOTOOLS_STORE": store}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # a fresh working dir: its Ledger (.motools/) starts empty
    rebuilt = cli("cache", "rebuild")
    assert rebuilt.code == 0, rebuilt.out + rebuilt.err
    dry = cli("sweep", "run", project / "sweep.yaml", "--dry-run")
    assert dry.code == 0, dry.out + dry.err
    counts = {m[0]: (int(m[1]), int(m[2])) for m in DRY_ROW.findall(dry.out)}  # (cached, to run)
    assert counts == {"prepare_dataset": (1, 0), "submit_training": (2, 0),
                      "wait_for_training": (2, 0), "evaluate_model": (2, 0)}, dry.out
