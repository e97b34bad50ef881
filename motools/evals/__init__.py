"""Eval backends: the protocol, its result record, and lookup by name."""

from typing import cast

from motools.evals._protocol import EvalBackend, EvalOutput
from motools.registry import resolve


def get_eval_backend(name: str) -> EvalBackend:
    """Instantiate the eval backend registered under `name`."""
    return cast(EvalBackend, resolve("eval_backend", name)())


__all__ = ["EvalBackend", "EvalOutput", "get_eval_backend"]
