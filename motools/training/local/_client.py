"""`LocalTrainingClient`: the TrainingClient surface the SFT loop uses, on local PyTorch."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from tinker import types

from motools.training.local._batch import pad_batch
from motools.training.local._model import (
    ModelConfig,
    TinyByteLM,
    build_model,
    save_torch_atomic,
    save_weights,
    select_device,
)
from motools.training.local._renderer import PAD

T = TypeVar("T")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class Done(Generic[T]):
    """A future that is already complete (the local client works synchronously)."""

    def __init__(self, value: T) -> None:
        self._value = value

    def result(self, timeout: float | None = None) -> T:
        """The value; never blocks."""
        return self._value


class LocalTrainingClient:
    """Trains a `TinyByteLM` in this process with Tinker's call surface and result types.

    Gradients from `forward_backward` calls add up until the next `optim_step`, as in Tinker.

    Args:
        workdir: Where `save_state` and `save_weights_for_sampler` write.
        seed: Seeds the initial weights.
        resume_from: A path `save_state` returned: restores weights and optimizer state.
        config: Model shape, for a fresh model (a checkpoint carries its own).
    """

    def __init__(
        self,
        workdir: str | Path,
        seed: int = 0,
        resume_from: str | None = None,
        config: ModelConfig | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.device = select_device()
        checkpoint = None
        if resume_from is not None:
            checkpoint = torch.load(resume_from, map_location="cpu", weights_only=True)
            config = ModelConfig(**checkpoint["config"])
        self.model: TinyByteLM = build_model(config or ModelConfig(), seed, self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters())
        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.model.train()

    def forward_backward(
        self, data: list[types.Datum], loss_fn: str = "cross_entropy"
    ) -> Done[types.ForwardBackwardOutput]:
        """Accumulate gradients of the weighted mean NLL of a batch.

        Args:
            data: Datums with `target_tokens` and optional `weights` (default 1) per input token.
            loss_fn: Only "cross_entropy".

        Returns:
            A completed future of per-datum `logprobs` of the targets.
        """
        if loss_fn != "cross_entropy":
            raise ValueError(
                f"the local engine supports loss_fn='cross_entropy' only, got {loss_fn!r}"
            )
        if not data:
            raise ValueError("forward_backward needs at least one Datum")
        x, y, w, _, lengths = pad_batch(data, self.device, PAD)
        logits = self.model(x).float()
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        return backward_weighted_nll(logprobs, w, lengths)

    def optim_step(self, adam_params: types.AdamParams) -> Done[types.OptimStepResponse]:
        """One AdamW step with these settings on the accumulated gradients, then clear them."""
        return adamw_step(self.optimizer, list(self.model.parameters()), adam_params)

    def save_state(self, name: str) -> Done[types.SaveWeightsResponse]:
        """Save weights and optimizer state to `workdir/checkpoints/<name>.pt` (for resuming)."""
        path = self.workdir / "checkpoints" / f"{_check_name(name)}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        state: dict[str, Any] = {
            "config": asdict(self.model.cfg),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": _to_cpu(self.optimizer.state_dict()),
        }
        save_torch_atomic(state, path)
        return Done(types.SaveWeightsResponse(path=str(path.resolve())))

    def save_weights_for_sampler(self, name: str) -> Done[types.SaveWeightsForSamplerResponse]:
        """Save the weights to the folder `workdir/sampler/<name>/`, for `LocalSamplingClient`."""
        folder = save_weights(self.model, self.workdir / "sampler" / _check_name(name))
        return Done(types.SaveWeightsForSamplerResponse(path=str(folder.resolve())))


def backward_weighted_nll(
    logprobs: torch.Tensor, weights: torch.Tensor, lengths: list[int]
) -> Done[types.ForwardBackwardOutput]:
    """Backpropagate the weighted mean NLL of target log-probs; Tinker's output for them."""
    loss_sum = -(logprobs * weights).sum()
    (loss_sum / weights.sum().clamp_min(1e-8)).backward()
    logprobs = logprobs.detach().cpu()
    return Done(
        types.ForwardBackwardOutput(
            loss_fn_output_type="ArrayRecord",
            loss_fn_outputs=[
                {"logprobs": types.TensorData.from_torch(logprobs[i, :n].contiguous())}
                for i, n in enumerate(lengths)
            ],
            metrics={"loss:sum": float(loss_sum.detach())},
        )
    )


def adamw_step(
    optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter], adam: types.AdamParams
) -> Done[types.OptimStepResponse]:
    """One step of `optimizer` with Tinker's Adam settings (clipping `params`), then zero grads."""
    for group in optimizer.param_groups:
        group.update(lr=adam.learning_rate, betas=(adam.beta1, adam.beta2), eps=adam.eps,
                     weight_decay=adam.weight_decay)
    metrics: dict[str, float] = {}
    if adam.grad_clip_norm > 0:
        metrics["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, adam.grad_clip_norm))
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return Done(types.OptimStepResponse(metrics=metrics or None))


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"checkpoint name {name!r}: use letters, digits, '.', '_', '-' (max 200)")
    return name


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj
