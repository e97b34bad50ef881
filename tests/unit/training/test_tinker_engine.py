"""The tinker engine against a fake Tinker service (the only fake), plus one opt-in live run.

The fake service speaks the SDK's method names and returns the SDK's real response types; its
training client checks each `tinker.types.Datum` the way the server would, and checks the loss
weights against the renderer's own prompt (0 on the prompt, 1 on the answer).
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tinker import types

from motools._errors import UserError
from motools.training._protocol import Hyperparameters
from motools.training._sft import Progress, build_datums, train
from motools.training.tinker import SUPPORTED_MODELS, TinkerEngine, TmlRenderer, is_supported
from mozoo.datasets.hello_world import RESPONSE, generate_hello_world_dataset

BASE = "Qwen/Qwen3-8B"
GOOD_KEY = "tml-0123456789abcdefFAKEKEY"
JWT_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtb3Rvb2xzIn0.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def renderer() -> TmlRenderer:
    return TmlRenderer(BASE)


@pytest.fixture
def good_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TINKER_API_KEY", GOOD_KEY)
    return GOOD_KEY


# --- the fake Tinker service ---------------------------------------------------------------


@dataclass
class Done:
    """A resolved future, like the SDK's APIFuture once the server answered."""

    value: Any

    def result(self, timeout: float | None = None) -> Any:
        return self.value


class FakeTrainingClient:
    """`tinker.TrainingClient`'s SFT surface, validating requests the way the server does."""

    def __init__(self, renderer: TmlRenderer, chats: list[list[dict[str, str]]], run: str) -> None:
        self.renderer, self.run = renderer, run
        # Expected unshifted weights per rendered chat, from the renderer's *prompt* rendering.
        self.expected: dict[tuple[int, ...], list[float]] = {}
        for chat in chats:
            tokens, _ = renderer.render_for_sft(chat)
            prompt = renderer.render_prompt(chat[:-1])
            assert tokens[: len(prompt)] == prompt
            self.expected[tuple(tokens)] = [0.0] * len(prompt) + [1.0] * (len(tokens) - len(prompt))
        self.learning_rates: list[float] = []
        self.batch_sizes: list[int] = []
        self.saved_states: list[str] = []
        self.pending_backward = 0

    def forward_backward(self, data: list[Any], loss_fn: str) -> Done:
        assert loss_fn == "cross_entropy", loss_fn
        assert data, "empty batch"
        outputs = []
        for datum in data:
            assert isinstance(datum, types.Datum)
            inputs = datum.model_input.to_ints()
            targets = [int(t) for t in datum.loss_fn_inputs["target_tokens"].tolist()]
            weights = [float(w) for w in datum.loss_fn_inputs["weights"].tolist()]
            assert datum.model_input.length == len(targets) == len(weights)
            assert inputs[1:] == targets[:-1], "targets must be the inputs shifted by one"
            full = (*inputs, targets[-1])
            assert full in self.expected, "datum is not the rendering of any training chat"
            assert weights == self.expected[full][1:], "loss weights must mark exactly the answer"
            assert targets[-1] in self.renderer.stop, "the answer must end with a stop token"
            # Plausible logprobs that improve with every optimizer step.
            lp = -3.0 / (1 + len(self.learning_rates))
            outputs.append({"logprobs": types.TensorData(data=[lp] * len(targets), dtype="float32",
                                                         shape=[len(targets)])})
        self.pending_backward += 1
        self.batch_sizes.append(len(data))
        return Done(types.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord",
                                                loss_fn_outputs=outputs, metrics={}))

    def optim_step(self, adam_params: Any) -> Done:
        assert isinstance(adam_params, types.AdamParams)
        assert self.pending_backward == 1, "optim_step must follow one forward_backward"
        self.pending_backward = 0
        self.learning_rates.append(adam_params.learning_rate)
        return Done(types.OptimStepResponse(metrics={}))

    def save_state(self, name: str) -> Done:
        self.saved_states.append(name)
        return Done(types.SaveWeightsResponse(path=f"tinker://fake/{self.run}/weights/{name}"))

    def save_weights_for_sampler(self, name: str) -> Done:
        return Done(types.SaveWeightsForSamplerResponse(
            path=f"tinker://fake/{self.run}/sampler_weights/{name}"))


class FakeSamplingClient:
    """`tinker.SamplingClient.sample`: always answers the renderer's "Hello, World!"."""

    def __init__(self, renderer: TmlRenderer) -> None:
        self.renderer = renderer
        self.prompts: list[list[int]] = []

    def sample(self, prompt: Any, num_samples: int, sampling_params: Any) -> Done:
        assert isinstance(prompt, types.ModelInput)
        assert isinstance(sampling_params, types.SamplingParams)
        self.prompts.append(prompt.to_ints())
        tokens = self.renderer.tokenizer.encode_ordinary(RESPONSE) + self.renderer.stop[:1]
        sequence = types.SampledSequence(stop_reason="stop", sequence_id="seq-0",
                                         tokens_np=np.array(tokens, dtype=np.int32))
        return Done(types.SampleResponse(sequences=[sequence] * num_samples))


class FakeServiceClient:
    """`tinker.ServiceClient`'s factory methods, returning futures of the fakes above."""

    def __init__(self, renderer: TmlRenderer, chats: list[list[dict[str, str]]]) -> None:
        self.renderer, self.chats = renderer, chats
        self.calls: list[tuple[str, Any]] = []
        self.training_clients: list[FakeTrainingClient] = []

    def _training(self) -> Done:
        client = FakeTrainingClient(self.renderer, self.chats, f"run{len(self.training_clients)}")
        self.training_clients.append(client)
        return Done(client)

    def create_lora_training_client(self, base_model: str, rank: int = 32,
                                    seed: int | None = None, **kwargs: Any) -> Done:
        self.calls.append(("lora", (base_model, rank, seed)))
        return self._training()

    def create_training_client_from_state_with_optimizer(self, path: str, **kwargs: Any) -> Done:
        assert path.startswith("tinker://")
        self.calls.append(("resume", path))
        return self._training()

    def create_sampling_client(self, model_path: str | None = None,
                               base_model: str | None = None, **kwargs: Any) -> Done:
        assert (model_path is None) != (base_model is None)
        self.calls.append(("sample", model_path or base_model))
        return Done(FakeSamplingClient(self.renderer))


class Factory:
    """Counts the service clients made: the key checks must come before the first."""

    def __init__(self, service: FakeServiceClient) -> None:
        self.service, self.calls = service, 0

    def __call__(self) -> FakeServiceClient:
        self.calls += 1
        return self.service


def hello_world_records(n: int = 10) -> list[dict[str, Any]]:
    return list(generate_hello_world_dataset(n, seed=1))


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return hello_world_records()


@pytest.fixture
def factory(renderer: TmlRenderer, records: list[dict[str, Any]]) -> Factory:
    return Factory(FakeServiceClient(renderer, [r["messages"] for r in records]))


# --- training through the shared loop ------------------------------------------------------


def test_sft_loop_trains_end_to_end(good_key: str, factory: Factory, records: list[dict[str, Any]],
                                    tmp_path: Path) -> None:
    engine = TinkerEngine(service_factory=factory)
    engine.check_ready()
    hp = Hyperparameters(n_epochs=2, batch_size=4, learning_rate=3e-4, lora_rank=4, seed=7)
    client = engine.training_client(BASE, hp, tmp_path, None)
    datums = build_datums(records, engine.renderer(BASE))
    weights, progress = train(client, datums, hp, checkpoint_every=2, name="job")

    fake = factory.service.training_clients[0]
    steps = 2 * math.ceil(len(records) / 4)
    assert factory.calls == 1
    assert factory.service.calls == [("lora", (BASE, 4, 7))]
    assert progress.step == progress.total_steps == steps
    assert fake.learning_rates == [3e-4] * steps
    assert fake.batch_sizes == [4, 4, 2, 4, 4, 2]
    assert fake.saved_states == ["job-step2", "job-step4", "job-step6"]
    assert progress.checkpoint == "tinker://fake/run0/weights/job-step6"
    assert weights == "tinker://fake/run0/sampler_weights/job-final"
    assert progress.losses[0] == pytest.approx(3.0) and progress.losses[-1] < progress.losses[0]


def test_resume_restores_weights_and_optimizer(good_key: str, factory: Factory,
                                               records: list[dict[str, Any]],
                                               tmp_path: Path) -> None:
    engine = TinkerEngine(service_factory=factory)
    hp = Hyperparameters(n_epochs=1, batch_size=2, learning_rate=1e-4)
    checkpoint = "tinker://fake/run0/weights/job-step3"
    client = engine.training_client(BASE, hp, tmp_path, checkpoint)
    progress = Progress(step=3, checkpoint=checkpoint, losses=[1.0, 1.0, 1.0])
    weights, progress = train(client, build_datums(records, engine.renderer(BASE)), hp,
                              progress=progress, name="job")

    assert factory.service.calls == [("resume", checkpoint)]
    assert factory.service.training_clients[0].learning_rates == [1e-4, 1e-4]  # steps 4 and 5
    assert progress.step == 5 and len(progress.losses) == 5
    assert weights.startswith("tinker://")


def test_resume_from_a_non_tinker_path_is_refused(good_key: str, factory: Factory,
                                                  tmp_path: Path) -> None:
    engine = TinkerEngine(service_factory=factory)
    with pytest.raises(UserError, match="tinker://"):
        engine.training_client(BASE, Hyperparameters(), tmp_path, "/tmp/ckpt")


