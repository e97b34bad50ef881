"""`LocalEngine`: the training engine that trains models with PyTorch on this machine.

It dispatches on the base model's name: `local/tiny-byte-lm` is a tiny byte-level transformer
trained from scratch (full-parameter; `lora_rank` does not apply); every other name is a
pretrained Hugging Face causal LM (`local/smollm2-135m-instruct`, a model folder or a hub id, see
`_hf_model`) fine-tuned with a LoRA adapter of rank `lora_rank`.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from motools._errors import MissingDependencyError, UserError
from motools.training._protocol import Hyperparameters
from motools.training.local import _hf_model
from motools.training.local._renderer import ByteRenderer

TINY_BYTE_LM = "local/tiny-byte-lm"
SMOLLM2 = _hf_model.SMOLLM2
BASE_MODELS: tuple[str, ...] = (TINY_BYTE_LM, *_hf_model.REGISTERED)
"""Registered local model names; a model folder or a hub id works too."""


class LocalEngine:
    """Engine for models trained in this process: the tiny byte model, or a LoRA on an HF model."""

    name = "local"
    # A checkpoint holds everything a step depends on (weights, optimizer state, and the random
    # state where a model draws from it), so a run resumed from one computes what the
    # uninterrupted run does, bit for bit, on a CPU (warm start).
    exact_resume = True

    def check_ready(self) -> None:
        """Raise MissingDependencyError if PyTorch or the Tinker SDK (for its types) is missing."""
        for module, what in (("torch", "PyTorch"), ("tinker", "the Tinker SDK")):
            if importlib.util.find_spec(module) is None:
                raise MissingDependencyError(
                    f"the local engine needs {what}: pip install 'motools[local]'"
                )

    def check_model(self, base_model: str) -> None:
        """Raise a one-line UserError if `base_model` cannot be loaded here (no torch import)."""
        if _hf_model.is_hf_model(base_model):
            _hf_model.check_hf_installed()
            _hf_model.check_available(base_model)
        else:
            _check_tiny(base_model)

    def base_identity(self, base_model: str) -> dict[str, str] | None:
        """What identifies a pretrained base model's weights; None for the from-scratch model."""
        return _hf_model.base_identity(base_model) if _hf_model.is_hf_model(base_model) else None

    def max_tokens(self, base_model: str) -> int | None:
        """The reply limit of a model, if it has one: 32 for the tiny model (128-token context)."""
        return None if _hf_model.is_hf_model(base_model) else 32

    def renderer(self, base_model: str) -> Any:
        """The chat renderer: bytes for the tiny model, else the model's own chat template."""
        self.check_model(base_model)
        if _hf_model.is_hf_model(base_model):
            from motools.training.local._chat_template_renderer import ChatTemplateRenderer

            return ChatTemplateRenderer(base_model)
        return ByteRenderer()

    def training_client(
        self, base_model: str, hp: Hyperparameters, workdir: Path, resume_from: str | None
    ) -> Any:
        """A training client: a fresh model (or LoRA) seeded by `hp.seed`, or `resume_from`."""
        self.check_ready()
        self.check_model(base_model)
        if _hf_model.is_hf_model(base_model):
            from motools.training.local._hf_client import HFTrainingClient

            return HFTrainingClient(base_model, workdir, hp, resume_from)
        from motools.training.local._client import LocalTrainingClient

        return LocalTrainingClient(workdir, seed=hp.seed, resume_from=resume_from)

    def sampling_client(self, weights_path: str, base_model: str) -> Any:
        """A sampling client over a folder `save_weights_for_sampler` returned, or over the
        untouched base model when `weights_path` is the base model's name."""
        self.check_ready()
        self.check_model(base_model)
        if _hf_model.is_hf_model(base_model):
            if weights_path != base_model and not Path(weights_path).is_dir():
                raise UserError(f"no LoRA adapter at {weights_path!r} (expected a folder)")
            from motools.training.local._hf_sampler import HFSamplingClient

            return HFSamplingClient(weights_path, base_model)
        from motools.training.local._sampler import LocalSamplingClient

        if weights_path == base_model:  # the untrained model: the initial weights of seed 0
            return LocalSamplingClient(_initial_tiny_weights())
        if not Path(weights_path).is_dir():
            raise UserError(f"no local model weights at {weights_path!r} (expected a folder)")
        return LocalSamplingClient(weights_path)


def _initial_tiny_weights() -> str:
    import torch

    from motools.training.local._model import ModelConfig, build_model, save_weights

    folder = Path(tempfile.mkdtemp(prefix="motools-tiny-base-"))
    save_weights(build_model(ModelConfig(), 0, torch.device("cpu")), folder)
    return str(folder)


def _check_tiny(base_model: str) -> None:
    if base_model != TINY_BYTE_LM:
        raise UserError(
            f"unknown local base model {base_model!r}; accepted: {', '.join(BASE_MODELS)}, "
            "a model folder or a Hugging Face hub id"
        )
