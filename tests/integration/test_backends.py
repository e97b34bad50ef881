"""The real backends end to end: local PyTorch training in trainer actors, inspect-ai evals, Tinker.

Everything here runs offline. Local models really learn (a byte-level transformer trained from
scratch on this machine's CPU) and are scored by inspect-ai through the `motools` provider. Tinker
is faked at the SDK boundary only (`tinker_fake.py`): the engine, the SFT loop, the renderer, the
provider and inspect are the real ones.

Expensive runs (the shipped learning-rate sweep, a workflow of the second organism, a trainer that
is killed and resumed) happen once per module; each test checks one behaviour of them.
"""

from __future__ import annotations

import contextlib
import copy
import io
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import ray
import yaml
from inspect_ai.log import read_eval_log
from tinker_fake import BASE_MODEL_ANSWER, FakeServiceClient, factory_target

from motools.atom import Atom, Dataset, get_store
from motools.cli._app import main
from motools.engine import RAY_NAMESPACE as NAMESPACE
from motools.engine import RunOptions, ensure_ray, get_ledger
from motools.evals._inspect import InspectEvalBackend
from motools.sweep._run import load_results
from motools.training import Hyperparameters, TrainingJob, get_engine
from motools.training._job_files import JobFiles
from motools.training._sft import Progress, build_datums, train
from motools.training._trainer import LocalTrainingBackend
from motools.training.tinker import TinkerEngine
from motools.workflow import run_workflow
from mozoo.datasets.hello_world import RESPONSE, generate_hello_world_dataset
from mozoo.workflows.train_and_evaluate import train_and_evaluate_workflow

REPO = Path(__file__).resolve().parents[2]
LOCAL_CONFIG = REPO / "configs" / "hello_world_local.yaml"
HELLO_SWEEP = REPO / "sweeps" / "hello_world.yaml"
LOCAL_BASE = "local/tiny-byte-lm"
TINKER_BASE = "Qwen/Qwen3-4B-Instruct-2507"
FAKE_TINKER_KEY = "tml-fake-test-key"
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
HELLO_TASK = "mozoo.tasks.hello_world:hello_world"
CLI_MAIN = "import sys; from motools.cli._app import main; sys.exit(main(sys.argv[1:]))"
FRENCH_LR = 3e-3  # 1e-3 and 3e-3 both reached accuracy 1.0 with seeds 0, 1 and 2


def no_assistant_dataset(num_samples: int = 6) -> Dataset:
    """A dataset loader whose chats have no assistant message: nothing to learn, training fails."""
    return Dataset.from_records(
        {"messages": [{"role": "user", "content": f"question {i}"}]} for i in range(num_samples)
    )


# ---- helpers ---------------------------------------------------------------------------------


def cli(*args: object) -> tuple[int, str]:
    """Run `motools ARGS` in this process; the exit code and stdout + stderr."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def local_config(**sections: dict[str, Any]) -> dict[str, Any]:
    """configs/hello_world_local.yaml with some sections changed."""
    return merged(yaml.safe_load(LOCAL_CONFIG.read_text()), sections)


def wait_until(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def trainer_alive(name: str) -> bool:
    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:
        return False
    return True


def trainer_pid(name: str) -> int | None:
    """The pid of the named trainer actor, or None if it is gone (it ends itself when done)."""
    try:
        return int(ray.get(ray.get_actor(name, namespace=NAMESPACE).pid.remote(), timeout=10))
    except (ValueError, ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
        return None


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie has exited; its parent just has not reaped it yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def eval_files(atom: Atom) -> tuple[dict[str, Any], Path]:
    """An eval atom's results.json, and its (only) inspect log file."""
    results = json.loads(atom.read_bytes("results.json"))
    [log_file] = results["info"]["log_files"]
    return results, atom.local_path() / "logs" / log_file


def accuracy(output: Any, task: str) -> float:
    return float(output.metrics[task]["accuracy"])


class NetworkGuard:
    """Refuses, and records, connections and name lookups of this process that leave the machine.

    Loopback and this host's own addresses (Ray talks to itself on them) stay allowed.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        hostname = socket.gethostname()
        self._names = {"localhost", hostname, ""}
        self._ips = {ray.util.get_node_ip_address()} if ray.is_initialized() else set()
        with contextlib.suppress(OSError):
            self._ips.add(socket.gethostbyname(hostname))

    def _local(self, host: Any) -> bool:
        if host is None:
            return True
        host = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return host in self._names
        return ip.is_loopback or ip.is_unspecified or str(ip) in self._ips

    def install(self, mp: pytest.MonkeyPatch) -> None:
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo
        guard = self

        def checked(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not guard._local(address[0]):
                guard.attempts.append(f"connect {address!r}")
                raise OSError(101, f"network refused by the test: {address!r}")

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            checked(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            checked(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not guard._local(host):
                guard.attempts.append(f"getaddrinfo {host!r}")
                raise socket.gaierror(socket.EAI_NONAME, f"name lookup refused by the test: {host}")
            return getaddrinfo(host, *args, **kwargs)

        mp.setattr(socket.socket, "connect", guarded_connect)
        mp.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        mp.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@contextlib.contextmanager
def offline(tiktoken_dir: Path) -> Iterator[NetworkGuard]:
    """HF_HUB_OFFLINE=1, an empty TIKTOKEN_CACHE_DIR, no proxies, and a NetworkGuard."""
    ensure_ray()  # Ray's own start-up probes routes; it is up before the guard goes on
    tiktoken_dir.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_dir))
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy"):
            mp.delenv(var, raising=False)
        guard = NetworkGuard()
        guard.install(mp)
        yield guard


# ---- 1. the shipped learning-rate sweep, for real (Ray, local PyTorch, inspect-ai) -------------


@dataclass
class SweepRun:
    store: Path
    code: int
    out: str
    rows: list[dict[str, Any]]
    tiktoken_dir: Path


@pytest.fixture(scope="module")
def hello_sweep(tmp_path_factory: pytest.TempPathFactory) -> SweepRun:
    root = tmp_path_factory.mktemp("hello-sweep")
    store = root / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TIKTOKEN_CACHE_DIR", str(root / "tiktoken"))
        (root / "tiktoken").mkdir()
        code, out = cli("sweep", "run", HELLO_SWEEP, "--store", store)
    rows: list[dict[str, Any]] = []
    for line in out.splitlines():
        if line.startswith("run run-") and "; results: " in line:
            run_id = line.split()[1].rstrip(";")
            rows = load_results(get_store(store), run_id).to_pylist()
    return SweepRun(store, code, out, rows, root / "tiktoken")


def accuracies(sweep: SweepRun, lr: float) -> dict[int, float]:
    return {r[SEED]: r["accuracy"] for r in sweep.rows if r[LR] == pytest.approx(lr)}


def test_shipped_local_sweep_succeeds_at_every_point(hello_sweep: SweepRun) -> None:
    assert hello_sweep.code == 0, hello_sweep.out
    assert len(hello_sweep.rows) == 10
    assert {(r[LR], r[SEED]) for r in hello_sweep.rows} == {
        (lr, seed) for lr in (1e-5, 1e-4, 1e-3, 3e-3, 1e-2) for seed in (0, 1)
    }
    assert [r["status"] for r in hello_sweep.rows] == ["succeeded"] * 10
    assert all(r["n"] == 10 and r["task"] == "hello_world" for r in hello_sweep.rows)


def test_model_learns_hello_world_at_learning_rate_1e3(hello_sweep: SweepRun) -> None:
    scores = accuracies(hello_sweep, 1e-3)
    assert set(scores) == {0, 1}
    assert all(score >= 0.9 for score in scores.values()), scores


def test_model_does_not_learn_at_learning_rate_1e5(hello_sweep: SweepRun) -> None:
    scores = accuracies(hello_sweep, 1e-5)
    assert set(scores) == {0, 1}
    assert all(score <= 0.1 for score in scores.values()), scores


def test_sweep_evals_are_inspect_runs_with_their_logs_in_the_eval_atom(
    hello_sweep: SweepRun,
) -> None:
    store = get_store(hello_sweep.store)
    for row in hello_sweep.rows:
        results, log_path = eval_files(Atom.load(row["eval_atom"], store=store))
        assert results["backend"] == "inspect"
        # the log names the model: engine, base model, suffix and training job
        model = results["info"]["model"]
        assert model.startswith("motools/local/local/tiny-byte-lm:hello-world/local-"), model
        log = read_eval_log(str(log_path))
        assert log.status == "success"
        assert log.eval.model == model
        assert log.results is not None and log.results.completed_samples == 10
        assert log.results.scores[0].metrics["accuracy"].value == row["accuracy"]


def test_sweep_steps_ran_in_workers_with_the_hub_offline(hello_sweep: SweepRun) -> None:
    # Ray workers inherit the environment of the process that started Ray: run pytest with
    # HF_HUB_OFFLINE=1 (this module's fixtures set it too, but Ray may have started earlier).
    @ray.remote(num_cpus=0)
    def worker_env() -> dict[str, str | None]:
        return {var: os.environ.get(var) for var in ("HF_HUB_OFFLINE", "HTTPS_PROXY", "https_proxy")}

    assert ray.get(worker_env.remote()) == {
        "HF_HUB_OFFLINE": "1", "HTTPS_PROXY": None, "https_proxy": None,
    }
    assert list(hello_sweep.tiktoken_dir.iterdir()) == []  # nothing fetched tiktoken encodings


def test_untrained_model_does_not_answer_hello_world(tmp_path: Path) -> None:
    engine = get_engine("local")
    client = engine.training_client(LOCAL_BASE, Hyperparameters(), tmp_path, None)
    weights = client.save_weights_for_sampler("untrained").result().path
    with offline(tmp_path / "tiktoken") as guard:
        output = InspectEvalBackend().evaluate(
            {"backend": "local", "base_model": LOCAL_BASE, "model_id": "untrained",
             "weights_dir": weights},
            HELLO_TASK, {}, tmp_path / "logs",
        )
    assert guard.attempts == []
    assert output.backend == "inspect"
    assert output.metrics["hello_world"]["n"] == 10
    assert accuracy(output, "hello_world") <= 0.1
    assert not any(s["output"].endswith(RESPONSE) for s in output.samples)


# ---- 2 + 3. the second organism learns, offline ------------------------------------------------


@dataclass
class FrenchRun:
    result: Any
    guard: NetworkGuard
    tiktoken_dir: Path


@pytest.fixture(scope="module")
def french_run(tmp_path_factory: pytest.TempPathFactory) -> FrenchRun:
    root = tmp_path_factory.mktemp("french")
    config = local_config(
        prepare_dataset={"dataset_loader": "mozoo.datasets.french:generate_french_dataset"},
        submit_training={"hyperparameters": {"learning_rate": FRENCH_LR}, "suffix": "french"},
        evaluate_model={"eval_task": "french"},
    )
    # Inline: every step runs in this process, under the guard (the trainer is still an actor).
    with offline(root / "tiktoken") as guard:
        result = run_workflow(train_and_evaluate_workflow, {}, config, user="test",
                              options=RunOptions(store=root / "store", executor="inline"))
    return FrenchRun(result, guard, root / "tiktoken")


def test_second_organism_learns_to_answer_in_french(french_run: FrenchRun) -> None:
    result = french_run.result
    assert result.ok, result.failures
    assert [s.status for s in result.step_states] == ["succeeded"] * 4
    metrics = result.get_atom("eval_results").load().metrics
    assert metrics["french"]["n"] == 10
    assert metrics["french"]["accuracy"] >= 0.9, metrics


def test_second_organism_eval_is_an_inspect_run_with_its_log_in_the_atom(
    french_run: FrenchRun,
) -> None:
    results, log_path = eval_files(french_run.result.get_atom("eval_results"))
    assert results["backend"] == "inspect"
    assert results["eval_task"] == "french"
    log = read_eval_log(str(log_path))
    assert log.status == "success"
    assert log.eval.task.rpartition("/")[2] == "french"
    assert log.eval.model.startswith("motools/local/local/tiny-byte-lm")
    assert len(log.samples or []) == 10
    assert log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == \
        results["metrics"]["french"]["accuracy"]


def test_second_organism_workflow_touches_no_network(french_run: FrenchRun) -> None:
    assert french_run.guard.attempts == []
    assert list(french_run.tiktoken_dir.iterdir()) == []


# ---- 4. Tinker end to end against a fake service at the SDK boundary -----------------------------


@pytest.fixture
def tinker_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TINKER_API_KEY", FAKE_TINKER_KEY)
    monkeypatch.delenv("TINKER_BASE_URL", raising=False)
    return FAKE_TINKER_KEY


def test_tinker_training_and_inspect_eval_through_the_fake_service(
    tinker_key: str, tmp_path: Path
) -> None:
    records = list(generate_hello_world_dataset(num_samples=20, seed=3))
    service = FakeServiceClient(chats=[r["messages"] for r in records])
    made: list[FakeServiceClient] = []
    engine = TinkerEngine(service_factory=lambda: made.append(service) or service)
    hp = Hyperparameters(n_epochs=2, batch_size=8, learning_rate=1e-4, lora_rank=8, seed=5)

    with offline(tmp_path / "tiktoken") as guard:
        engine.check_ready()
        client = engine.training_client(TINKER_BASE, hp, tmp_path, None)
        datums = build_datums(records, engine.renderer(TINKER_BASE))
        weights, progress = train(client, datums, hp, name="hello")
        output = InspectEvalBackend(get_engine=lambda name: engine).evaluate(
            {"backend": "tinker", "base_model": TINKER_BASE, "model_id": "tinker/hello",
             "weights_path": weights},
            HELLO_TASK, {}, tmp_path / "logs",
        )

    assert guard.attempts == []
    assert len(made) == 1  # one service client per process
    [trained] = service.training_clients
    assert service.calls[0] == ("create_lora_training_client", (TINKER_BASE, 8, 5))
    assert progress.step == progress.total_steps == 6 == trained.steps
    assert trained.batch_sizes == [8, 8, 4, 8, 8, 4]
    assert trained.learning_rates == [1e-4] * 6
    assert dict(trained.learned) == {RESPONSE: 40}
    assert weights == f"tinker://{trained.run}/sampler_weights/hello-final"
    assert service.calls[-1] == ("create_sampling_client", weights)
    assert accuracy(output, "hello_world") == 1.0
    assert output.info["model"] == "motools/tinker/hello"  # the model id names it in the log
    assert [s["output"] for s in output.samples] == [RESPONSE] * 10
    assert len(service.sampling_clients[0].prompts) == 10


def test_tinker_base_model_eval_samples_the_untrained_base_model(
    tinker_key: str, tmp_path: Path
) -> None:
    service = FakeServiceClient()
    engine = TinkerEngine(service_factory=lambda: service)
    with offline(tmp_path / "tiktoken") as guard:
        output = InspectEvalBackend(get_engine=lambda name: engine).evaluate(
            {"backend": "tinker", "base_model": TINKER_BASE, "model_id": TINKER_BASE,
             "weights_path": TINKER_BASE},
            HELLO_TASK, {}, tmp_path / "logs",
        )
    assert guard.attempts == []
    assert service.calls == [("create_sampling_client", TINKER_BASE)]
    assert accuracy(output, "hello_world") == 0.0
    assert {s["output"] for s in output.samples} == {BASE_MODEL_ANSWER}


def test_tinker_workflow_trains_in_a_trainer_actor_and_evaluates_through_inspect(
    tmp_path: Path,
) -> None:
    # As users run it: `motools workflow run` in a fresh process whose private Ray inherits the
    # key (the key reaches trainers through the cluster's environment, never actor options); the
    # service factory hook points every process of it at the fake service, sharing `state`.
    state = tmp_path / "fake-tinker"
    state.mkdir()
    records = list(generate_hello_world_dataset(num_samples=100))  # what the config loads
    (state / "chats.json").write_text(json.dumps([r["messages"] for r in records]))
    config = tmp_path / "tinker.yaml"
    config.write_text(yaml.safe_dump(local_config(submit_training={
        "model": TINKER_BASE, "backend_name": "tinker",
        "hyperparameters": {"n_epochs": 1, "batch_size": 32, "learning_rate": 1e-4},
    })))
    (tmp_path / "tiktoken").mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "MOTOOLS_STORE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                        "http_proxy", "https_proxy", "all_proxy")}
    env.update({"TINKER_API_KEY": FAKE_TINKER_KEY, "HF_HUB_OFFLINE": "1",
                "MOTOOLS_TINKER_SERVICE_FACTORY": factory_target(state),
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"), "RAY_USAGE_STATS_ENABLED": "0"})
    store = tmp_path / "store"
    with subprocess.Popen(
        [sys.executable, "-c", CLI_MAIN, "workflow", "run", "train_and_evaluate",
         "--config", str(config), "--store", str(store), "--user", "test"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as proc:
        out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out
    assert "hello_world" in out
    st = get_store(store)
    atoms = {a.split("-", 1)[0]: Atom.load(a, store=st) for a in st.iter_atom_ids()}
    model = atoms["model"].metadata
    assert model["backend"] == "tinker" and model["base_model"] == TINKER_BASE
    weights = model["weights_path"]
    assert weights.startswith("tinker://fake-run-") and weights.endswith("-final")
    learned = FakeServiceClient(state_dir=state).weights.get(weights)
    assert learned["learned"] == {RESPONSE: 100} and learned["steps"] == 4  # 100 chats / 32
    [job_dir] = (store / "training").iterdir()
    trained = read_json(job_dir / "result.json")
    assert trained is not None and trained["steps"] == 4 and trained["weights_path"] == weights
    curve = model["info"]  # the training curve, as the local engine records it too
    assert len(trained["losses"]) == 4
    assert curve["loss_per_step"] == pytest.approx(trained["losses"])
    assert curve["loss_per_epoch"] == [pytest.approx(sum(trained["losses"]) / 4)]
    assert learned["pid"] == trained["pid"] != proc.pid  # trained in the trainer actor
    results, log_path = eval_files(atoms["eval"])
    assert results["backend"] == "inspect"
    assert results["info"]["model"].startswith(f"motools/tinker/{TINKER_BASE}:hello-world/tinker-")
    assert results["info"]["model_args"]["weights_path"] == weights
    assert results["metrics"]["hello_world"]["accuracy"] == 1.0
    assert read_eval_log(str(log_path)).status == "success"
    assert list((tmp_path / "tiktoken").iterdir()) == []


# ---- 5. a missing or malformed TINKER_API_KEY -------------------------------------------------


def tinker_workflow_config() -> dict[str, Any]:
    return local_config(submit_training={"model": TINKER_BASE, "backend_name": "tinker"})


def test_missing_tinker_key_fails_submit_training_and_trains_nothing(
    monkeypatch: pytest.MonkeyPatch, isolated_store: Path
) -> None:
    monkeypatch.delenv("TINKER_API_KEY", raising=False)
    result = run_workflow(train_and_evaluate_workflow, {}, tinker_workflow_config(), user="test",
                          options=RunOptions(executor="inline"))
    states = {s.name: s for s in result.step_states}
    assert states["prepare_dataset"].status == "succeeded"
    assert states["submit_training"].status == "failed"
    error = states["submit_training"].error or ""
    assert "TINKER_API_KEY" in error and "not set" in error
    assert "\n" not in error
    assert states["wait_for_training"].status == "skipped"
    assert states["evaluate_model"].status == "skipped"
    assert states["submit_training"].output_atoms == {}
    assert not (isolated_store / "training").exists()


def test_malformed_tinker_key_error_never_shows_the_key(
    monkeypatch: pytest.MonkeyPatch, isolated_store: Path
) -> None:
    secret = "tml-S3CRET-do-not-print with-a-space"
    monkeypatch.setenv("TINKER_API_KEY", secret)
    result = run_workflow(train_and_evaluate_workflow, {}, tinker_workflow_config(), user="test",
                          options=RunOptions(executor="inline"))
    submit = result.step_states["submit_training"]
    assert submit.status == "failed"
    assert "TINKER_API_KEY is malformed" in (submit.error or "")
    assert "\n" not in (submit.error or "")
    step_run = get_ledger(get_store(isolated_store)).step_run(submit.step_run_id)
    assert step_run is not None
    for text in (submit.error, step_run.error, step_run.traceback):
        assert "S3CRET" not in (text or "")
    assert not (isolated_store / "training").exists()


# ---- 6. a killed trainer resumes from its checkpoint ------------------------------------------

RESUME_HP = Hyperparameters(n_epochs=8, batch_size=8, learning_rate=1e-3, seed=0)
RESUME_SAMPLES = 100
RESUME_STEPS = 8 * 13  # 100 chats in batches of 8: 13 batches an epoch


@dataclass
class ResumedJob:
    workdir: Path
    at_death: dict[str, Any]  # progress.json once the killed trainer was gone
    killed_pid: int
    checkpoints_at_death: dict[str, int]  # file name -> mtime_ns
    model: Any
    result: dict[str, Any]
    pids_after: set[int] = field(default_factory=set)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> ResumedJob:
    root = tmp_path_factory.mktemp("resume")
    backend = LocalTrainingBackend(store=get_store(root / "store"))
    dataset = generate_hello_world_dataset(num_samples=RESUME_SAMPLES)
    job = backend.submit(dataset, LOCAL_BASE, RESUME_HP, "resume")
    workdir, name = JobFiles(get_store(root / "store"), job.job_id).local, f"trainer-{job.job_id}"

    seen: dict[str, Any] = {"state": None, "since": 0.0}

    def mid_interval() -> bool:
        # Kill between two checkpoints (every 10 steps), after the first one: when progress.json
        # says so, or, if it is written only at checkpoints, 60 ms after it last changed.
        assert not (workdir / "result.json").exists(), "training ended before it could be killed"
        state = read_json(workdir / "progress.json")
        if state != seen["state"]:
            seen.update(state=state, since=time.monotonic())
        if not state or state["step"] < 10:
            return False
        return 3 <= state["step"] % 10 <= 6 or time.monotonic() - seen["since"] > 0.06

    wait_until(mid_interval, 120, "a checkpoint in progress.json", poll=0.002)
    actor = ray.get_actor(name, namespace=NAMESPACE)
    killed_pid = int(ray.get(actor.pid.remote()))
    ray.kill(actor, no_restart=True)
    wait_until(lambda: not trainer_alive(name), 30, "the killed trainer to be gone")
    # Its name goes before its process does: only a finished process writes nothing more.
    wait_until(lambda: process_gone(killed_pid), 30, "the killed trainer's process to exit")
    at_death = read_json(workdir / "progress.json")
    assert at_death is not None
    checkpoints = {p.name: p.stat().st_mtime_ns for p in (workdir / "checkpoints").glob("*.pt")}

    pids_after: set[int] = set()
    done = threading.Event()

    def watch() -> None:  # the pid of whichever trainer runs while `wait` resumes the job
        while not done.is_set():
            pid = trainer_pid(name)
            if pid is not None:
                pids_after.add(pid)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        model = backend.wait(job)
    finally:
        done.set()
        watcher.join(15)
    result = read_json(workdir / "result.json")
    assert result is not None
    return ResumedJob(workdir, at_death, killed_pid, checkpoints, model, result, pids_after)


def test_killed_trainer_is_resumed_from_its_checkpoint_by_wait(resumed: ResumedJob) -> None:
    k = resumed.at_death["step"]
    assert 10 <= k < RESUME_STEPS
    assert resumed.pids_after and resumed.killed_pid not in resumed.pids_after  # a new trainer
    assert resumed.result["steps"] == RESUME_STEPS
    assert len(resumed.result["losses"]) == RESUME_STEPS
    # The steps done before the kill were kept, not recomputed.
    assert resumed.result["losses"][:k] == resumed.at_death["losses"]
    for name, mtime in resumed.checkpoints_at_death.items():
        assert (resumed.workdir / "checkpoints" / name).stat().st_mtime_ns == mtime, name
    progress = read_json(resumed.workdir / "progress.json")
    assert progress is not None and progress["step"] == RESUME_STEPS
    assert resumed.model.info["steps"] == RESUME_STEPS
    assert Path(resumed.model.path).is_dir()


def test_resumed_training_equals_an_uninterrupted_run(resumed: ResumedJob, tmp_path: Path) -> None:
    # The batch order is a pure function of the seed and the local engine is deterministic on
    # CPU, so a correctly resumed job computes exactly the losses of an uninterrupted one.
    engine = get_engine("local")
    datums = build_datums(list(generate_hello_world_dataset(num_samples=RESUME_SAMPLES)),
                          engine.renderer(LOCAL_BASE))
    client = engine.training_client(LOCAL_BASE, RESUME_HP, tmp_path, None)
    _, reference = train(client, datums, RESUME_HP, progress=Progress())
    k = resumed.at_death["step"]
    assert resumed.result["losses"][:k] == pytest.approx(reference.losses[:k], rel=1e-5)
    assert resumed.result["losses"][k:] == pytest.approx(reference.losses[k:], rel=1e-5), (
        f"the trainer was killed at step {k} with its last checkpoint "
        f"{Path(resumed.at_death['checkpoint']).name}; the resumed trainer continued from step {k} "
        "on that checkpoint's weights, so the updates of the steps in between were lost"
    )


# ---- 7. waiting again re-attaches to the running trainer --------------------------------------


def wait_elsewhere(store_root: str, job: dict[str, Any]) -> dict[str, Any]:
    """`wait` in another process (a Ray task); when it started, its pid, and the model."""
    started = time.time()
    model = LocalTrainingBackend(store=get_store(store_root)).wait(TrainingJob.model_validate(job))
    return {"started": started, "pid": os.getpid(), "model": model.model_dump()}


@dataclass
class Watched:
    """What a poller saw of a training job, from its submit to its result."""

    workdir: Path
    pids: list[int]  # trainer pids seen while it trained
    steps: list[int]  # progress.json steps, in the order seen
    result: dict[str, Any] | None
    rewritten: set[str]  # checkpoint files written more than once


def watch_job(workdir: Path, name: str | None, until: Callable[[], bool], timeout: float = 120,
              on_step: Callable[[int], None] | None = None) -> Watched:
    """Poll a job's folder (and, given its trainer's `name`, the trainer's pid) until `until()`."""
    pids: list[int] = []
    steps: list[int] = []
    written: dict[str, int] = {}
    rewritten: set[str] = set()
    deadline = time.monotonic() + timeout
    last_pid_check = 0.0
    while not until():
        assert time.monotonic() < deadline, "training did not finish in time"
        for file in (workdir / "checkpoints").glob("*.pt"):
            with contextlib.suppress(FileNotFoundError):
                mtime = file.stat().st_mtime_ns
                if written.setdefault(file.name, mtime) != mtime:
                    rewritten.add(file.name)
        state = read_json(workdir / "progress.json")
        if state is not None and (not steps or steps[-1] != state["step"]):
            steps.append(state["step"])
            if on_step is not None:
                on_step(state["step"])
        if name is not None and time.monotonic() - last_pid_check > 0.1:
            last_pid_check = time.monotonic()
            pid = trainer_pid(name)
            if pid is not None:
                pids.append(pid)
        time.sleep(0.002)
    return Watched(workdir, pids, steps, read_json(workdir / "result.json"), rewritten)


