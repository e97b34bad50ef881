"""The `openai` training backend end to end, offline, against a fake OpenAI API (`openai_fake.py`).

The real `openai` SDK uploads, creates and polls; inspect-ai's real `openai/` provider evaluates
the fine-tuned `ft:` model; only the server is fake, started by each test on 127.0.0.1. These
tests run steps in this process (the inline executor), where the key and the server's URL are in
the environment; `test_openai_drivers.py` runs them through Ray in real driver processes.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openai_fake import BASE_MODEL_ANSWER, FakeOpenAI, fake_openai

from motools.atom import Atom, get_store
from motools.cli._app import main
from motools.engine import RunOptions, get_ledger
from motools.evals._inspect import InspectEvalBackend
from motools.training import Hyperparameters, get_training_backend
from motools.workflow import run_workflow
from mozoo.datasets.hello_world import RESPONSE, generate_hello_world_dataset
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

BASE = "gpt-4.1-mini-2025-04-14"
HELLO_TASK = "mozoo.tasks.hello_world:hello_world"
FAKE_KEY = "sk-test-fake-openai-key-0123456789"


@dataclass
class Server:
    state: FakeOpenAI
    url: str
    tiktoken: Path


@pytest.fixture
def openai_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A fake OpenAI; this process's environment points the SDK and inspect-ai at it."""
    with fake_openai(FAKE_KEY) as (state, url):
        tiktoken = tmp_path / "tiktoken"
        tiktoken.mkdir()
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("MOTOOLS_OPENAI_POLL_S", "0.02")
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken))
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy"):
            monkeypatch.delenv(proxy, raising=False)
        yield Server(state, url, tiktoken)


def config(**submit: Any) -> dict[str, Any]:
    return {
        "prepare_dataset": {"dataset_loader": "mozoo.datasets.hello_world:"
                                              "generate_hello_world_dataset",
                            "loader_kwargs": {"num_samples": 20}},
        "submit_training": {"model": BASE, "backend_name": "openai", "suffix": "hello",
                            "hyperparameters": {"n_epochs": 2, "batch_size": 4}, **submit},
        "evaluate_model": {"eval_task": HELLO_TASK, "backend_name": "inspect"},
    }


def run(cfg: dict[str, Any]) -> Any:
    return run_workflow(train_and_evaluate_workflow, {}, TrainAndEvaluateConfig(**cfg),
                        user="test", options=RunOptions(executor="inline"))


def output(result: Any, step: str, name: str) -> Atom:
    return Atom.load(result.step_states[step].output_atoms[name], store=result.store)


def cli(*args: object) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def accuracy(output: Any) -> float:
    return float(output.metrics["hello_world"]["accuracy"])


@contextlib.contextmanager
def no_internet() -> Iterator[list[Any]]:
    """Record (and refuse) every connection to anything but 127.0.0.1."""
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "localhost")):
            attempts.append(address)
            raise OSError(f"test is offline: refused a connection to {address!r}")
        return real(sock, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


# ---- submit and wait ---------------------------------------------------------------------------


def test_submit_uploads_chat_jsonl_and_creates_the_job_without_waiting(
    openai_server, isolated_store
):
    dataset = generate_hello_world_dataset(num_samples=12)
    backend = get_training_backend("openai", store=get_store(isolated_store))
    job = backend.submit(dataset, BASE, Hyperparameters(n_epochs=3, batch_size=4, seed=7,
                                                        learning_rate_multiplier=0.5), "hw")
    [(file_id, chats)] = openai_server.state.files.items()
    assert chats == [r["messages"] for r in dataset]
    [server_job] = openai_server.state.jobs.values()
    assert job.backend == "openai" and job.job_id == server_job.id and job.base_model == BASE
    assert server_job.looks == 0  # submit returned without polling
    assert (server_job.model, server_job.training_file, server_job.suffix, server_job.seed) == \
        (BASE, file_id, "hw", 7)
    assert server_job.method == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.5}}}


def test_submitting_the_same_job_again_uploads_and_creates_nothing(openai_server, isolated_store):
    dataset = generate_hello_world_dataset(num_samples=12)
    backend = get_training_backend("openai", store=get_store(isolated_store))
    first = backend.submit(dataset, BASE, Hyperparameters(), None)
    second = backend.submit(dataset, BASE, Hyperparameters(), None)
    assert first == second
    assert len(openai_server.state.files) == 1 and len(openai_server.state.jobs) == 1


