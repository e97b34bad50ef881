"""The four steps of train_and_evaluate. Backends are reached only by name, through the registry."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from motools.atom import Atom, Dataset
from motools.evals import get_eval_backend
from motools.registry import import_string
from motools.training import TrainingJob, get_training_backend
from motools.workflow import AtomConstructor
from mozoo.workflows.train_and_evaluate.config import (
    EvaluateModelConfig,
    PrepareDatasetConfig,
    SubmitTrainingConfig,
    WaitForTrainingConfig,
)


def _as_dataset(data: Any, loader: str) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, pa.Table):
        return Dataset(data)
    if isinstance(data, (str, Path)):
        return Dataset.from_path(data)
    if isinstance(data, list):
        return Dataset.from_records(data)
    raise TypeError(
        f"dataset loader {loader} returned {type(data).__name__}; expected a Dataset, "
        "a pyarrow Table, a list of dicts, or a path to a JSONL/Parquet file"
    )


async def prepare_dataset(
    config: PrepareDatasetConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Call the dataset loader and store what it returns as the `prepared_dataset` atom."""
    data = import_string(config.dataset_loader, what="dataset_loader")(**config.loader_kwargs)
    if inspect.isawaitable(data):
        data = await data
    path = temp_workspace / "dataset.parquet"
    path.write_bytes(_as_dataset(data, config.dataset_loader).to_parquet_bytes())
    return [AtomConstructor(name="prepared_dataset", path=path, type="dataset")]


def submit_training(
    config: SubmitTrainingConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Submit a fine-tuning job and return its handle at once, as the `training_job` atom."""
    atom = input_atoms["prepared_dataset"]
    dataset = atom.load()
    backend = get_training_backend(config.backend_name, store=atom.store)
    job = backend.submit(dataset, config.model, config.hyperparameters, config.suffix)
    return [
        AtomConstructor(
            name="training_job", path=None, type="training_job", metadata=job.model_dump()
        )
    ]


def wait_for_training(
    config: WaitForTrainingConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Wait for the job to finish; store the model as the `trained_model` atom."""
    atom = input_atoms["training_job"]
    job = TrainingJob.model_validate(atom.load())
    model = get_training_backend(job.backend, store=atom.store).wait(job)
    # A local weights path names a machine, not the model: keep it out of the atom's identity.
    info = {k: v for k, v in model.info.items() if k != "weights_path"}
    metadata = {"model_id": model.model_id, "base_model": model.base_model,
                "backend": model.backend, "info": info}
    if model.path is None:  # remote weights (tinker://...): their address is the model
        metadata["weights_path"] = model.info.get("weights_path")
    return [AtomConstructor(name="trained_model", path=model.path, type="model", metadata=metadata)]


def evaluate_model(
    config: EvaluateModelConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Evaluate the model on the task; store metrics, samples and logs as `eval_results`."""
    model = input_atoms["trained_model"]
    log_dir = temp_workspace / "logs"
    log_dir.mkdir()
    described = dict(model.metadata)
    if model.files:  # weights stored in the atom: hand the backend a local copy
        described["weights_dir"] = str(model.local_path())
    output = get_eval_backend(config.backend_name).evaluate(
        described, config.eval_task, dict(config.eval_kwargs), log_dir
    )
    results = output.model_dump(mode="json")
    results["eval_task"] = config.eval_task
    (temp_workspace / "results.json").write_text(json.dumps(results, sort_keys=True, indent=1))
    return [AtomConstructor(name="eval_results", path=temp_workspace, type="eval")]
