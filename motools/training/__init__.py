"""Training backends: the protocol, its records, and lookup by name.

Backends are registered by name (`motools.registry`, kind `training_backend`); `get_training_backend`
imports one only when it is used. `local` and `tinker` run the one SFT loop (`_sft.py`) through an
engine (`get_engine`) inside a detached trainer actor.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, cast

from motools.registry import resolve
from motools.training._protocol import Hyperparameters, TrainedModel, TrainingBackend, TrainingJob
from motools.training._trainer import get_engine

if TYPE_CHECKING:
    from motools.atom import AtomStore


def get_training_backend(name: str, store: AtomStore | None = None) -> TrainingBackend:
    """Instantiate the training backend registered under `name` (given the store, if it takes one)."""
    cls = resolve("training_backend", name)
    takes_store = "store" in inspect.signature(cls).parameters
    return cast(TrainingBackend, cls(store=store) if takes_store else cls())


__all__ = [
    "Hyperparameters",
    "TrainedModel",
    "TrainingBackend",
    "TrainingJob",
    "get_engine",
    "get_training_backend",
]
