"""The EvalBackend protocol and its result record."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class EvalOutput(BaseModel):
    """Metrics (task -> metric -> value), per-sample records, and log files of one evaluation."""

    backend: str
    metrics: dict[str, dict[str, Any]]
    samples: list[dict[str, Any]] = Field(default_factory=list)
    info: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class EvalBackend(Protocol):
    """Evaluates a model on a task. Writes any log files into `log_dir`."""

    name: str

    def evaluate(
        self, model: dict[str, Any], eval_task: str, eval_kwargs: dict[str, Any], log_dir: Path
    ) -> EvalOutput:
        """Run the task against the model described by a model atom's metadata."""
        ...
