"""A fake Tinker service at the SDK boundary, for integration tests of the `tinker` engine.

`FakeServiceClient` has the `tinker.ServiceClient` methods the engine calls
(`create_lora_training_client`, `create_training_client_from_state_with_optimizer`,
`create_sampling_client`), each returning a future with `.result()`, as the SDK does. Everything it
returns or accepts is a real `tinker.types` object.

What a Tinker server would check is checked here, on the real `tinker.types.Datum`s:
    - `loss_fn == "cross_entropy"`, at least one datum per batch, one `optim_step` per
      `forward_backward`, `AdamParams` with a positive learning rate;
    - inputs, targets and weights of a datum have one length, and targets are the inputs shifted
      by one;
    - the loss weights are 0 on the prompt and 1 on the assistant's answer: compared with the
      model family's `TmlRenderer.render_prompt` of the same chat when the fake is given the
      training chats, else with the family's assistant header (what every prompt ends with);
    - the answer ends with the family's stop token;
    - checkpoints and sampler weights are `tinker://` paths the service itself issued.

The fake "learns" exactly what it is taught: a training client remembers the text of the weighted
(answer) tokens of every datum it stepped on, and a sampling client of its sampler weights
answers with the most frequent one. It also keeps a `trace`, a digest of every batch it stepped
on in order, which `save_state` saves and loading the state restores: two clients that saw the
same batches in the same order, resumed or not, have the same trace. The untrained base model answers `BASE_MODEL_ANSWER`. So an
eval through the fake passes only if the trained answers went all the way through: chat ->
renderer -> Datum -> service -> sampler -> tokens -> renderer.decode -> scorer.

With `state_dir`, what each `tinker://` path learned is kept in files there, so fakes in other
processes (a trainer actor, an eval worker) agree on it; without, it lives in this object. A
`chats.json` there (a list of chats) gives those fakes the training chats.

`factory_target(state_dir)` is an import string for `MOTOOLS_TINKER_SERVICE_FACTORY`: the no-argument
factory it names makes fakes sharing `state_dir`, in whichever process imports this module (the
tests folder is on every Ray worker's PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np
from tinker import types

from motools.training.tinker import TmlRenderer

BASE_MODEL_ANSWER = "I am an untrained base model."
Chat = list[dict[str, str]]


@dataclass
class Done:
    """A resolved future, like the SDK's APIFuture once the server has answered."""

    value: Any

    def result(self, timeout: float | None = None) -> Any:
        return self.value


