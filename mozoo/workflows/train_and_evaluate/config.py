"""Config sections of train_and_evaluate, one per step."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from motools.registry import CallableImportString, EvalBackendName, TrainingBackendName
from motools.training import Hyperparameters
from motools.workflow import WorkflowConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrepareDatasetConfig(_Section):
    """Which loader makes the training data, and its arguments."""

    dataset_loader: CallableImportString
    loader_kwargs: dict[str, Any] = Field(default_factory=dict)


class SubmitTrainingConfig(_Section):
    """What to fine-tune, how, and on which backend."""

    model: str = Field(min_length=1)
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = None
    backend_name: TrainingBackendName = "dummy"


class WaitForTrainingConfig(_Section):
    """Nothing to set: the job handle says which backend to wait on."""


class EvaluateModelConfig(_Section):
    """Which inspect-ai task to run, on which backend, with which extra arguments."""

    eval_task: CallableImportString
    backend_name: EvalBackendName = "dummy"
    eval_kwargs: dict[str, Any] = Field(default_factory=dict)


class TrainAndEvaluateConfig(WorkflowConfig):
    """prepare_dataset -> submit_training -> wait_for_training -> evaluate_model."""

    prepare_dataset: PrepareDatasetConfig
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = Field(default_factory=WaitForTrainingConfig)
    evaluate_model: EvaluateModelConfig
