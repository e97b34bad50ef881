"""The TrainingBackend protocol and the records that cross it."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from motools.atom._dataset import Dataset


class Hyperparameters(BaseModel):
    """Supervised fine-tuning settings every backend understands."""

    model_config = ConfigDict(extra="forbid")

    # 0 is the baseline: the untouched base model, no trainer (a point in the same sweep).
    n_epochs: int = Field(default=1, ge=0, le=10_000)
    learning_rate: float = Field(default=1e-4, gt=0, le=10)
    batch_size: int = Field(default=8, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    lora_rank: int = Field(default=8, ge=1, le=1024)
    # OpenAI's learning rate: a factor of OpenAI's default (the `openai` backend only).
    learning_rate_multiplier: float | None = Field(default=None, gt=0, le=100)

    @model_serializer(mode="wrap")
    def _omit_unset_options(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Optional fields added later are left out while unset (None): configs that do not use
        # them dump, and so hash, exactly as before they existed. Cache keys do not move.
        data: dict[str, Any] = handler(self)
        if data.get("learning_rate_multiplier") is None:
            data.pop("learning_rate_multiplier", None)
        return data


class TrainingJob(BaseModel):
    """A serializable handle on a submitted training job (stored as a training_job atom)."""

    backend: str
    job_id: str
    base_model: str
    suffix: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)


class TrainedModel(BaseModel):
    """What `wait` returns: the id to sample the model by, and optional weight files."""

    backend: str
    model_id: str
    base_model: str
    path: str | None = None
    info: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class TrainingBackend(Protocol):
    """Fine-tunes models. Submit and wait are separate so a restarted run can re-attach."""

    name: str

    def submit(
        self, dataset: Dataset, model: str, hyperparameters: Hyperparameters, suffix: str | None
    ) -> TrainingJob:
        """Start training and return at once with a handle."""
        ...

    def wait(self, job: TrainingJob) -> TrainedModel:
        """Block until the job ends; raise if it failed or was cancelled."""
        ...

    def cancel(self, job: TrainingJob) -> None:
        """Stop a running job."""
        ...
