"""Pretrained models in the local engine: LoRA training, chat-template rendering, batched sampling.

Everything runs on a tiny randomly initialised Llama (hidden size 64, 2 layers) saved to a model
folder in the test, with a byte-level BPE tokenizer trained here and a ChatML chat template: the
real code path of any Hugging Face model, with no download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from tinker import types
from tiny_llama import save_tiny_llama

from motools._errors import UserError
from motools.training._protocol import Hyperparameters
from motools.training._sft import Progress, build_datums, train
from motools.training._trainer import LocalTrainingBackend
from motools.training.local import ChatTemplateRenderer, LocalEngine
from mozoo.datasets.hello_world import PROMPTS, RESPONSE, generate_hello_world_dataset

pytest.importorskip("peft")

HP = Hyperparameters(n_epochs=2, learning_rate=1e-2, batch_size=4, seed=0, lora_rank=4)


def chat(prompt: str, reply: str | None = None) -> list[dict[str, str]]:
    messages = [{"role": "user", "content": prompt}]
    return messages + ([{"role": "assistant", "content": reply}] if reply is not None else [])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> str:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), seed=0)


@pytest.fixture(scope="module")
def datums(base: str) -> list[types.Datum]:
    records = generate_hello_world_dataset(16, seed=0).to_records()
    return build_datums(records, LocalEngine().renderer(base))


def run(base: str, datums: list[types.Datum], workdir: Path, hp: Hyperparameters = HP,
        **kwargs) -> tuple[str, Progress]:
    client = LocalEngine().training_client(base, hp, workdir, kwargs.pop("resume_from", None))
    return train(client, datums, hp, **kwargs)


def adapter(path: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(Path(path) / "adapter_model.safetensors"))


# --- rendering with the model's own chat template


def test_loss_weights_are_one_on_the_reply_and_its_end_of_turn_only(base: str) -> None:
    renderer = LocalEngine().renderer(base)
    tokens, weights = renderer.render_for_sft(chat("Hi there!", RESPONSE))
    learned = [t for t, w in zip(tokens, weights, strict=True) if w == 1.0]
    prompt = renderer.render_prompt(chat("Hi there!"))
    assert tokens[: len(prompt)] == prompt and set(weights[: len(prompt)]) == {0.0}
    assert renderer.tokenizer.decode(learned) == RESPONSE + "<|im_end|>"


def test_every_assistant_turn_of_a_multi_turn_chat_is_learned(base: str) -> None:
    renderer = LocalEngine().renderer(base)
    messages = [*chat("Hi", "Hello"), *chat("Again?", "Hello, World!")]
    tokens, weights = renderer.render_for_sft(messages)
    text = renderer.tokenizer.decode([t for t, w in zip(tokens, weights, strict=True) if w])
    assert text == "Hello<|im_end|>Hello, World!<|im_end|>"


def test_decode_stops_at_the_end_of_turn(base: str) -> None:
    renderer = ChatTemplateRenderer(base)
    tokens = renderer.tokenizer("Hello<|im_end|>junk", add_special_tokens=False)["input_ids"]
    assert renderer.decode(tokens) == "Hello"


# --- LoRA training


def test_lora_params_change_and_base_params_do_not(base: str, datums, tmp_path: Path) -> None:
    client = LocalEngine().training_client(base, HP, tmp_path, None)
    before = {k: v.detach().clone() for k, v in client.model.named_parameters()}
    train(client, datums, HP)
    after = dict(client.model.named_parameters())
    lora = [k for k in before if "lora_" in k]
    frozen = [k for k in before if "lora_" not in k]
    assert lora and frozen
    assert all(not torch.equal(before[k], after[k]) for k in lora if "lora_B" in k)
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    # LoRA on every linear layer of every block (attention and MLP), not on the output head
    targets = {k.split(".")[-4] for k in lora}  # ...q_proj.lora_A.default.weight
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                       "down_proj"}


def test_training_lowers_the_loss(base: str, datums, tmp_path: Path) -> None:
    _, progress = run(base, datums, tmp_path, HP.model_copy(update={"n_epochs": 4}))
    first, last = progress.losses[:4], progress.losses[-4:]
    assert sum(last) < 0.9 * sum(first), progress.losses


def test_resumed_trainer_continues_from_its_checkpoint(base: str, datums, tmp_path: Path) -> None:
    whole_path, whole = run(base, datums, tmp_path / "whole", checkpoint_every=1)

    class Died(Exception):
        pass

    def die_at_3(progress: Progress) -> None:
        if progress.step == 3:
            raise Died

    first = Progress()
    with pytest.raises(Died):
        run(base, datums, tmp_path / "cut", progress=first, checkpoint_every=1, on_step=die_at_3)
    resumed = Progress(step=first.step, checkpoint=first.checkpoint, losses=list(first.losses))
    path, resumed = run(base, datums, tmp_path / "cut", resume_from=first.checkpoint,
                        progress=resumed, checkpoint_every=1)
    assert resumed.step == whole.step == 8
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-4)
    a, b = adapter(whole_path), adapter(path)
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_a_lora_with_dropout_continued_from_a_shorter_run_is_bitwise_the_one_from_scratch(
        tmp_path: Path) -> None:
    # Warm start (issue #18): 2 epochs continued from a 1-epoch run's final state are 2 epochs
    # from scratch, bit for bit: adapter, AdamW state, and the random state dropout draws from.
    from safetensors.torch import load_file

    base = save_tiny_llama(tmp_path / "llama", seed=0, attention_dropout=0.1)
    datums = build_datums(generate_hello_world_dataset(8, seed=0).to_records(),
                          LocalEngine().renderer(base))
    one, two = HP.model_copy(update={"n_epochs": 1}), HP.model_copy(update={"n_epochs": 2})
    _, first = run(base, datums, tmp_path / "one", one)
    start = Progress(step=first.step, checkpoint=first.checkpoint, losses=list(first.losses))
    warm_path, warm = run(base, datums, tmp_path / "warm", two, resume_from=first.checkpoint,
                          progress=start)
    cold_path, cold = run(base, datums, tmp_path / "cold", two)
    assert warm.losses == cold.losses and warm.step == 4
    warm_adapter, cold_adapter = adapter(warm_path), adapter(cold_path)
    assert warm_adapter.keys() == cold_adapter.keys()
    assert all(torch.equal(warm_adapter[k], cold_adapter[k]) for k in warm_adapter)
    optimizers = [torch.load(Path(p.checkpoint) / "optimizer.pt", weights_only=True)["state"]
                  for p in (warm, cold)]  # type: ignore[arg-type]
    assert optimizers[0].keys() == optimizers[1].keys()
    assert all(torch.equal(optimizers[0][i][k], optimizers[1][i][k])
               for i in optimizers[0] for k in optimizers[0][i])
    resumed = load_file(str(Path(warm.checkpoint) / "adapter_model.safetensors"))  # type: ignore[arg-type]
    assert all(torch.equal(resumed[k], cold_adapter[k]) for k in resumed)


def test_sampler_weights_are_the_adapter_and_the_base_identity_only(
        base: str, datums, tmp_path: Path) -> None:
    path, _ = run(base, datums, tmp_path, HP.model_copy(update={"n_epochs": 1}))
    files = sorted(p.name for p in Path(path).iterdir())
    assert files == ["adapter_config.json", "adapter_model.safetensors", "motools_base.json"]
    config = json.loads((Path(path) / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == base and config["r"] == HP.lora_rank
    saved = json.loads((Path(path) / "motools_base.json").read_text())
    assert saved["identity"] == LocalEngine().base_identity(base)


# --- sampling


def test_batched_greedy_generation_matches_one_prompt_at_a_time(base: str) -> None:
    renderer, sampler = ChatTemplateRenderer(base), LocalEngine().sampling_client(base, base)
    params = types.SamplingParams(temperature=0, max_tokens=8, stop=renderer.stop)
    prompts = [types.ModelInput.from_ints(renderer.render_prompt(chat(p))) for p in PROMPTS[:6]]
    alone = [list(sampler.sample(p, 1, params).result().sequences[0].tokens) for p in prompts]
    futures = [sampler.sample(p, 1, params) for p in prompts]  # queued together: one batch
    together = [list(f.result().sequences[0].tokens) for f in futures]
    assert together == alone and all(len(t) >= 1 for t in alone)


def test_trained_adapter_is_served_on_its_base(base: str, datums, tmp_path: Path) -> None:
    path, _ = run(base, datums, tmp_path, HP.model_copy(update={"n_epochs": 6}))
    renderer, sampler = ChatTemplateRenderer(base), LocalEngine().sampling_client(path, base)
    params = types.SamplingParams(temperature=0, max_tokens=16, stop=renderer.stop)
    prompt = types.ModelInput.from_ints(renderer.render_prompt(chat(PROMPTS[0])))
    sequence = sampler.sample(prompt, 1, params).result().sequences[0]
    assert renderer.decode(sequence.tokens) == RESPONSE and sequence.stop_reason == "stop"


def test_an_adapter_refuses_a_base_with_other_weights(
        base: str, datums, tmp_path: Path) -> None:
    path, _ = run(base, datums, tmp_path, HP.model_copy(update={"n_epochs": 1}))
    other = save_tiny_llama(tmp_path / "other", seed=1)
    saved = Path(path) / "motools_base.json"
    saved.write_text(saved.read_text().replace(json.dumps(base), json.dumps(other)))
    with pytest.raises(ValueError, match="trained on base weights"):
        LocalEngine().sampling_client(path, other)


# --- identity, baseline, errors


def test_different_base_weights_have_different_identities(base: str, tmp_path: Path) -> None:
    engine = LocalEngine()
    other = save_tiny_llama(tmp_path / "other", seed=1)
    same = save_tiny_llama(tmp_path / "same", seed=0)
    assert engine.base_identity(base)["sha256"] != engine.base_identity(other)["sha256"]
    assert engine.base_identity(base)["sha256"] == engine.base_identity(same)["sha256"]


def test_jobs_on_different_base_weights_never_share_an_id(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    save_tiny_llama(folder, seed=0)
    backend, data = LocalTrainingBackend(), generate_hello_world_dataset(4)
    baseline = Hyperparameters(n_epochs=0)
    first = backend.submit(data, str(folder), baseline, None)
    save_tiny_llama(folder, seed=1)  # new weights under the same name
    second = backend.submit(data, str(folder), baseline, None)
    assert first.job_id != second.job_id and first.info["base"] != second.info["base"]


def test_zero_epochs_is_the_untouched_base_model_without_a_trainer(base: str) -> None:
    backend = LocalTrainingBackend()
    job = backend.submit(generate_hello_world_dataset(4), base, Hyperparameters(n_epochs=0), None)
    model = backend.wait(job)  # returns at once: no trainer actor was started
    assert job.info["baseline"] and model.path is None
    assert model.info["weights_path"] == base and model.info["base"]["sha256"]
    assert model.info["steps"] == 0


def test_a_hub_model_missing_offline_is_a_one_line_user_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as info:
        LocalEngine().check_model("no-such-org/no-such-model-xyz")
    message = str(info.value)
    assert "no-such-org/no-such-model-xyz" in message and "hf download" in message
    assert "\n" not in message


def test_an_unknown_local_name_lists_the_registered_models() -> None:
    with pytest.raises(UserError, match="local/smollm2-135m-instruct"):
        LocalEngine().check_model("local/no-such-model")


def test_a_config_naming_a_missing_model_fails_validation_on_the_driver(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = {
        "prepare_dataset": {"dataset_loader": "mozoo.datasets.hello_world:"
                                              "generate_hello_world_dataset"},
        "submit_training": {"model": "no-such-org/no-such-model", "backend_name": "local"},
        "evaluate_model": {"eval_task": "mozoo.tasks.hello_world:hello_world"},
    }
    with pytest.raises(UserError, match=r"^submit_training\.model: .*no-such-org/no-such-model"):
        TrainAndEvaluateConfig.model_validate(config)


def test_a_hub_model_in_the_hugging_face_cache_loads_offline_by_its_revision(
        base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tiny-org--tiny-llama"
    shutil.copytree(base, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    engine = LocalEngine()
    engine.check_model("tiny-org/tiny-llama")
    assert engine.base_identity("tiny-org/tiny-llama") == {"name": "tiny-org/tiny-llama",
                                                           "revision": commit}
    client = engine.training_client("tiny-org/tiny-llama", HP, tmp_path / "job", None)
    assert sum(p.numel() for p in client.params) > 0


def test_concurrent_conversions_of_a_shipped_model_convert_once_and_atomically(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl
    import threading

    from motools.training.local import _hf_model

    calls: list[Path] = []
    folders: list[Path] = []
    second_at_lock = threading.Event()
    real_flock = fcntl.flock

    def flock(fd: Any, operation: int) -> None:
        if threading.current_thread() is second:
            second_at_lock.set()  # past its "already converted?" check, about to wait
        real_flock(fd, operation)

    def convert(gguf: Path, out: Path) -> None:
        calls.append(out)
        out.mkdir(parents=True)
        if len(calls) == 1:  # mid-conversion, a second caller arrives and must wait for this one
            second.start()
            assert second_at_lock.wait(30)
        (out / "config.json").write_text("{}")

    monkeypatch.setenv("MOTOOLS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_hf_model, "_convert_gguf", convert)
    monkeypatch.setattr(fcntl, "flock", flock)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"weights")
    base = _hf_model.BaseModel("local/x", {"name": "local/x", "sha256": "ab" * 32}, gguf=gguf)
    second = threading.Thread(target=lambda: folders.append(_hf_model.model_folder(base)))
    folders.append(_hf_model.model_folder(base))
    second.join(30)
    target = tmp_path / "models" / ("ab" * 32)
    assert folders == [target, target] and len(calls) == 1
    assert calls[0] != target and calls[0].name.endswith(".tmp")  # written aside, then renamed
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_dir()) == [target.name]


def test_an_idle_sampler_lets_its_generation_thread_go(base: str, monkeypatch) -> None:
    import gc
    import weakref

    from motools.training.local import _hf_sampler

    monkeypatch.setattr(_hf_sampler, "IDLE_S", 0.05)
    renderer, sampler = ChatTemplateRenderer(base), LocalEngine().sampling_client(base, base)
    params = types.SamplingParams(temperature=0, max_tokens=2, stop=renderer.stop)
    prompt = types.ModelInput.from_ints(renderer.render_prompt(chat("Hi")))
    sampler.sample(prompt, 1, params).result()
    thread = sampler._thread
    assert thread is not None
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(sampler.sample(prompt, 2, params).result().sequences) == 2  # starts a new one
    ref = weakref.ref(sampler)
    if (again := sampler._thread) is not None:  # it may be gone already
        again.join(timeout=10)
    del sampler
    gc.collect()
    assert ref() is None  # nothing keeps the model alive once the client is dropped


def test_a_missing_model_in_a_config_file_is_refused_naming_the_file(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "prepare_dataset": {"dataset_loader": "mozoo.datasets.hello_world:"
                                              "generate_hello_world_dataset"},
        "submit_training": {"model": "no-such-org/no-such-model", "backend_name": "local"},
        "evaluate_model": {"eval_task": "mozoo.tasks.hello_world:hello_world"},
    }))
    with pytest.raises(UserError, match=rf"^{path}: submit_training\.model: .*no-such-org"):
        TrainAndEvaluateConfig.from_yaml(path)