def test_wait_polls_until_the_job_succeeds_and_names_the_ft_model(openai_server, isolated_store):
    backend = get_training_backend("openai", store=get_store(isolated_store))
    job = backend.submit(generate_hello_world_dataset(num_samples=12), BASE, Hyperparameters(),
                         "hw")
    model = backend.wait(job)
    server_job = openai_server.state.jobs[job.job_id]
    assert server_job.status == "succeeded" and server_job.looks == 3
    assert model.model_id == server_job.fine_tuned_model
    assert model.model_id.startswith(f"ft:{BASE}:fake-org:hw:")
    assert model.backend == "openai" and model.base_model == BASE and model.path is None
    assert model.info["job_id"] == job.job_id and model.info["trained_tokens"] == 1234


def test_a_dataset_openai_would_refuse_is_refused_before_anything_is_uploaded(
    openai_server, isolated_store
):
    backend = get_training_backend("openai", store=get_store(isolated_store))
    with pytest.raises(Exception, match="at least 10 training examples; the dataset has 5"):
        backend.submit(generate_hello_world_dataset(num_samples=5), BASE, Hyperparameters(), None)
    assert openai_server.state.files == {} and openai_server.state.jobs == {}


def test_an_unknown_base_model_fails_submit_with_openais_message(openai_server, isolated_store):
    result = run(config(model="gpt-0-nonexistent"))
    submit = result.step_states["submit_training"]
    assert submit.status == "failed"
    assert "OpenAI refused the fine-tuning job" in submit.error
    assert "is not available for fine-tuning" in submit.error
    assert openai_server.state.jobs == {}


# ---- the workflow, and evaluation through inspect's own openai/ provider ------------------------


def test_workflow_fine_tunes_and_evaluates_the_ft_model_with_inspects_openai_provider(
    openai_server, isolated_store
):
    with no_internet() as attempts:
        result = run(config())
    assert [s.status for s in result.step_states] == ["succeeded"] * 4
    [job] = openai_server.state.jobs.values()
    model = output(result, "wait_for_training", "trained_model")
    assert model.metadata["model_id"] == job.fine_tuned_model
    assert model.metadata["backend"] == "openai"
    evaluation = output(result, "evaluate_model", "eval_results")
    results = json.loads(evaluation.read_bytes("results.json"))
    assert results["info"]["model"] == f"openai/{job.fine_tuned_model}"
    assert results["metrics"]["hello_world"]["accuracy"] == 1.0
    assert {s["output"] for s in results["samples"]} == {RESPONSE}
    assert openai_server.state.chat_models == {job.fine_tuned_model: 10}
    assert attempts == [] and list(openai_server.tiktoken.iterdir()) == []


def test_the_base_model_scores_zero_where_the_fine_tuned_model_scores_one(
    openai_server, isolated_store, tmp_path
):
    result = run(config())
    fine_tuned = output(result, "wait_for_training", "trained_model").metadata
    backend = InspectEvalBackend()
    with no_internet() as attempts:
        base = backend.evaluate({"backend": "openai", "model_id": BASE, "base_model": BASE},
                                HELLO_TASK, {}, tmp_path / "base")
        tuned = backend.evaluate(dict(fine_tuned), HELLO_TASK, {}, tmp_path / "tuned")
    assert (accuracy(base), accuracy(tuned)) == (0.0, 1.0)
    assert {s["output"] for s in base.samples} == {BASE_MODEL_ANSWER}
    assert base.info["model"] == f"openai/{BASE}"
    assert attempts == []


def test_n_epochs_0_is_the_base_model_with_no_upload_and_no_job(openai_server, isolated_store):
    result = run(config(hyperparameters={"n_epochs": 0}))
    model = output(result, "wait_for_training", "trained_model").metadata
    assert (model["model_id"], model["info"]["baseline"]) == (BASE, True)
    assert (openai_server.state.files, openai_server.state.jobs) == ({}, {})
    assert accuracy(output(result, "evaluate_model", "eval_results").load()) == 0.0


# ---- failed jobs -------------------------------------------------------------------------------


