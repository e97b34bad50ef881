"""Warm start (issue #18, item 1) through the real engines: more epochs continue a cached run.

A training that differs from a finished one only in more epochs continues that run's final
state, and the model it makes is bit for bit the one a run from scratch makes: the tiny LM through
the whole workflow on Ray, Tinker through its `save_state` and
`create_training_client_from_state_with_optimizer` at the fake service. OpenAI never warm-starts.
A LoRA on a Hugging Face model is continued bitwise in tests/unit/training/test_hf_engine.py.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from openai_fake import fake_openai
from tinker_fake import FakeServiceClient, factory_target

from motools.atom import Atom, get_store
from motools.engine import RunOptions
from motools.training import Hyperparameters, TrainedModel, get_training_backend
from motools.training import _warm_start as warm_start
from motools.training._job_files import JobFiles
from motools.training.openai._backend import NO_WARM_START
from motools.workflow import run_workflow
from mozoo.datasets.hello_world import generate_hello_world_dataset
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

TINY = "local/tiny-byte-lm"
SAMPLES, BATCH = 24, 8  # 3 steps an epoch


def final_state(store: Path, model: TrainedModel | dict[str, Any]) -> Path:
    """The final `save_state` checkpoint of the job that made `model` (named in its id)."""
    model_id = model.model_id if isinstance(model, TrainedModel) else model["model_id"]
    files = JobFiles(get_store(store), model_id.rsplit("/", 1)[1])
    return Path(files.resolve(files.read_json("result.json")["checkpoint"]))  # type: ignore[index]


def assert_equal_tensors(a: dict[str, Any], b: dict[str, Any], where: str = "") -> None:
    """Nested state dicts with the same keys and bitwise equal tensors."""
    assert a.keys() == b.keys(), where
    for key, value in a.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, b[key]), f"{where}{key}"
        elif isinstance(value, dict):
            assert_equal_tensors(value, b[key], f"{where}{key}.")
        else:
            assert value == b[key], f"{where}{key}"


# ---- the tiny LM, through the workflow on Ray


def workflow_config(n_epochs: int) -> TrainAndEvaluateConfig:
    return TrainAndEvaluateConfig(
        prepare_dataset={"dataset_loader": "mozoo.datasets.hello_world:"
                                           "generate_hello_world_dataset",
                         "loader_kwargs": {"num_samples": SAMPLES}},
        submit_training={"model": TINY, "backend_name": "local", "hyperparameters": {
            "n_epochs": n_epochs, "batch_size": BATCH, "learning_rate": 3e-3}},
        evaluate_model={"eval_task": "mozoo.tasks.hello_world:hello_world",
                        "backend_name": "dummy"},
    )


def trained_model(store: Path, n_epochs: int) -> Atom:
    result = run_workflow(train_and_evaluate_workflow, {}, workflow_config(n_epochs),
                          options=RunOptions(store=store, user="test"))
    assert [s.status for s in result.step_states][-2:] == ["succeeded", "succeeded"]
    return Atom.load(result.step_states["wait_for_training"].output_atoms["trained_model"],
                     store=result.store)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tiny")
    return {"root": root, "one": trained_model(root / "warm", 1),
            "three": trained_model(root / "warm", 3),  # the same store: continues the 1-epoch run
            "scratch": trained_model(root / "scratch", 3)}  # a fresh store: from scratch


def test_three_epochs_after_one_train_only_two_and_name_the_run_they_continued(tiny_runs):
    one, three = tiny_runs["one"].metadata, tiny_runs["three"].metadata
    assert one["info"]["epochs_trained"] == 1 and one["info"]["steps_trained"] == 3
    assert "continued_from" not in one["info"]
    assert three["info"]["epochs_trained"] == 2 and three["info"]["steps_trained"] == 6
    assert three["info"]["steps"] == 9
    assert three["info"]["continued_from"] == {
        "job_id": one["model_id"].rsplit("/", 1)[1], "n_epochs": 1, "step": 3}


def test_the_warm_started_model_is_bitwise_the_model_trained_from_scratch(tiny_runs):
    three, scratch = tiny_runs["three"], tiny_runs["scratch"]
    assert scratch.metadata["info"]["epochs_trained"] == 3
    assert "continued_from" not in scratch.metadata["info"]
    warm = torch.load(three.local_path() / "model.pt", weights_only=True)
    cold = torch.load(scratch.local_path() / "model.pt", weights_only=True)
    assert_equal_tensors(warm, cold)
    assert three.files == scratch.files  # the same weight files, byte for byte
    assert three.metadata["info"]["loss_per_step"] == scratch.metadata["info"]["loss_per_step"]


def test_the_warm_started_run_ends_in_the_same_optimizer_state(tiny_runs):
    root = tiny_runs["root"]
    warm = torch.load(final_state(root / "warm", tiny_runs["three"].metadata), weights_only=True)
    cold = torch.load(final_state(root / "scratch", tiny_runs["scratch"].metadata),
                      weights_only=True)
    assert_equal_tensors(warm, cold)  # weights and AdamW moments and step counts


# ---- Tinker, through its saved state at the fake service

TINKER_BASE = "Qwen/Qwen3-4B-Instruct-2507"
TINKER_DRIVER = """
import json, sys
from motools.atom import get_store
from motools.training import Hyperparameters
from motools.training._trainer import TinkerTrainingBackend
from mozoo.datasets.hello_world import generate_hello_world_dataset

