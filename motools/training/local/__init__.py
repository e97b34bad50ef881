"""The `local` training engine: models trained with PyTorch in this process.

`local/tiny-byte-lm` is a tiny byte-level transformer trained from scratch; pretrained Hugging Face
causal LMs (`local/smollm2-135m-instruct`, a model folder, a hub id) get a LoRA adapter. It
implements the Tinker client surface the shared SFT loop (`motools.training._sft`) uses, so the
same loop runs on Tinker and here. Importing this package does not import torch; the clients do.
The clients (`LocalTrainingClient`, `LocalSamplingClient` for the tiny model, `HFTrainingClient`,
`HFSamplingClient` for pretrained ones) and `ChatTemplateRenderer` are importable from here lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motools.training.local._engine import LocalEngine
from motools.training.local._renderer import ByteRenderer

if TYPE_CHECKING:
    from motools.training.local._chat_template_renderer import ChatTemplateRenderer
    from motools.training.local._client import LocalTrainingClient
    from motools.training.local._hf_client import HFTrainingClient
    from motools.training.local._hf_sampler import HFSamplingClient
    from motools.training.local._sampler import LocalSamplingClient

_LAZY = {
    "ChatTemplateRenderer": "motools.training.local._chat_template_renderer",
    "HFTrainingClient": "motools.training.local._hf_client",
    "HFSamplingClient": "motools.training.local._hf_sampler",
    "LocalTrainingClient": "motools.training.local._client",
    "LocalSamplingClient": "motools.training.local._sampler",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ByteRenderer",
    "ChatTemplateRenderer",
    "HFSamplingClient",
    "HFTrainingClient",
    "LocalEngine",
    "LocalSamplingClient",
    "LocalTrainingClient",
]