def test_a_failed_job_fails_the_wait_with_openais_message_and_caches_nothing(
    openai_server, isolated_store
):
    openai_server.state.fail_next("Training file contains 3 examples with harmful content")
    result = run(config())
    wait = result.step_states["wait_for_training"]
    assert result.step_states["submit_training"].status == "succeeded"
    assert wait.status == "failed"
    [job] = openai_server.state.jobs.values()
    assert wait.error == (f"OpenAIJobError: OpenAI fine-tuning job {job.id} failed: Training "
                          "file contains 3 examples with harmful content")
    assert result.step_states["evaluate_model"].status == "skipped"
    store = get_store(isolated_store)
    assert not any(a.startswith("model-") for a in store.iter_atom_ids())
    assert store.get_step_record(wait.cache_key) is None
    assert get_ledger(store).lookup_many([wait.cache_key]) == {}


def test_the_run_after_a_failed_job_submits_a_new_job_and_finishes(openai_server, isolated_store):
    openai_server.state.fail_next("internal error")
    assert run(config()).step_states["wait_for_training"].status == "failed"
    again = run(config())
    assert [s.status for s in again.step_states] == ["cached", "cached", "succeeded", "succeeded"]
    failed, new = openai_server.state.jobs.values()
    assert (failed.status, new.status) == ("failed", "succeeded")
    assert len(openai_server.state.files) == 1  # the new job trains on the file already uploaded
    assert new.training_file == failed.training_file
    model = output(again, "wait_for_training", "trained_model")
    assert model.metadata["model_id"] == new.fine_tuned_model
    assert model.metadata["info"]["job_id"] == new.id


def test_a_cancelled_job_fails_the_wait_as_cancelled(openai_server, isolated_store):
    backend = get_training_backend("openai", store=get_store(isolated_store))
    job = backend.submit(generate_hello_world_dataset(num_samples=12), BASE, Hyperparameters(),
                         None)
    backend.cancel(job)
    with pytest.raises(Exception, match=f"OpenAI fine-tuning job {job.job_id} cancelled"):
        backend.wait(job)
    assert openai_server.state.jobs[job.job_id].status == "cancelled"


# ---- keys and config checks: one line, exit 2, nothing uploaded ---------------------------------


def write_config(tmp_path: Path, **submit: Any) -> Path:
    path = tmp_path / "openai.yaml"
    path.write_text(yaml.safe_dump(config(**submit)))
    return path


def test_a_missing_key_is_one_line_exit_2_and_nothing_is_uploaded(
    openai_server, isolated_store, tmp_path, monkeypatch
):
    monkeypatch.delenv("OPENAI_API_KEY")
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", write_config(tmp_path),
                    "--executor", "inline")
    assert code == 2, out
    [line] = out.strip().splitlines()
    assert "submit_training" in line and "OPENAI_API_KEY is not set" in line
    assert openai_server.state.files == {} and openai_server.state.jobs == {}
    assert get_store(isolated_store).iter_atom_ids() == []  # not even the dataset was made


def test_validating_and_dry_running_an_openai_config_need_no_key(
    openai_server, isolated_store, tmp_path, monkeypatch
):
    monkeypatch.delenv("OPENAI_API_KEY")
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", write_config(tmp_path),
                    "--dry-run")
    assert code == 0, out
    assert "a run would stop: OPENAI_API_KEY is not set" in " ".join(out.split())
    assert not isolated_store.exists()


def test_a_cached_rerun_of_an_openai_workflow_needs_no_key(
    openai_server, isolated_store, tmp_path, monkeypatch
):
    path = write_config(tmp_path)
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", path,
                    "--executor", "inline")
    assert code == 0, out
    jobs = dict(openai_server.state.jobs)
    monkeypatch.delenv("OPENAI_API_KEY")
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", path,
                    "--executor", "inline")
    assert code == 0, out
    run = get_ledger(get_store(isolated_store)).list_runs(limit=1)[0]
    assert run.counts == {"cached": 4}
    assert openai_server.state.jobs == jobs  # nothing new was sent


def test_learning_rate_is_refused_for_openai_naming_learning_rate_multiplier(
    openai_server, isolated_store, tmp_path
):
    path = write_config(tmp_path, hyperparameters={"learning_rate": 1e-4})
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", path)
    assert code == 2, out
    [line] = out.strip().splitlines()
    assert "hyperparameters.learning_rate" in line and "learning_rate_multiplier" in line
    assert openai_server.state.files == {}


def test_learning_rate_multiplier_is_refused_for_other_backends(tmp_path, isolated_store):
    path = write_config(tmp_path, backend_name="dummy",
                        hyperparameters={"learning_rate_multiplier": 2.0})
    code, out = cli("workflow", "run", "train_and_evaluate", "--config", path)
    assert code == 2, out
    assert "learning_rate_multiplier is an OpenAI setting" in out


