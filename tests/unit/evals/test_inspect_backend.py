"""The inspect eval backend and the `motools` inspect provider, with real inspect-ai evaluations.

Only the training engine is fake: a byte-level renderer and a sampling client that answers fixed
text as real `tinker.types.SampleResponse`s. Everything from the task to the log file is inspect.
inspect-ai and tinker are imported lazily (seconds each), so collecting this file stays cheap.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from motools.errors import InspectEvalError, UnknownNameError, UserError
from motools.evals._inspect import (
    InspectEvalBackend,
    split_eval_kwargs,
    weights_path,
)

HELLO = "mozoo.tasks.hello_world:hello_world"
EOT = 256


class ByteRenderer:
    """A trivial byte-level chat codec: role byte, content bytes, EOT."""

    stop = [EOT]

    def render_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        tokens: list[int] = []
        for message in messages:
            tokens += [ord(message["role"][0]), *message["content"].encode(), EOT]
        return tokens + [ord("a")]

    def decode(self, tokens: list[int]) -> str:
        return bytes(t for t in tokens if t < 256).decode()

    def render_for_sft(self, messages: list[dict[str, str]]) -> tuple[list[int], list[float]]:
        raise NotImplementedError


class Done:
    def __init__(self, value: Any, delay: float, engine: FakeEngine) -> None:
        self.value, self.delay, self.engine = value, delay, engine

    def result(self) -> Any:
        with self.engine.lock:
            self.engine.in_flight += 1
            IN_FLIGHT.add(self.engine.text)
            SEEN_TOGETHER.append(frozenset(IN_FLIGHT))
        try:
            time.sleep(self.delay)
        finally:
            with self.engine.lock:
                self.engine.in_flight -= 1
                if not self.engine.in_flight:
                    IN_FLIGHT.discard(self.engine.text)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


IN_FLIGHT: set[str] = set()  # texts of the engines with a sample in flight now
SEEN_TOGETHER: list[frozenset[str]] = []


class FakeSamplingClient:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def sample(self, prompt: Any, num_samples: int, sampling_params: Any) -> Done:
        from tinker import types

        self.engine.calls.append((prompt.to_ints(), num_samples, sampling_params))
        if self.engine.fail:
            return Done(RuntimeError("sampler exploded"), self.engine.delay, self.engine)
        tokens = np.array([*self.engine.text.encode(), EOT], dtype=np.int32)
        sequence = types.SampledSequence(stop_reason="stop", sequence_id="s", tokens_np=tokens)
        return Done(types.SampleResponse(sequences=[sequence]), self.engine.delay, self.engine)


class FakeEngine:
    name = "fake"

    def __init__(self, text: str, *, delay: float = 0.0, fail: bool = False,
                 limit: int | None = 32) -> None:
        self.text, self.delay, self.fail, self.limit = text, delay, fail, limit
        self.calls: list[tuple[list[int], int, Any]] = []
        self.clients: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.in_flight = 0

    def check_ready(self) -> None:
        pass

    def renderer(self, base_model: str) -> ByteRenderer:
        return ByteRenderer()

    def max_tokens(self, base_model: str) -> int | None:
        return self.limit

    def sampling_client(self, weights_path: str, base_model: str) -> FakeSamplingClient:
        self.clients.append((weights_path, base_model))
        return FakeSamplingClient(self)


def __getattr__(name: str) -> Any:
    """`test_inspect_backend:two_scorers`, an inspect task built on first use (lazy import)."""
    if name != "two_scorers":
        raise AttributeError(name)
    from inspect_ai import Task, task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes, match
    from inspect_ai.solver import generate

    @task
    def two_scorers(answer: str = "Hello, World!", n: int = 4) -> Task:
        return Task(
            dataset=[Sample(input=f"question {i}", target=answer, id=i) for i in range(n)],
            solver=generate(),
            scorer=[match(location="end"), includes()],
        )

    globals()["two_scorers"] = two_scorers
    return two_scorers


def local_model(weights_dir: Path | None = None) -> dict[str, Any]:
    model = {"model_id": "m-1", "base_model": "local/tiny-byte-lm", "backend": "local", "info": {}}
    if weights_dir is not None:
        model["weights_dir"] = str(weights_dir)
    else:
        model["weights_path"] = "/weights/m-1"
    return model


def backend_for(engine: FakeEngine) -> InspectEvalBackend:
    return InspectEvalBackend(get_engine=lambda name: engine)


def test_hello_world_answered_right_scores_one_with_a_readable_log(tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log

    engine = FakeEngine("Hello, World!")
    out = backend_for(engine).evaluate(local_model(tmp_path / "atom"), HELLO, {}, tmp_path / "logs")

    assert out.backend == "inspect"
    assert out.metrics == {"hello_world": {"accuracy": 1.0, "stderr": 0.0, "n": 10}}
    assert len(out.samples) == 10
    first = min(out.samples, key=lambda s: s["id"])
    assert first == {"id": 0, "input": "Good day to you.", "target": "Hello, World!",
                     "output": "Hello, World!", "score": "C"}
    # the engine served the atom folder and got greedy, bounded sampling with the renderer's stops
    assert engine.clients == [(str(tmp_path / "atom"), "local/tiny-byte-lm")]
    prompts = {bytes(t for t in p if t < 256).decode() for p, _, _ in engine.calls}
    assert "uGood day to you.a" in prompts
    _, n, params = engine.calls[0]
    assert (n, params.max_tokens, params.temperature, params.stop) == (1, 32, 0.0, [EOT])

    (log_file,) = out.info["log_files"]
    path = tmp_path / "logs" / log_file
    assert path.is_file() and list((tmp_path / "logs").iterdir()) == [path]
    log = read_eval_log(str(path))
    assert log.status == "success" and len(log.samples or []) == 10
    assert log.eval.model == "motools/local"
    assert log.eval.model_args["weights_path"] == str(tmp_path / "atom")
    usage = log.stats.model_usage["motools/local"]
    assert usage.output_tokens == 10 * len(b"Hello, World!\x00")
    assert usage.input_tokens > 0
    from motools.evals import _provider

    assert _provider._engines == {}  # the injected engine was handed over, not kept


def test_a_model_without_a_limit_gets_inspects_default_and_its_own_name_in_the_log(
        tmp_path: Path) -> None:
    engine = FakeEngine("Hello, World!", limit=None)
    model = {**local_model(), "model_id": "local/HuggingFaceTB/SmolLM2:hi/local-123"}
    out = backend_for(engine).evaluate(model, HELLO, {"limit": 2}, tmp_path)
    assert {p.max_tokens for _, _, p in engine.calls} == {2048}  # not a silent 32
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(tmp_path / out.info["log_files"][0]))
    assert log.eval.model == "motools/local/HuggingFaceTB/SmolLM2:hi/local-123"


def test_a_wrong_answer_scores_zero(tmp_path: Path) -> None:
    out = backend_for(FakeEngine("nope")).evaluate(local_model(), HELLO, {}, tmp_path)
    assert out.metrics["hello_world"]["accuracy"] == 0.0
    assert out.metrics["hello_world"]["n"] == 10
    assert {s["score"] for s in out.samples} == {"I"}


def test_eval_kwargs_reach_eval_the_model_config_and_the_task(tmp_path: Path) -> None:
    engine = FakeEngine("Hello, World!")
    out = backend_for(engine).evaluate(
        local_model(), HELLO, {"limit": 3, "max_tokens": 5, "temperature": 0.7, "epochs": 2},
        tmp_path,
    )
    assert out.metrics["hello_world"]["n"] == 3
    assert len(out.samples) == 6 and {s["epoch"] for s in out.samples} == {1, 2}
    assert {(p.max_tokens, p.temperature) for _, _, p in engine.calls} == {(5, 0.7)}
    assert out.info["eval_options"] == {"limit": 3, "epochs": 2}

    def task_fn(level: int = 1, limit: int = 0) -> None: ...

    assert split_eval_kwargs(task_fn, {"level": 2, "limit": 1, "seed": 3}) == (
        {"level": 2}, {"seed": 3}, {"limit": 1})
    assert split_eval_kwargs(task_fn, {"task_args": {"limit": 4}})[0] == {"limit": 4}
    with pytest.raises(UserError, match="'bogus' is neither a task argument"):
        split_eval_kwargs(task_fn, {"bogus": 1}, HELLO)
    with pytest.raises(UserError, match="'log_dir' is set by the inspect backend"):
        split_eval_kwargs(task_fn, {"log_dir": "x"})


def test_task_args_and_several_scorers(tmp_path: Path) -> None:
    out = backend_for(FakeEngine("Hello, World!")).evaluate(
        local_model(), "test_inspect_backend:two_scorers", {"n": 3, "answer": "World!"}, tmp_path)
    assert out.metrics == {"two_scorers": {
        "accuracy": 1.0, "stderr": 0.0, "n": 3,
        "includes/accuracy": 1.0, "includes/stderr": 0.0, "includes/n": 3}}
    assert out.samples[0]["scores"] == {"match": "C", "includes": "C"}
    assert out.info["task_args"] == {"n": 3, "answer": "World!"}


def test_nothing_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No tiktoken encodings, no hub, no sockets: the provider counts tokens itself."""
    cache = tmp_path / "tiktoken"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network access in an offline test: {address}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    import inspect_ai.model._model as inspect_model

    def no_tiktoken(text: str) -> int:
        raise AssertionError("inspect counted tokens with tiktoken")

    monkeypatch.setattr(inspect_model, "count_text_tokens", no_tiktoken)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])

    engine = FakeEngine("Hello, World!")
    out = backend_for(engine).evaluate(local_model(), HELLO, {}, tmp_path / "logs")

    assert out.metrics["hello_world"]["accuracy"] == 1.0
    assert attempts == []
    assert list(cache.iterdir()) == []


