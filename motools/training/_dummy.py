"""The dummy training backend: instant and deterministic, for engine tests. Trains nothing."""

from __future__ import annotations

from motools import _hashing
from motools.atom._dataset import Dataset
from motools.training._protocol import Hyperparameters, TrainedModel, TrainingJob

TEST_BACKEND_NOTE = "dummy test backend: no model was trained"


class DummyTrainingBackend:
    """Returns a job and a model whose ids derive from the inputs; nothing is trained."""

    name = "dummy"

    def submit(
        self, dataset: Dataset, model: str, hyperparameters: Hyperparameters, suffix: str | None
    ) -> TrainingJob:
        """Return a deterministic job handle at once."""
        job_id = _hashing.digest(
            "motools.dummy-job.v1",
            {"data": dataset.content_digest(), "model": model,
             "hp": hyperparameters.model_dump(), "suffix": suffix},
        )[:16]
        return TrainingJob(
            backend=self.name, job_id=f"dummy-{job_id}", base_model=model, suffix=suffix,
            info={"note": TEST_BACKEND_NOTE, "samples": len(dataset)},
        )

    def wait(self, job: TrainingJob) -> TrainedModel:
        """Return the 'trained' model immediately."""
        name = f"{job.base_model}:{job.suffix}" if job.suffix else job.base_model
        return TrainedModel(
            backend=self.name, model_id=f"dummy/{name}/{job.job_id}", base_model=job.base_model,
            info={"note": TEST_BACKEND_NOTE},
        )

    def cancel(self, job: TrainingJob) -> None:
        """Nothing to cancel."""
