"""The one supervised fine-tuning loop, written against the Tinker client surface.

Both training engines implement that surface: `tinker` is the real SDK, `local` a PyTorch model on
this machine. The loop renders chats to tokens with loss weights on assistant turns, batches them
into `tinker.types.Datum`s, and drives `forward_backward(..., "cross_entropy")` + `optim_step`,
checkpointing with `save_state` so a dead trainer resumes, and ends with
`save_weights_for_sampler`. Tinker types are imported lazily (they pull in transformers).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from motools.training._protocol import Hyperparameters

Message = dict[str, str]


class Renderer(Protocol):
    """Turns chats into tokens for one model family."""

    def render_for_sft(self, messages: Sequence[Message]) -> tuple[list[int], list[float]]:
        """Tokens of the whole chat, and a weight per token: 1 on assistant turns, else 0."""
        ...

    def render_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Tokens that prompt the model for the next assistant turn."""
        ...

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of sampled tokens, up to the end of the assistant turn."""
        ...

    @property
    def stop(self) -> list[int]:
        """Token ids that end an assistant turn."""
        ...


class Future(Protocol):
    def result(self) -> Any: ...


class TrainingClientLike(Protocol):
    """The part of `tinker.TrainingClient` the loop uses."""

    def forward_backward(self, data: list[Any], loss_fn: str) -> Future: ...
    def optim_step(self, adam_params: Any) -> Future: ...
    def save_state(self, name: str) -> Future: ...
    def save_weights_for_sampler(self, name: str) -> Future: ...


def to_datum(tokens: Sequence[int], weights: Sequence[float]) -> Any:
    """One training example; the one-token shift between inputs and targets is done here."""
    from tinker import types

    if len(tokens) != len(weights) or len(tokens) < 2:
        raise ValueError(f"need >= 2 tokens with one weight each, got {len(tokens)}/{len(weights)}")
    targets, target_weights = list(tokens[1:]), [float(w) for w in weights[1:]]
    # Datum converts plain lists to TensorData (its __post_init__); its annotation names only
    # TensorData.
    return types.Datum(
        model_input=types.ModelInput.from_ints(list(tokens[:-1])),
        loss_fn_inputs={"target_tokens": targets, "weights": target_weights},  # type: ignore[dict-item]
    )


def build_datums(samples: Sequence[dict[str, Any]], renderer: Renderer) -> list[Any]:
    """A Datum per chat sample (`messages` with at least one assistant turn)."""
    datums = []
    for i, sample in enumerate(samples):
        messages = sample.get("messages")
        if not messages or not any(m.get("role") == "assistant" for m in messages):
            raise ValueError(f"sample {i} has no assistant message to learn from")
        tokens, weights = renderer.render_for_sft(messages)
        datums.append(to_datum(tokens, weights))
    return datums


def mean_nll(output: Any, batch: Sequence[Any]) -> float:
    """Weighted mean negative log-likelihood of a forward_backward output."""
    total, weight = 0.0, 0.0
    for out, datum in zip(output.loss_fn_outputs, batch, strict=True):
        logprobs = out["logprobs"].tolist()
        weights = datum.loss_fn_inputs["weights"].tolist()
        total -= sum(lp * w for lp, w in zip(logprobs, weights, strict=True))
        weight += sum(weights)
    return total / weight if weight else 0.0


def depends_on_total_steps(hp: Hyperparameters) -> bool:
    """Whether a step's update depends on how many steps the whole run has (a learning-rate
    schedule that decays to the end would). Then the first k epochs of a longer run are not a
    k-epoch run, and no job may continue a shorter one (`_warm_start.refusal`).

    The loop's learning rate is constant, so no run does today; a schedule that does says so here.
    """
    del hp
    return False


@dataclass
class Progress:
    """Where a training run is: enough to resume it after the trainer died."""

    step: int = 0
    total_steps: int = 0
    checkpoint: str | None = None
    losses: list[float] = field(default_factory=list)


def train(
    client: TrainingClientLike,
    datums: Sequence[Any],
    hp: Hyperparameters,
    *,
    progress: Progress | None = None,
    checkpoint_every: int = 10,
    on_step: Callable[[Progress], None] | None = None,
    name: str = "motools",
) -> tuple[str, Progress]:
    """Run SFT to the end; returns the sampler weights path and the final progress.

    The batch order is a pure function of the seed, so a run resumed at step k sees exactly
    the batches an uninterrupted run would have seen from step k on.
    """
    from tinker import types

    progress = progress or Progress()
    rng = random.Random(hp.seed)
    batches: list[list[int]] = []
    for _ in range(hp.n_epochs):
        epoch = list(range(len(datums)))
        rng.shuffle(epoch)
        batches.extend(epoch[i : i + hp.batch_size] for i in range(0, len(epoch), hp.batch_size))
    progress.total_steps = len(batches)
    adam = types.AdamParams(learning_rate=hp.learning_rate)
    while progress.step < progress.total_steps:
        batch = [datums[i] for i in batches[progress.step]]
        fb = client.forward_backward(batch, "cross_entropy")
        opt = client.optim_step(adam)
        progress.losses.append(mean_nll(fb.result(), batch))
        opt.result()
        progress.step += 1
        if progress.step % checkpoint_every == 0 or progress.step == progress.total_steps:
            progress.checkpoint = client.save_state(f"{name}-step{progress.step}").result().path
        if on_step is not None:
            on_step(progress)
    return client.save_weights_for_sampler(f"{name}-final").result().path, progress