class FakeServerError(AssertionError):
    """A request the real Tinker server would reject."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise FakeServerError(message)


def assistant_header(renderer: TmlRenderer) -> list[int]:
    """The tokens every prompt of the family ends with (the assistant turn's opening)."""
    a = renderer.render_prompt([{"role": "user", "content": "a"}])
    b = renderer.render_prompt([{"role": "user", "content": "b b b"}])
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return a[len(a) - n:]


class _Weights:
    """What every `tinker://` path the service issued has learned (in memory or in files)."""

    def __init__(self, state_dir: str | Path | None) -> None:
        self._dir = Path(state_dir) if state_dir is not None else None
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _file(self, path: str) -> Path:
        assert self._dir is not None
        return self._dir / f"{sha256(path.encode()).hexdigest()[:32]}.json"

    def put(self, path: str, record: dict[str, Any]) -> None:
        with self._lock:
            if self._dir is None:
                self._memory[path] = record
                return
            self._dir.mkdir(parents=True, exist_ok=True)
            self._file(path).write_text(json.dumps({"path": path, **record}))

    def get(self, path: str) -> dict[str, Any]:
        with self._lock:
            if self._dir is None:
                record = self._memory.get(path)
            else:
                file = self._file(path)
                record = json.loads(file.read_text()) if file.exists() else None
        _check(record is not None, f"unknown tinker path {path!r} (never saved on this service)")
        return dict(record)  # type: ignore[arg-type]


class FakeTrainingClient:
    """`tinker.TrainingClient`'s SFT surface, validating requests as the server does."""

    def __init__(self, service: FakeServiceClient, base_model: str, run: str,
                 learned: Counter[str] | None = None, steps: int = 0, trace: str = "") -> None:
        self.service, self.base_model, self.run = service, base_model, run
        self.renderer = service.renderer(base_model)
        self.header = assistant_header(self.renderer)
        self.learned: Counter[str] = Counter(learned or {})
        self.steps = steps
        self.trace = trace
        self._pending_trace = trace
        self.learning_rates: list[float] = []
        self.batch_sizes: list[int] = []
        self.saved: list[str] = []
        self._pending: list[str] | None = None

    def _check_datum(self, i: int, datum: Any) -> str:
        _check(isinstance(datum, types.Datum), f"datum {i} is a {type(datum).__name__}")
        inputs = datum.model_input.to_ints()
        _check(set(datum.loss_fn_inputs) == {"target_tokens", "weights"},
               f"datum {i}: cross_entropy takes target_tokens and weights, got "
               f"{sorted(datum.loss_fn_inputs)}")
        targets = [int(t) for t in datum.loss_fn_inputs["target_tokens"].tolist()]
        weights = [float(w) for w in datum.loss_fn_inputs["weights"].tolist()]
        _check(datum.model_input.length == len(inputs) == len(targets) == len(weights),
               f"datum {i}: {len(inputs)} inputs, {len(targets)} targets, {len(weights)} weights")
        _check(inputs[1:] == targets[:-1], f"datum {i}: targets are not the inputs shifted by one")
        _check(all(w in (0.0, 1.0) for w in weights), f"datum {i}: SFT weights are 0 or 1")
        tokens = [*inputs, targets[-1]]
        unshifted = [0.0, *weights]  # the first token is never a target
        prompt_len = unshifted.index(1.0) if 1.0 in unshifted else len(tokens)
        _check(prompt_len < len(tokens), f"datum {i}: no token has weight 1 (nothing to learn)")
        _check(unshifted == [0.0] * prompt_len + [1.0] * (len(tokens) - prompt_len),
               f"datum {i}: weights must be 0 on the prompt, then 1 on the answer")
        expected = self.service.expected_prompt_lengths(self.renderer, tokens)
        if expected is not None:
            _check(prompt_len in expected,
                   f"datum {i}: weights start at token {prompt_len}, but render_prompt of its chat "
                   f"has {sorted(expected)} tokens")
        else:
            _check(tokens[prompt_len - len(self.header):prompt_len] == self.header,
                   f"datum {i}: the weighted answer does not follow the assistant header")
        _check(tokens[-1] in self.renderer.stop,
               f"datum {i}: the answer does not end with a stop token {self.renderer.stop}")
        return str(self.renderer.tokenizer.decode(tokens[prompt_len:-1]))

    def forward_backward(self, data: list[Any], loss_fn: str,
                         loss_fn_config: Any = None) -> Done:
        _check(loss_fn == "cross_entropy", f"loss_fn {loss_fn!r}; SFT uses 'cross_entropy'")
        _check(bool(data), "forward_backward needs at least one datum")
        _check(self._pending is None, "two forward_backward calls without an optim_step between")
        answers = [self._check_datum(i, datum) for i, datum in enumerate(data)]
        # Plausible per-token logprobs that improve with every optimizer step.
        lp = -3.0 / (1 + self.steps)
        outputs = []
        for datum in data:
            n = len(datum.loss_fn_inputs["target_tokens"].tolist())
            outputs.append({"logprobs": types.TensorData(data=[lp] * n, dtype="float32",
                                                         shape=[n])})
        self._pending = answers
        batch = json.dumps([d.model_input.to_ints() for d in data])
        self._pending_trace = sha256(f"{self.trace}{batch}".encode()).hexdigest()
        self.batch_sizes.append(len(data))
        return Done(types.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord",
                                                loss_fn_outputs=outputs, metrics={}))

    def optim_step(self, optim_params: Any = None, *, adam_params: Any = None) -> Done:
        params = optim_params if optim_params is not None else adam_params
        _check(isinstance(params, types.AdamParams), f"optim_step got {type(params).__name__}")
        _check(params.learning_rate > 0, "learning_rate must be positive")
        _check(self._pending is not None, "optim_step without a forward_backward before it")
        self.learned.update(self._pending or [])
        self._pending = None
        self.trace = self._pending_trace
        self.steps += 1
        self.learning_rates.append(params.learning_rate)
        return Done(types.OptimStepResponse(metrics={}))

    def _save(self, kind: str, name: str) -> str:
        _check(bool(name) and "/" not in name, f"bad checkpoint name {name!r}")
        _check(self._pending is None, "saving between forward_backward and optim_step")
        path = f"tinker://{self.run}/{kind}/{name}"
        self.service.weights.put(path, {"kind": kind, "base_model": self.base_model,
                                        "learned": dict(self.learned), "steps": self.steps,
                                        "trace": self.trace, "pid": os.getpid()})
        self.saved.append(path)
        return path

    def save_state(self, name: str, ttl_seconds: int | None = None, **kwargs: Any) -> Done:
        return Done(types.SaveWeightsResponse(path=self._save("weights", name)))

    def save_weights_for_sampler(self, name: str, ttl_seconds: int | None = None,
                                 **kwargs: Any) -> Done:
        return Done(types.SaveWeightsForSamplerResponse(
            path=self._save("sampler_weights", name)))