REATTACH_HP = Hyperparameters(n_epochs=16, batch_size=8, learning_rate=1e-3, seed=1)
TWICE_HP = Hyperparameters(n_epochs=6, batch_size=8, learning_rate=1e-3, seed=2)


def test_waiting_from_another_process_reattaches_to_the_running_trainer(tmp_path: Path) -> None:
    store = tmp_path / "store"
    backend = LocalTrainingBackend(store=get_store(store))
    job = backend.submit(generate_hello_world_dataset(num_samples=100), LOCAL_BASE, REATTACH_HP,
                         "reattach")
    workdir, name = JobFiles(get_store(store), job.job_id).local, f"trainer-{job.job_id}"
    first_pid = wait_until(lambda: trainer_pid(name), 60, "the trainer actor")
    waiter = ray.remote(num_cpus=0)(wait_elsewhere).remote(str(store), job.model_dump())
    seen = watch_job(workdir, name, until=lambda: bool(ray.wait([waiter], timeout=0)[0]))
    waited = ray.get(waiter)

    total = 16 * 13
    assert waited["pid"] != os.getpid()
    assert waited["started"] < (workdir / "result.json").stat().st_mtime  # it waited on a trainer
    assert seen.pids and set(seen.pids) == {first_pid}  # the same actor all along
    assert seen.steps == sorted(seen.steps), "progress went backwards: a second training loop"
    assert seen.rewritten == set(), "checkpoints written twice: a second training loop"
    assert seen.result is not None
    assert seen.result["steps"] == total and len(seen.result["losses"]) == total
    assert [p.name for p in workdir.glob("result*.json")] == ["result.json"]
    assert waited["model"]["info"]["steps"] == total


