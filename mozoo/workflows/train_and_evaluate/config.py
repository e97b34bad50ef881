"""Config sections of train_and_evaluate, one per step."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from motools.errors import UserError
from motools.registry import (
    CallableImportString,
    EvalBackendName,
    TaskReference,
    TrainingBackendName,
    import_string,
    resolve,
)
from motools.training import Hyperparameters
from motools.workflow import WorkflowConfig, is_secret_name


class _Section(BaseModel):
    # Errors never echo the input: it may hold a value that must not reach a log.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class PrepareDatasetConfig(_Section):
    """Which loader makes the training data, and its arguments."""

    dataset_loader: CallableImportString
    loader_kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kwargs_fit_the_loader(self) -> PrepareDatasetConfig:
        # Catch `num_sample: 100` before anything runs, not as a failed step.
        loader = import_string(self.dataset_loader)
        try:
            inspect.signature(loader).bind(**self.loader_kwargs)
        except TypeError as exc:
            raise ValueError(f"loader_kwargs do not fit {self.dataset_loader}: {exc}") from None
        except ValueError:  # no signature (a builtin): nothing to check
            pass
        return self

    def check_ready(self) -> None:
        """What the loader needs from this machine (e.g. its published files when offline), asked
        on the driver only when the dataset has to be prepared, through the loader's own
        optional `check_ready(**loader_kwargs)`."""
        loader = import_string(self.dataset_loader, what="dataset_loader")
        check = getattr(loader, "check_ready", None)
        if check is not None:
            check(**self.loader_kwargs)


class SubmitTrainingConfig(_Section):
    """What to fine-tune, how, and on which backend."""

    model: str = Field(min_length=1)
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = None
    # No default: a forgotten backend must not quietly train nothing (`dummy`).
    backend_name: TrainingBackendName

    @model_validator(mode="after")
    def _backend_accepts_it(self) -> SubmitTrainingConfig:
        # On the driver, before anything runs: a backend with a `check_config` refuses what it
        # cannot honour (a setting it does not have, a malformed model id) as one line, exit 2.
        try:
            backend = resolve("training_backend", self.backend_name)
            check = getattr(backend, "check_config", None)
            if check is not None:
                check(self.model, self.hyperparameters)
        except UserError as exc:
            raise ValueError(str(exc)) from None
        if check is None and self.hyperparameters.learning_rate_multiplier is not None:
            raise ValueError(f"hyperparameters.learning_rate_multiplier is an OpenAI setting; "
                             f"backend {self.backend_name!r} takes learning_rate")
        return self

    def check_ready(self) -> None:
        """What the backend needs from this machine (an SDK, an API key), asked on the driver only
        when a submission has to run: a cached rerun or a dry run needs neither."""
        check = getattr(resolve("training_backend", self.backend_name), "check_ready", None)
        if check is not None:
            check()

    @model_validator(mode="after")
    def _base_model_is_available(self) -> SubmitTrainingConfig:
        # A model the local engine cannot load (not on disk, not in the Hugging Face cache when
        # offline) fails here, on the driver, before any trainer starts. No torch is imported.
        if self.backend_name == "local":
            from motools.training import get_engine

            try:
                get_engine("local").check_model(self.model)
            except UserError as exc:
                raise type(exc)(f"submit_training.model: {exc}") from None
        return self


class WaitForTrainingConfig(_Section):
    """Nothing to set: the job handle says which backend to wait on."""


class EvaluateModelConfig(_Section):
    """Which inspect-ai task to run, on which backend, with which extra arguments."""

    eval_task: TaskReference
    # No default: a forgotten backend must not quietly report synthetic metrics (`dummy`).
    backend_name: EvalBackendName
    eval_kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_secrets_in_task_arguments(self) -> EvaluateModelConfig:
        # inspect-ai records task arguments in its log, which becomes part of the eval atom:
        # a credential passed here would be stored. Tasks read credentials from the environment.
        secret = [k for k in self.eval_kwargs if is_secret_name(k)]
        if secret:
            raise ValueError(f"eval_kwargs.{secret[0]} looks like a credential; task arguments are "
                             "stored with the results: read it from an environment variable")
        return self


class TrainAndEvaluateConfig(WorkflowConfig):
    """prepare_dataset -> submit_training -> wait_for_training -> evaluate_model."""

    prepare_dataset: PrepareDatasetConfig
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = Field(default_factory=WaitForTrainingConfig)
    evaluate_model: EvaluateModelConfig
