"""A training engine: what the one SFT loop needs from a model family's provider.

`tinker` (the Tinker service) and `local` (PyTorch on this machine) implement it; the loop in
`_sft.py`, the trainer that runs it, and the inspect-ai model provider use only this surface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from motools.training._protocol import Hyperparameters
from motools.training._sft import Renderer, TrainingClientLike


class SamplingClientLike(Protocol):
    """The part of `tinker.SamplingClient` evaluation uses."""

    def sample(self, prompt: Any, num_samples: int, sampling_params: Any) -> Any:
        """A future whose result has `.sequences[i].tokens` (a `tinker.types.SampleResponse`)."""
        ...


class Engine(Protocol):
    """Creates training and sampling clients for base models of one provider.

    An engine whose `training_client(..., resume_from=...)` continues a run exactly as if it had
    never stopped sets the class attribute `exact_resume = True`: then a job with more epochs
    continues a finished shorter one (warm start, `_warm_start.py`). Without it, every job trains
    from scratch.
    """

    name: str

    def check_ready(self) -> None:
        """Raise a one-line UserError if the engine cannot run here (missing key, package)."""
        ...

    def renderer(self, base_model: str) -> Renderer:
        """The chat renderer for a base model."""
        ...

    def training_client(
        self, base_model: str, hp: Hyperparameters, workdir: Path, resume_from: str | None
    ) -> TrainingClientLike:
        """A training client; `resume_from` is a path `save_state` returned earlier."""
        ...

    def sampling_client(self, weights_path: str, base_model: str) -> SamplingClientLike:
        """A sampling client for weights `save_weights_for_sampler` returned."""
        ...