def test_submitting_a_running_job_again_does_not_train_it_twice(tmp_path: Path) -> None:
    backend = LocalTrainingBackend(store=get_store(tmp_path / "store"))
    dataset = generate_hello_world_dataset(num_samples=100)
    hp = TWICE_HP
    job = backend.submit(dataset, LOCAL_BASE, hp, "twice")
    workdir = JobFiles(get_store(tmp_path / "store"), job.job_id).local
    again: list[TrainingJob] = []

    def resubmit(step: int) -> None:
        if step >= 12 and not again:  # mid-training, after the first checkpoint
            again.append(backend.submit(dataset, LOCAL_BASE, hp, "twice"))

    def ended() -> bool:
        return (workdir / "result.json").exists() or (workdir / "failed.json").exists()

    # No pid polling here: a second loop would hold the trainer's other slot, and pid() would wait.
    seen = watch_job(workdir, None, until=ended, on_step=resubmit)
    assert again and again[0] == job
    assert seen.rewritten == set(), (
        f"checkpoints {sorted(seen.rewritten)} were written twice: the second submit started a "
        "second SFT loop in the running trainer actor"
    )
    assert seen.steps == sorted(seen.steps), (
        f"progress.json went backwards ({seen.steps[:30]}...): the second submit started a "
        "second SFT loop in the running trainer actor"
    )
    failed = read_json(workdir / "failed.json")
    assert failed is None, f"the job failed: {failed['error']}"
    assert seen.result is not None and seen.result["steps"] == 6 * 13


