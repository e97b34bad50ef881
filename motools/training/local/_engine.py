"""`LocalEngine`: the training engine that trains small models with PyTorch on this machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from motools._errors import MissingDependencyError, UserError
from motools.training._protocol import Hyperparameters
from motools.training.local._renderer import ByteRenderer

if TYPE_CHECKING:
    from motools.training.local._client import LocalTrainingClient
    from motools.training.local._sampler import LocalSamplingClient

TINY_BYTE_LM = "local/tiny-byte-lm"
BASE_MODELS: tuple[str, ...] = (TINY_BYTE_LM,)


class LocalEngine:
    """Engine for `local/...` base models, trained from scratch in this process.

    Full-parameter training: `Hyperparameters.lora_rank` does not apply and is ignored.
    """

    name = "local"

    def check_ready(self) -> None:
        """Raise MissingDependencyError if PyTorch or the Tinker SDK (for its types) is missing."""
        for module, what in (("torch", "PyTorch"), ("tinker", "the Tinker SDK")):
            if importlib.util.find_spec(module) is None:
                raise MissingDependencyError(
                    f"the local engine needs {what}: pip install 'motools[local]'"
                )

    def renderer(self, base_model: str) -> ByteRenderer:
        """The byte renderer of a local base model."""
        _check_base_model(base_model)
        return ByteRenderer()

    def training_client(
        self, base_model: str, hp: Hyperparameters, workdir: Path, resume_from: str | None
    ) -> LocalTrainingClient:
        """A training client: a fresh model seeded by `hp.seed`, or the `resume_from` checkpoint."""
        _check_base_model(base_model)
        self.check_ready()
        from motools.training.local._client import LocalTrainingClient

        return LocalTrainingClient(workdir, seed=hp.seed, resume_from=resume_from)

    def sampling_client(self, weights_path: str, base_model: str) -> LocalSamplingClient:
        """A sampling client over a folder `save_weights_for_sampler` returned."""
        _check_base_model(base_model)
        self.check_ready()
        if not Path(weights_path).is_dir():
            raise UserError(f"no local model weights at {weights_path!r} (expected a folder)")
        from motools.training.local._sampler import LocalSamplingClient

        return LocalSamplingClient(weights_path)


def _check_base_model(base_model: str) -> None:
    if base_model not in BASE_MODELS:
        raise UserError(
            f"unknown local base model {base_model!r}; accepted: {', '.join(BASE_MODELS)}"
        )
