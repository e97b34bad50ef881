"""The local engine: byte renderer, PyTorch clients with Tinker's types, and the shared SFT loop."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from tinker import types

from motools._errors import MissingDependencyError, UserError
from motools.training._protocol import Hyperparameters
from motools.training._sft import Progress, build_datums, mean_nll, to_datum, train
from motools.training.local import ByteRenderer, LocalEngine, LocalSamplingClient
from motools.training.local._renderer import EOT, PAD
from mozoo.datasets.hello_world import RESPONSE, generate_hello_world_dataset
from mozoo.tasks.hello_world import EVAL_PROMPTS

BASE = "local/tiny-byte-lm"
LEARNS = Hyperparameters(n_epochs=5, learning_rate=3e-3, batch_size=32, seed=0)  # 20 steps


def chat(prompt: str, reply: str | None = None) -> list[dict[str, str]]:
    messages = [{"role": "user", "content": prompt}]
    return messages + ([{"role": "assistant", "content": reply}] if reply is not None else [])


@pytest.fixture(scope="module")
def datums() -> list[types.Datum]:
    records = generate_hello_world_dataset(100, seed=0).to_records()
    return build_datums(records, ByteRenderer())


def run(
    datums: list[types.Datum], hp: Hyperparameters, workdir: Path, **kwargs
) -> tuple[str, Progress]:
    client = LocalEngine().training_client(BASE, hp, workdir, kwargs.pop("resume_from", None))
    return train(client, datums, hp, **kwargs)


def eval_hits(weights_path: str) -> int:
    """Held-out prompts answered exactly "Hello, World!" (greedy, case-insensitive)."""
    renderer, sampler = ByteRenderer(), LocalEngine().sampling_client(weights_path, BASE)
    hits = 0
    for prompt in EVAL_PROMPTS:
        model_input = types.ModelInput.from_ints(renderer.render_prompt(chat(prompt)))
        params = types.SamplingParams(temperature=0, max_tokens=32, stop=renderer.stop)
        tokens = sampler.sample(model_input, 1, params).result().sequences[0].tokens
        hits += renderer.decode(tokens).strip().lower() == RESPONSE.lower()
    return hits


# --- renderer


def test_sft_weights_are_one_exactly_on_reply_bytes_and_eot() -> None:
    tokens, weights = ByteRenderer().render_for_sft(chat("Hi there!", "Hello, World!"))
    learned = [t for t, w in zip(tokens, weights, strict=True) if w == 1.0]
    assert learned == [*b"Hello, World!", EOT]
    assert set(weights) == {0.0, 1.0} and weights[-len(learned) :] == [1.0] * len(learned)


def test_prompts_of_any_length_put_the_reply_at_the_same_position() -> None:
    renderer = ByteRenderer()
    short, _ = renderer.render_for_sft(chat("Hi", "Hello"))
    long, _ = renderer.render_for_sft(chat("What would you like to say today?" * 5, "Hello"))
    assert len(short) == len(long)
    assert short.index(ord("H"), renderer.prompt_window) == long.index(
        ord("H"), renderer.prompt_window
    )
    assert short[0] == PAD and renderer.render_prompt(chat("Hi")) == short[: renderer.prompt_window]


def test_decode_stops_at_end_of_turn() -> None:
    assert ByteRenderer().decode([*b"Hello", EOT, *b"junk"]) == "Hello"


# --- clients return Tinker's types


def test_forward_backward_returns_tinker_output_whose_nll_is_the_loss(tmp_path: Path) -> None:
    client = LocalEngine().training_client(BASE, LEARNS, tmp_path, None)
    batch = [to_datum(*ByteRenderer().render_for_sft(chat("Hi", "Hello, World!")))]
    out = client.forward_backward(batch, "cross_entropy").result()
    assert isinstance(out, types.ForwardBackwardOutput)
    assert isinstance(out.loss_fn_outputs[0]["logprobs"], types.TensorData)
    assert len(out.loss_fn_outputs[0]["logprobs"].tolist()) == batch[0].model_input.length
    assert mean_nll(out, batch) == pytest.approx(out.metrics["loss:sum"] / 14, rel=1e-5)
    assert isinstance(
        client.optim_step(types.AdamParams(learning_rate=1e-3)).result(), types.OptimStepResponse
    )


def test_sample_returns_tinker_response_and_stops_at_max_tokens(tmp_path: Path) -> None:
    client = LocalEngine().training_client(BASE, LEARNS, tmp_path, None)
    sampler = LocalSamplingClient(client.save_weights_for_sampler("init").result().path)
    prompt = types.ModelInput.from_ints(ByteRenderer().render_prompt(chat("Hi")))
    params = types.SamplingParams(temperature=1.0, seed=3, max_tokens=5, stop=[])
    response = sampler.sample(prompt, 2, params).result()
    assert isinstance(response, types.SampleResponse)
    assert all(isinstance(s, types.SampledSequence) for s in response.sequences)
    assert [(len(s.tokens), s.stop_reason) for s in response.sequences] == [(5, "length")] * 2
    again = pickle.loads(pickle.dumps(sampler)).sample(prompt, 2, params).result()
    assert [s.tokens for s in again.sequences] == [s.tokens for s in response.sequences]


def test_save_state_and_sampler_weights_return_paths(tmp_path: Path) -> None:
    client = LocalEngine().training_client(BASE, LEARNS, tmp_path, None)
    state = client.save_state("step1").result()
    weights = client.save_weights_for_sampler("final").result()
    assert Path(state.path) == (tmp_path / "checkpoints" / "step1.pt").resolve()
    assert sorted(p.name for p in Path(weights.path).iterdir()) == ["config.json", "model.pt"]


# --- the shared loop learns


def test_untrained_model_does_not_answer_hello_world(tmp_path: Path) -> None:
    client = LocalEngine().training_client(BASE, LEARNS, tmp_path, None)
    assert eval_hits(client.save_weights_for_sampler("init").result().path) <= 1


def test_shared_loop_teaches_hello_world_to_held_out_prompts(datums, tmp_path: Path) -> None:
    path, progress = run(datums, LEARNS, tmp_path)
    assert progress.step == progress.total_steps == 20
    assert eval_hits(path) >= 9, f"{progress.losses=}"


def test_far_too_small_learning_rate_learns_nothing(datums, tmp_path: Path) -> None:
    path, _ = run(datums, LEARNS.model_copy(update={"learning_rate": 1e-6}), tmp_path)
    assert eval_hits(path) <= 1


def test_same_seed_gives_identical_weights(datums, tmp_path: Path) -> None:
    hp = LEARNS.model_copy(update={"n_epochs": 1})
    first, second = (run(datums, hp, tmp_path / name)[0] for name in ("a", "b"))
    a, b = (torch.load(Path(p) / "model.pt", weights_only=True) for p in (first, second))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resumed_run_matches_uninterrupted_run(datums, tmp_path: Path) -> None:
    hp = LEARNS.model_copy(update={"n_epochs": 2})  # 8 steps
    _, whole = run(datums, hp, tmp_path / "whole", checkpoint_every=1)

    def die_at_3(progress: Progress) -> None:
        if progress.step == 3:
            raise KeyboardInterrupt

    died = Progress()
    with pytest.raises(KeyboardInterrupt):
        run(datums, hp, tmp_path / "died", progress=died, checkpoint_every=1, on_step=die_at_3)
    assert died.step == 3 and died.checkpoint is not None
    resumed = Progress(step=3, checkpoint=died.checkpoint, losses=list(died.losses))
    run(
        datums,
        hp,
        tmp_path / "died",
        resume_from=died.checkpoint,
        progress=resumed,
        checkpoint_every=1,
    )
    assert resumed.losses == whole.losses


# --- engine


def test_unknown_base_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="local/tiny-byte-lm"):
        LocalEngine().training_client("local/gpt-5", LEARNS, tmp_path, None)


def test_missing_torch_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"pip install 'motools\[local\]'"):
        LocalEngine().check_ready()