def test_two_threads_evaluate_together_each_with_its_own_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """inspect allows one eval() per process: concurrent calls share a run, not a queue."""
    import motools.evals._inspect as backend_module

    monkeypatch.setattr(backend_module, "GATHER_S", 0.5)  # generous: CI threads start late
    SEEN_TOGETHER.clear()
    engines = {"right": FakeEngine("Hello, World!", delay=0.2),
               "wrong": FakeEngine("nope", delay=0.2)}
    outputs: dict[str, Any] = {}
    barrier = threading.Barrier(len(engines))

    def work(name: str) -> None:
        barrier.wait()
        try:
            outputs[name] = backend_for(engines[name]).evaluate(
                local_model(), HELLO, {}, tmp_path / name)
        except BaseException as exc:  # surfaced by the asserts below
            outputs[name] = exc

    threads = [threading.Thread(target=work, args=(name,)) for name in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outputs["right"].metrics["hello_world"]["accuracy"] == 1.0
    assert outputs["wrong"].metrics["hello_world"]["accuracy"] == 0.0
    for name in engines:
        (log_file,) = outputs[name].info["log_files"]
        assert (tmp_path / name / log_file).is_file()
        assert len(list((tmp_path / name).iterdir())) == 1
    # samples of both evaluations were in flight at the same time
    assert frozenset({"Hello, World!", "nope"}) in SEEN_TOGETHER


def test_a_call_arriving_during_a_run_is_served_by_the_next_one(tmp_path: Path) -> None:
    slow = FakeEngine("Hello, World!", delay=0.4)
    first_started = threading.Event()
    real_sample = FakeSamplingClient.sample
    outputs: dict[str, Any] = {}

    def sample(self: FakeSamplingClient, *args: Any) -> Done:
        first_started.set()
        return real_sample(self, *args)

    def work(name: str, engine: FakeEngine) -> None:
        outputs[name] = backend_for(engine).evaluate(local_model(), HELLO, {}, tmp_path / name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeSamplingClient, "sample", sample)
        first = threading.Thread(target=work, args=("first", slow))
        first.start()
        assert first_started.wait(30)
        work("late", FakeEngine("nope"))  # waits for the run in progress, then leads its own
        first.join(30)

    assert outputs["first"].metrics["hello_world"]["accuracy"] == 1.0
    assert outputs["late"].metrics["hello_world"]["accuracy"] == 0.0


def test_a_failing_evaluation_raises_one_line_and_spares_its_neighbour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import motools.evals._inspect as backend_module

    monkeypatch.setattr(backend_module, "GATHER_S", 0.5)
    outputs: dict[str, Any] = {}
    engines = {"good": FakeEngine("Hello, World!"), "bad": FakeEngine("x", fail=True)}
    barrier = threading.Barrier(len(engines))

    def work(name: str) -> None:
        barrier.wait()
        try:
            outputs[name] = backend_for(engines[name]).evaluate(
                local_model(), HELLO, {}, tmp_path / name)
        except Exception as exc:
            outputs[name] = exc

    threads = [threading.Thread(target=work, args=(name,)) for name in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outputs["good"].metrics["hello_world"]["accuracy"] == 1.0
    error = outputs["bad"]
    assert isinstance(error, InspectEvalError)
    assert "sampler exploded" in str(error) and "\n" not in str(error)
    assert len(list((tmp_path / "bad").glob("*.eval"))) == 1  # the failed log stays for view


def test_an_eval_that_raises_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InspectEvalError, match="No matches in dataset 'hello_world'") as info:
        backend_for(FakeEngine("Hello, World!")).evaluate(
            local_model(), HELLO, {"sample_id": 999}, tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("eval_task", "error", "words"),
    [
        ("mozoo.tasks.no_such_module:hello_world", UserError, "cannot import module"),
        ("mozoo.tasks.hello_world:no_such_task", UserError, "has no 'no_such_task'"),
        ("no_such_registered_task", UnknownNameError, "unknown eval task"),
        ("mozoo.tasks.hello_world:EVAL_PROMPTS", UserError, "not a task function"),
    ],
)
def test_a_bad_task_is_a_one_line_error(
    tmp_path: Path, eval_task: str, error: type[Exception], words: str
) -> None:
    engine = FakeEngine("Hello, World!")
    with pytest.raises(error, match=words) as info:
        backend_for(engine).evaluate(local_model(), eval_task, {}, tmp_path)
    assert "\n" not in str(info.value)
    assert engine.calls == []


def test_which_model_serves_an_atom(tmp_path: Path) -> None:
    backend = InspectEvalBackend()
    tinker = {"model_id": "t", "base_model": "Qwen/Qwen3-8B", "backend": "tinker",
              "weights_path": "tinker://run/sampler_weights/final"}
    assert backend.model_spec(tinker) == (
        "motools/tinker", {"weights_path": "tinker://run/sampler_weights/final",
                           "base_model": "Qwen/Qwen3-8B"})
    assert backend.model_spec({"model_id": "openai/gpt-4o-mini", "backend": "openai"}) == (
        "openai/gpt-4o-mini", {})
    with pytest.raises(UserError, match="dummy"):
        backend.model_spec({"model_id": "d", "base_model": "b", "backend": "dummy"})
    with pytest.raises(UserError, match="no 'weights_path'"):
        backend.model_spec({"model_id": "t", "base_model": "b", "backend": "tinker"})

    atom = tmp_path / "atom"
    assert weights_path(local_model(atom)) == str(atom)
    assert weights_path({**local_model(atom), "weights_path": "weights"}) == str(atom / "weights")
    assert weights_path({**local_model(atom), "weights_path": "/gone"}) == str(atom)
    assert weights_path(local_model()) == "/weights/m-1"


def test_the_provider_registers_on_import_in_a_fresh_process() -> None:
    """What a fresh Ray worker does: import the provider module, then ask inspect for the model."""
    code = (
        "import motools.evals._provider\n"
        "from inspect_ai.model import get_model\n"
        "try:\n"
        "    get_model('motools/local', memoize=False, weights_path='/w', base_model='b',\n"
        "              engine_key='unknown')\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "no engine is registered under engine_key 'unknown'" in run.stdout