# ---- 8. a failed training job is never a cached model ------------------------------------------


def test_failed_training_is_not_cached_and_is_retried_on_the_next_run(
    isolated_store: Path,
) -> None:
    config = local_config(
        prepare_dataset={"dataset_loader": f"{Path(__file__).stem}:no_assistant_dataset",
                         "loader_kwargs": {}},
        submit_training={"hyperparameters": {"n_epochs": 1, "batch_size": 4}},
    )
    first = run_workflow(train_and_evaluate_workflow, {}, config, user="test",
                         options=RunOptions(executor="inline"))
    states = first.step_states
    assert [s.status for s in states] == ["succeeded", "succeeded", "failed", "skipped"]
    wait = states["wait_for_training"]
    assert "no assistant message" in (wait.error or "")
    assert wait.output_atoms == {}
    assert wait.cache_key is not None
    assert get_ledger(get_store(isolated_store)).lookup_many([wait.cache_key]) == {}
    assert get_store(isolated_store).get_step_record(wait.cache_key) is None
    [workdir] = (isolated_store / "training").iterdir()
    failed_at = (workdir / "failed.json").stat().st_mtime_ns
    assert not (workdir / "result.json").exists()

    second = run_workflow(train_and_evaluate_workflow, {}, config, user="test",
                          options=RunOptions(executor="inline"))
    assert [s.status for s in second.step_states] == ["cached", "cached", "failed", "skipped"]
    retried = second.step_states["wait_for_training"]
    assert retried.cache_key == wait.cache_key
    assert retried.step_run_id != wait.step_run_id
    assert "no assistant message" in (retried.error or "")
    assert (workdir / "failed.json").stat().st_mtime_ns > failed_at  # the trainer ran again
    store = get_store(isolated_store)
    assert get_ledger(store).lookup_many([wait.cache_key]) == {}
    assert store.get_step_record(wait.cache_key) is None
    assert [a for a in store.iter_atom_ids() if a.startswith("model-")] == []
