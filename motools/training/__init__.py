"""Training backends: the protocol, its records, and lookup by name.

Backends are registered by name (`motools.registry`, kind `training_backend`); `get_training_backend`
imports one only when it is used.
"""

from typing import cast

from motools.registry import resolve
from motools.training._protocol import Hyperparameters, TrainedModel, TrainingBackend, TrainingJob


def get_training_backend(name: str) -> TrainingBackend:
    """Instantiate the training backend registered under `name`."""
    return cast(TrainingBackend, resolve("training_backend", name)())


__all__ = ["Hyperparameters", "TrainedModel", "TrainingBackend", "TrainingJob", "get_training_backend"]