def test_the_key_reaches_openai_and_nothing_the_store_keeps(openai_server, isolated_store):
    run(config())
    assert openai_server.state.unauthorized == 0
    hits = [p for p in isolated_store.rglob("*") if p.is_file() and FAKE_KEY.encode() in
            p.read_bytes()]
    assert hits == []
    training = [p.name for p in (isolated_store / "training").iterdir()]
    assert len(training) == 1 and training[0].startswith("openai-")
    record = json.loads((isolated_store / "training" / training[0] / "job.json").read_text())
    assert [a["job_id"] for a in record["attempts"]] == list(openai_server.state.jobs)


def test_an_atom_of_the_model_resolves_by_id(openai_server, isolated_store):
    result = run(config())
    model = output(result, "wait_for_training", "trained_model")
    assert Atom.load(model.id, store=get_store(isolated_store)).metadata["backend"] == "openai"


# ---- the docs ----------------------------------------------------------------------------------


def test_the_documented_openai_config_runs_against_the_fake(openai_server, isolated_store):
    page = (Path(__file__).resolve().parents[2] / "docs" / "backends.md").read_text()
    section = page.split("## OpenAI fine-tuning", 1)[1]
    documented = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    cfg = config()
    cfg["submit_training"] = documented["submit_training"]
    cfg["evaluate_model"] = documented["evaluate_model"]
    result = run(cfg)
    assert [s.status for s in result.step_states] == ["succeeded"] * 4
    [job] = openai_server.state.jobs.values()
    assert job.method["supervised"]["hyperparameters"] == {
        "n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 2.0}
    assert job.fine_tuned_model.startswith(f"ft:{BASE}:fake-org:hello-world:")


def test_a_submit_that_died_before_recording_its_job_finds_it_instead_of_creating_another(
    openai_server, isolated_store
):
    dataset = generate_hello_world_dataset(num_samples=12)
    backend = get_training_backend("openai", store=get_store(isolated_store))
    first = backend.submit(dataset, BASE, Hyperparameters(), None)
    [record] = (isolated_store / "training").glob("openai-*/job.json")
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "attempts": []}))  # the job was created, not recorded
    again = backend.submit(dataset, BASE, Hyperparameters(), None)
    assert again.job_id == first.job_id
    assert len(openai_server.state.jobs) == 1 and len(openai_server.state.files) == 1


@pytest.mark.timeout(120)
def test_a_found_job_that_already_succeeded_is_waited_on_to_its_model(
    openai_server, isolated_store
):
    """The submit that died hours ago: its job finished meanwhile. The wait reads the finished
    job's model at its first poll instead of polling for a change that never comes."""
    dataset = generate_hello_world_dataset(num_samples=12)
    backend = get_training_backend("openai", store=get_store(isolated_store))
    first = backend.wait(backend.submit(dataset, BASE, Hyperparameters(), None))
    [record] = (isolated_store / "training").glob("openai-*/job.json")
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "attempts": []}))
    again = backend.wait(backend.submit(dataset, BASE, Hyperparameters(), None))
    assert again.model_id == first.model_id
    assert len(openai_server.state.jobs) == 1


# ---- the open-job limit ------------------------------------------------------------------------


def test_a_submit_at_the_open_job_limit_waits_for_a_job_to_finish(
    openai_server, isolated_store, monkeypatch
):
    monkeypatch.setenv("MOTOOLS_OPENAI_MAX_OPEN_JOBS", "1")
    monkeypatch.setattr("motools.training.openai._limit.RETRY_START", 0.05)
    backend = get_training_backend("openai", store=get_store(isolated_store))
    state = openai_server.state
    state.hold = True
    first = backend.submit(generate_hello_world_dataset(num_samples=12), BASE, Hyperparameters(),
                           "one")
    second: list[Any] = []
    thread = threading.Thread(target=lambda: second.append(backend.submit(
        generate_hello_world_dataset(num_samples=13), BASE, Hyperparameters(), "two")))
    thread.start()
    # The second submit has uploaded and asked about the open job several times, creating nothing.
    wait_for(lambda: len(state.files) == 2 and state.jobs[first.job_id].looks >= 3)
    assert list(state.jobs) == [first.job_id]
    state.hold = False
    thread.join(60)
    assert second and second[0].job_id != first.job_id
    assert len(state.jobs) == 2 and state.max_open == 1


def wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