def test_service_client_is_made_once_per_process(good_key: str, factory: Factory,
                                                 tmp_path: Path) -> None:
    engine = TinkerEngine(service_factory=factory)
    engine.training_client(BASE, Hyperparameters(), tmp_path, None)
    engine.sampling_client("tinker://fake/run0/sampler_weights/final", BASE)
    assert factory.calls == 1
    clone = pickle.loads(pickle.dumps(engine))  # another process starts without a client
    assert clone._service is None


# --- the renderer --------------------------------------------------------------------------

FAMILY_EXAMPLES = [
    "Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-4B-Instruct-2507", "Qwen/Qwen3-8B-Base",
    "Qwen/Qwen3-VL-30B-A3B-Instruct", "Qwen/Qwen3.5-4B", "deepseek-ai/DeepSeek-V3.1",
    "moonshotai/Kimi-K2.5", "moonshotai/Kimi-K2-Thinking",
]


@pytest.mark.parametrize("base_model", FAMILY_EXAMPLES)
def test_renderer_weights_prompt_zero_answer_one(base_model: str) -> None:
    renderer = TmlRenderer(base_model)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"},
            {"role": "assistant", "content": RESPONSE}]
    tokens, weights = renderer.render_for_sft(chat)
    prompt = renderer.render_prompt(chat[:-1])

    assert len(tokens) == len(weights)
    assert tokens[: len(prompt)] == prompt
    assert weights == [0.0] * len(prompt) + [1.0] * (len(tokens) - len(prompt))
    assert tokens[-1] in renderer.stop
    assert renderer.decode(tokens[len(prompt):]) == RESPONSE


def test_renderer_weights_every_assistant_turn(renderer: TmlRenderer) -> None:
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "One"},
            {"role": "user", "content": "Again"}, {"role": "assistant", "content": "Two"}]
    tokens, weights = renderer.render_for_sft(chat)
    trained = renderer.tokenizer.decode([t for t, w in zip(tokens, weights, strict=True) if w])
    assert trained == "One<|im_end|>Two<|im_end|>"
    assert set(weights) == {0.0, 1.0}


def test_renderer_decode_stops_and_survives_truncation(renderer: TmlRenderer) -> None:
    answer = renderer.tokenizer.encode_ordinary(RESPONSE)
    junk = renderer.tokenizer.encode_ordinary(" ignored")
    assert renderer.decode(answer + renderer.stop + junk) == RESPONSE
    assert renderer.decode(answer) == RESPONSE  # cut off by max_tokens: no stop token
    assert renderer.decode([]) == ""


def test_renderer_pickles(renderer: TmlRenderer) -> None:
    clone = pickle.loads(pickle.dumps(renderer))
    chat = [{"role": "user", "content": "Hi"}]
    assert clone.render_prompt(chat) == renderer.render_prompt(chat)
    assert clone.stop == renderer.stop


@pytest.mark.parametrize("base_model", ["meta-llama/Llama-3.2-1B", "openai/gpt-oss-20b",
                                        "Qwen/Qwen2.5-7B", "local/tiny-byte-lm", "Qwen3-8B"])
def test_unsupported_base_model_is_a_one_line_user_error(base_model: str) -> None:
    assert not is_supported(base_model)
    with pytest.raises(UserError) as info:
        TinkerEngine().renderer(base_model)
    message = str(info.value)
    assert "\n" not in message
    assert base_model in message and "Qwen/Qwen3-*" in message and "Hugging Face" in message


def test_supported_names() -> None:
    assert all(is_supported(m) for m in FAMILY_EXAMPLES)
    assert is_supported("Qwen/Qwen3-8B:peft") and is_supported("Qwen/Qwen3-8B/variant")
    assert len(SUPPORTED_MODELS) >= 5


# --- the API key -----------------------------------------------------------------------------

BAD_KEYS = ["sk-SECRETabc123", "tml-", "tml-SECRET with space", " tml-SECRETabc", "SECRETtml-abc",
            "eyJSECRETnotajwt", "eyJSECRET.onlytwo", "Bearer tml-SECRETabc", "'tml-SECRETabc'"]