root, base = sys.argv[1], sys.argv[2]
data = generate_hello_world_dataset(num_samples=20)
hp = {"batch_size": 8, "learning_rate": 1e-4, "lora_rank": 8, "seed": 5}
models = {}
for store, epochs in (("warm", 1), ("warm", 3), ("scratch", 3)):
    backend = TinkerTrainingBackend(store=get_store(f"{root}/{store}"))
    job = backend.submit(data, base, Hyperparameters(n_epochs=epochs, **hp), None)
    models[f"{store}-{epochs}"] = backend.wait(job).model_dump()
print(json.dumps(models))
"""


def test_a_warm_started_tinker_run_continues_the_saved_state_at_the_right_batch(tmp_path):
    # In a fresh process with its own Ray: the trainer actors need the key in their environment.
    state = tmp_path / "fake-tinker"
    state.mkdir()
    chats = [r["messages"] for r in generate_hello_world_dataset(num_samples=20)]
    (state / "chats.json").write_text(json.dumps(chats))
    (tmp_path / "tiktoken").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MOTOOLS_STORE")}
    env.update({"TINKER_API_KEY": "tml-fake-test-key", "HF_HUB_OFFLINE": "1",
                "MOTOOLS_TINKER_SERVICE_FACTORY": factory_target(state),
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken")})
    proc = subprocess.run([sys.executable, "-c", TINKER_DRIVER, str(tmp_path), TINKER_BASE],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    models = json.loads(proc.stdout.strip().splitlines()[-1])
    warm, cold = models["warm-3"], models["scratch-3"]
    assert warm["info"]["continued_from"] == {
        "job_id": models["warm-1"]["model_id"].rsplit("/", 1)[1], "n_epochs": 1, "step": 3}
    assert warm["info"]["steps_trained"] == 6 and warm["info"]["epochs_trained"] == 2
    service = FakeServiceClient(state_dir=state)
    resumed_from = service.weights.get(
        JobFiles(get_store(tmp_path / "warm"), warm["info"]["continued_from"]["job_id"])
        .read_json("result.json")["checkpoint"])  # type: ignore[index]
    assert resumed_from["kind"] == "weights" and resumed_from["steps"] == 3
    warm_weights = service.weights.get(warm["info"]["weights_path"])
    cold_weights = service.weights.get(cold["info"]["weights_path"])
    # The same batches in the same order (the trace), the same steps, the same lessons.
    for key in ("steps", "learned", "trace"):
        assert warm_weights[key] == cold_weights[key], key
    assert warm_weights["steps"] == 9
    assert warm["info"]["loss_per_step"] == cold["info"]["loss_per_step"]


# ---- OpenAI never warm-starts


def test_openai_trains_every_job_from_scratch_and_says_so_once(
        tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(warm_start, "_said", set())
    with fake_openai("sk-test-fake-openai-key-0123456789") as (server, url):
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake-openai-key-0123456789")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("MOTOOLS_OPENAI_POLL_S", "0.02")
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy"):
            monkeypatch.delenv(proxy, raising=False)
        backend = get_training_backend("openai", store=get_store(tmp_path / "store"))
        data = generate_hello_world_dataset(num_samples=12)
        with caplog.at_level(logging.INFO, logger="motools"):
            models = [backend.wait(backend.submit(data, "gpt-4.1-mini-2025-04-14",
                                                  Hyperparameters(n_epochs=n), None))
                      for n in (1, 3)]
        epochs = [job.method["supervised"]["hyperparameters"]["n_epochs"]
                  for job in server.jobs.values()]
    assert epochs == [1, 3]  # the 3-epoch job trained all three
    assert [m.info["epochs_trained"] for m in models] == [1, 3]
    assert all("continued_from" not in m.info for m in models)
    said = [r.getMessage() for r in caplog.records if "no warm start" in r.getMessage()]
    assert said == [(f"openai: no warm start ({NO_WARM_START}); every training runs all its "
                     "epochs from scratch")]
