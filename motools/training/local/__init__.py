"""The `local` training engine: a tiny byte-level transformer trained with PyTorch in-process.

It implements the Tinker client surface the shared SFT loop (`motools.training._sft`) uses, so the
same loop runs on Tinker and here. Importing this package does not import torch; the clients do.
`LocalTrainingClient` and `LocalSamplingClient` are importable from here lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motools.training.local._engine import BASE_MODELS, LocalEngine
from motools.training.local._renderer import ByteRenderer

if TYPE_CHECKING:
    from motools.training.local._client import LocalTrainingClient
    from motools.training.local._sampler import LocalSamplingClient

_LAZY = {
    "LocalTrainingClient": "motools.training.local._client",
    "LocalSamplingClient": "motools.training.local._sampler",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BASE_MODELS",
    "ByteRenderer",
    "LocalEngine",
    "LocalSamplingClient",
    "LocalTrainingClient",
]