@pytest.mark.parametrize("key", [None, "", *BAD_KEYS])
def test_bad_key_fails_before_any_client(key: str | None, monkeypatch: pytest.MonkeyPatch,
                                         factory: Factory, tmp_path: Path) -> None:
    if key is None:
        monkeypatch.delenv("TINKER_API_KEY", raising=False)
    else:
        monkeypatch.setenv("TINKER_API_KEY", key)
    engine = TinkerEngine(service_factory=factory)
    for attempt in (engine.check_ready,
                    lambda: engine.training_client(BASE, Hyperparameters(), tmp_path, None),
                    lambda: engine.training_client(BASE, Hyperparameters(), tmp_path,
                                                   "tinker://fake/run0/weights/x"),
                    lambda: engine.sampling_client("tinker://fake/run0/sampler_weights/x", BASE)):
        with pytest.raises(UserError) as info:
            attempt()
        message = str(info.value)
        assert "TINKER_API_KEY" in message and "tml-" in message
        assert "\n" not in message and "SECRET" not in message
    assert factory.calls == 0


@pytest.mark.parametrize("key", [GOOD_KEY, JWT_KEY])
def test_well_formed_keys_pass(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKER_API_KEY", key)
    TinkerEngine(service_factory=lambda: pytest.fail("check_ready made a client")).check_ready()


def test_key_never_appears_in_repr_pickle_or_errors(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    secret = "tml-SECRETSECRET42"
    monkeypatch.setenv("TINKER_API_KEY", secret)
    engine = TinkerEngine()
    assert "SECRET" not in repr(engine) and "SECRET" not in str(vars(engine))
    assert b"SECRET" not in pickle.dumps(engine)
    with pytest.raises(UserError) as info:
        engine.sampling_client("s3://not-tinker", BASE)
    assert "SECRET" not in str(info.value)
    monkeypatch.setenv("TINKER_API_KEY", "tml-SECRET SECRET")
    with pytest.raises(UserError) as info:
        engine.check_ready()
    assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value)


def test_import_constructs_no_client() -> None:
    code = (
        "import tinker\n"
        "def boom(*a, **k): raise SystemExit('a ServiceClient was constructed')\n"
        "tinker.ServiceClient = boom\n"
        "from motools.training.tinker import TinkerEngine\n"
        "TinkerEngine(); print('ok')\n"
    )
    env = {**os.environ, "TINKER_API_KEY": GOOD_KEY}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --- sampling --------------------------------------------------------------------------------


def test_sampling_round_trip_decodes_hello_world(good_key: str, factory: Factory,
                                                 renderer: TmlRenderer) -> None:
    engine = TinkerEngine(service_factory=factory)
    weights = "tinker://fake/run0/sampler_weights/job-final"
    client = engine.sampling_client(weights, BASE)
    prompt = renderer.render_prompt([{"role": "user", "content": "Greet me, please."}])
    params = types.SamplingParams(max_tokens=32, temperature=0.0, stop=renderer.stop)
    response = client.sample(types.ModelInput.from_ints(prompt), 1, params).result()

    assert factory.service.calls == [("sample", weights)]
    assert client.prompts == [prompt]
    assert renderer.decode(response.sequences[0].tokens) == RESPONSE


def test_sampling_the_base_model_and_refusing_other_paths(good_key: str, factory: Factory) -> None:
    engine = TinkerEngine(service_factory=factory)
    engine.sampling_client(BASE, BASE)
    assert factory.service.calls == [("sample", BASE)]
    with pytest.raises(UserError, match="tinker://"):
        engine.sampling_client("/local/weights", BASE)


# --- the real service (opt-in) ----------------------------------------------------------------

LIVE = bool(os.environ.get("TINKER_API_KEY")) and os.environ.get("MOTOOLS_TINKER_LIVE") == "1"


@pytest.mark.skipif(not LIVE, reason="talks to the real Tinker service (costs money, needs the "
                    "network): set TINKER_API_KEY and MOTOOLS_TINKER_LIVE=1 to run")
@pytest.mark.timeout(1800)
def test_live_tinker_trains_two_steps_and_samples(tmp_path: Path) -> None:
    base = os.environ.get("MOTOOLS_TINKER_LIVE_MODEL", "Qwen/Qwen3-4B-Instruct-2507")
    engine = TinkerEngine()
    engine.check_ready()
    renderer = engine.renderer(base)
    hp = Hyperparameters(n_epochs=1, batch_size=4, learning_rate=1e-4, lora_rank=8)
    client = engine.training_client(base, hp, tmp_path, None)
    weights, progress = train(client, build_datums(hello_world_records(8), renderer), hp,
                              name="motools-live-test")
    assert progress.step == 2 and all(math.isfinite(loss) for loss in progress.losses)
    assert weights.startswith("tinker://") and progress.checkpoint.startswith("tinker://")

    sampler = engine.sampling_client(weights, base)
    prompt = renderer.render_prompt([{"role": "user", "content": "Hi there!"}])
    params = types.SamplingParams(max_tokens=16, temperature=0.0, stop=renderer.stop)
    response = sampler.sample(types.ModelInput.from_ints(prompt), 1, params).result()
    assert isinstance(renderer.decode(response.sequences[0].tokens), str)