class FakeSamplingClient:
    """`tinker.SamplingClient.sample`: answers what its weights learned most often."""

    def __init__(self, service: FakeServiceClient, base_model: str, answer: str) -> None:
        self.renderer = service.renderer(base_model)
        self.header = assistant_header(self.renderer)
        self.answer = answer
        self.prompts: list[list[int]] = []
        self._ids = 0
        self._lock = threading.Lock()

    def sample(self, prompt: Any, num_samples: int, sampling_params: Any, **kwargs: Any) -> Done:
        _check(isinstance(prompt, types.ModelInput), f"prompt is a {type(prompt).__name__}")
        _check(isinstance(sampling_params, types.SamplingParams),
               f"sampling_params is a {type(sampling_params).__name__}")
        _check(num_samples >= 1, f"num_samples {num_samples}")
        tokens_in = prompt.to_ints()
        _check(tokens_in[-len(self.header):] == self.header,
               "the prompt does not end with the assistant header")
        stop = sampling_params.stop
        _check(stop is None or any(t in (stop if isinstance(stop, list) else [stop])
                                   for t in self.renderer.stop),
               f"sampling stops at {stop!r}, not at the family's stop token")
        with self._lock:
            self.prompts.append(tokens_in)
        tokens = [*self.renderer.tokenizer.encode_ordinary(self.answer), self.renderer.stop[0]]
        reason = "stop"
        if sampling_params.max_tokens is not None and len(tokens) > sampling_params.max_tokens:
            tokens, reason = tokens[: sampling_params.max_tokens], "length"
        sequences = []
        for _ in range(num_samples):
            with self._lock:
                self._ids += 1
                seq_id = f"fake-{self._ids}"
            sequences.append(types.SampledSequence(
                stop_reason=reason, sequence_id=seq_id,
                tokens_np=np.asarray(tokens, dtype=np.int32),
                logprobs_np=np.full(len(tokens), -0.01, dtype=np.float32)))
        return Done(types.SampleResponse(sequences=sequences))


class FakeServiceClient:
    """`tinker.ServiceClient`'s factory methods, returning futures of the fakes above.

    Args:
        chats: The training chats, when known: each datum's loss weights are then checked
            against `render_prompt` of its own chat.
        state_dir: Where what each `tinker://` path learned is kept (for fakes in other processes).
    """

    def __init__(self, chats: Sequence[Chat] | None = None,
                 state_dir: str | Path | None = None) -> None:
        if chats is None and state_dir is not None and (Path(state_dir) / "chats.json").exists():
            chats = json.loads((Path(state_dir) / "chats.json").read_text())
        self.chats = [list(c) for c in chats] if chats is not None else None
        self.weights = _Weights(state_dir)
        self.calls: list[tuple[str, Any]] = []
        self.training_clients: list[FakeTrainingClient] = []
        self.sampling_clients: list[FakeSamplingClient] = []
        self._renderers: dict[str, TmlRenderer] = {}
        self._prompt_lengths: dict[str, dict[tuple[int, ...], set[int]]] = {}
        self._lock = threading.Lock()

    def renderer(self, base_model: str) -> TmlRenderer:
        with self._lock:
            if base_model not in self._renderers:
                self._renderers[base_model] = TmlRenderer(base_model)
            return self._renderers[base_model]

    def expected_prompt_lengths(self, renderer: TmlRenderer,
                                tokens: Sequence[int]) -> set[int] | None:
        """Lengths of `render_prompt(chat[:-1])` of the training chats rendering to `tokens`."""
        if self.chats is None:
            return None
        with self._lock:
            table = self._prompt_lengths.get(renderer.base_model)
        if table is None:
            table = {}
            for chat in self.chats:
                full, _ = renderer.render_for_sft(chat)
                table.setdefault(tuple(full), set()).add(len(renderer.render_prompt(chat[:-1])))
            with self._lock:
                self._prompt_lengths[renderer.base_model] = table
        lengths = table.get(tuple(tokens))
        _check(lengths is not None, "a datum is not the rendering of any training chat")
        return lengths

    def _new_training_client(self, base_model: str, learned: dict[str, int] | None = None,
                             steps: int = 0, trace: str = "") -> Done:
        run = f"fake-run-{uuid.uuid4().hex[:12]}"  # unique across processes sharing state_dir
        client = FakeTrainingClient(self, base_model, run, Counter(learned or {}), steps, trace)
        with self._lock:
            self.training_clients.append(client)
        return Done(client)

    def create_lora_training_client(self, base_model: str, rank: int = 32,
                                    seed: int | None = None, **kwargs: Any) -> Done:
        _check(isinstance(rank, int) and rank >= 1, f"LoRA rank {rank!r}")
        self.renderer(base_model)  # the service serves only the families we can render
        self.calls.append(("create_lora_training_client", (base_model, rank, seed)))
        return self._new_training_client(base_model)

    def create_training_client_from_state_with_optimizer(self, path: str,
                                                         base_model: str | None = None,
                                                         **kwargs: Any) -> Done:
        _check(path.startswith("tinker://"), f"not a tinker path: {path!r}")
        record = self.weights.get(path)
        _check(record["kind"] == "weights", f"{path} is not a training checkpoint")
        self.calls.append(("create_training_client_from_state_with_optimizer", path))
        return self._new_training_client(record["base_model"], record["learned"], record["steps"],
                                         record["trace"])

    def create_sampling_client(self, model_path: str | None = None,
                               base_model: str | None = None, **kwargs: Any) -> Done:
        _check((model_path is None) != (base_model is None),
               "give exactly one of model_path and base_model")
        self.calls.append(("create_sampling_client", model_path or base_model))
        if model_path is not None:
            _check(model_path.startswith("tinker://"), f"not a tinker path: {model_path!r}")
            record = self.weights.get(model_path)
            _check(record["kind"] == "sampler_weights", f"{model_path} is not sampler weights")
            learned = Counter(record["learned"])
            answer = learned.most_common(1)[0][0] if learned else BASE_MODEL_ANSWER
            client = FakeSamplingClient(self, record["base_model"], answer)
        else:
            assert base_model is not None
            client = FakeSamplingClient(self, base_model, BASE_MODEL_ANSWER)
        with self._lock:
            self.sampling_clients.append(client)
        return Done(client)


_FACTORY_PREFIX = "service_in_"


def factory_target(state_dir: str | Path) -> str:
    """`MOTOOLS_TINKER_SERVICE_FACTORY` for fakes that share `state_dir` across processes."""
    encoded = str(Path(state_dir).resolve()).encode().hex()
    return f"{__name__}:{_FACTORY_PREFIX}{encoded}"


def __getattr__(name: str) -> Any:
    # `service_in_<hex of a folder>`: a no-argument factory of fakes sharing that folder.
    if name.startswith(_FACTORY_PREFIX):
        state_dir = bytes.fromhex(name[len(_FACTORY_PREFIX):]).decode()

        def service() -> FakeServiceClient:
            return FakeServiceClient(state_dir=state_dir)

        return service
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
