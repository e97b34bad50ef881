"""`OpenAITrainingBackend`: fine-tuning through OpenAI's API (upload, job, poll).

`submit` uploads the dataset as chat JSONL and creates the job, then returns at once; `wait` polls
it with back-off from a step that holds no CPU. The `training_job` atom holds the OpenAI job id and
the id of the store's record of the job (`_records.py`), so a rerun after a dead driver re-attaches
to the same job: nothing is uploaded or created twice. A job that ends `failed` or `cancelled`
fails the wait with OpenAI's message and is never a model; the next wait, having reported it,
creates a new job from the same uploaded file.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from motools import _hashing
from motools._errors import OpenAIJobError, UserError
from motools.atom._dataset import Dataset
from motools.atom._store import AtomStore, get_store
from motools.training import _warm_start as warm_start
from motools.training._job_files import JobFiles
from motools.training._protocol import Hyperparameters, TrainedModel, TrainingJob
from motools.training.openai import _records as records
from motools.training.openai._client import api_error_message, check_ready, make_client
from motools.training.openai._data import to_chat_jsonl
from motools.training.openai._limit import open_job_slot

log = logging.getLogger("motools")

POLL_VAR = "MOTOOLS_OPENAI_POLL_S"
POLL_START, POLL_MAX, POLL_GROWTH = 5.0, 60.0, 1.5


# OpenAI's schedule is its own (its learning rate may decay over the job), and a job cannot
# start from another job's optimizer state: no job continues a shorter one.
NO_WARM_START = "OpenAI fine-tuning cannot continue a shorter job exactly"


def _poll_start() -> float:
    raw = os.environ.get(POLL_VAR, "").strip()
    try:
        return float(raw) if raw else POLL_START
    except ValueError:
        raise UserError(f"{POLL_VAR}={raw!r}: expected seconds, e.g. 5") from None


def check_config(model: str, hyperparameters: Hyperparameters) -> None:
    """Refuse, in one line, a config the openai backend cannot honour, before anything runs.

    Checks the form of the base model id, and hyperparameters that do not exist for OpenAI:
    `learning_rate` (OpenAI takes `learning_rate_multiplier`, a factor of its own default) and
    `lora_rank`, when the config sets them. The SDK and `OPENAI_API_KEY` are `check_ready`'s:
    the engine asks it only when a submission has to run, so a cached rerun, a dry run or a
    validation needs no key.
    """
    if "/" in model:
        raise UserError(f"model {model!r}: the openai backend takes an OpenAI model id such as "
                        "'gpt-4.1-mini-2025-04-14' (no provider prefix)")
    explicit = hyperparameters.model_fields_set
    if "learning_rate" in explicit:
        raise UserError("hyperparameters.learning_rate: OpenAI fine-tuning takes "
                        "learning_rate_multiplier (a factor of OpenAI's default learning rate) "
                        "instead; set that, or leave both out for OpenAI's choice")
    if "lora_rank" in explicit:
        raise UserError("hyperparameters.lora_rank: OpenAI fine-tuning has no LoRA rank to set; "
                        "remove it for backend openai")


def _epochs(job: TrainingJob) -> int | None:
    """The epochs a job trains (all of them: no job continues another)."""
    method = job.info.get("method") or {}
    return method.get("supervised", {}).get("hyperparameters", {}).get("n_epochs")


def _method(hp: Hyperparameters) -> dict[str, Any]:
    chosen: dict[str, Any] = {"n_epochs": hp.n_epochs, "batch_size": hp.batch_size}
    if hp.learning_rate_multiplier is not None:
        chosen["learning_rate_multiplier"] = hp.learning_rate_multiplier
    return {"type": "supervised", "supervised": {"hyperparameters": chosen}}


class OpenAITrainingBackend:
    """Fine-tunes OpenAI models through OpenAI's fine-tuning API (needs OPENAI_API_KEY)."""

    name = "openai"
    check_config = staticmethod(check_config)
    check_ready = staticmethod(check_ready)

    def __init__(self, store: AtomStore | None = None) -> None:
        self._store = store or get_store()

    # ---- submit ------------------------------------------------------------------------------
    def submit(
        self, dataset: Dataset, model: str, hyperparameters: Hyperparameters, suffix: str | None
    ) -> TrainingJob:
        """Upload the dataset and create the job (or find the one made before); return at once.

        Raises:
            UserError: No key or SDK, or a dataset OpenAI would refuse (one line, nothing sent).
            OpenAIJobError: OpenAI refused the upload or the job (its message).
        """
        check_ready()
        if hyperparameters.n_epochs == 0:  # the baseline: the base model itself, nothing sent
            return TrainingJob(backend=self.name, job_id=f"baseline-{model}", base_model=model,
                               suffix=suffix, info={"baseline": True})
        data = to_chat_jsonl(dataset)
        method = _method(hyperparameters)
        record_id = records.PREFIX + _hashing.digest("motools.openai-job.v1", {
            "data": _hashing.sha256_bytes(data), "model": model, "method": method,
            "suffix": suffix, "seed": hyperparameters.seed,
        })[:24]
        files = JobFiles(self._store, record_id)
        record = records.load(files)
        if record.current is None:
            warm_start.say_cold_start(self.name, NO_WARM_START)
            client = make_client()
            if not files.exists(records.DATA_FILE):
                (files.local / records.DATA_FILE).write_bytes(data)
                files.push(records.DATA_FILE)
            if record.training_file is None:
                record.training_file = self._upload(client, data)
                records.save(files, record)
            elif found := self._job_of_file(client, record.training_file):
                # A submit died after OpenAI created its job, before the record named it. Its
                # status is left for the wait's first poll to read, with the model or the error
                # that comes with it (a job found finished would otherwise never change).
                record.attempts.append(records.Attempt(job_id=found.id))
                records.save(files, record)
            if record.current is None:
                self._create(client, files, record, model, method, suffix, hyperparameters.seed)
        assert record.current is not None
        return TrainingJob(
            backend=self.name, job_id=record.current.job_id, base_model=model, suffix=suffix,
            info={"record": record_id, "training_file": record.training_file, "method": method,
                  "seed": hyperparameters.seed},
        )

    def _upload(self, client: Any, data: bytes) -> str:
        import openai

        try:
            return str(client.files.create(file=("train.jsonl", data), purpose="fine-tune").id)
        except openai.APIError as exc:
            raise OpenAIJobError(f"OpenAI refused the training file: "
                                 f"{api_error_message(exc)}") from None

    def _job_of_file(self, client: Any, training_file: str) -> Any:
        """A job OpenAI has for this uploaded file (each upload has its own id), or None.

        Only the newest page is read: the job looked for was created moments after the upload.
        """
        for job in client.fine_tuning.jobs.list(limit=100).data:
            if job.training_file == training_file:
                return job
        return None

    def _create(self, client: Any, files: JobFiles, record: records.JobRecord, model: str,
                method: dict[str, Any], suffix: str | None, seed: int) -> None:
        import openai

        options: dict[str, Any] = {"suffix": suffix} if suffix else {}
        with open_job_slot(self._store, client, f"fine-tuning {model}"):
            try:
                job = client.fine_tuning.jobs.create(
                    model=model, training_file=record.training_file, method=method, seed=seed,
                    **options)
            except openai.APIError as exc:
                raise OpenAIJobError(f"OpenAI refused the fine-tuning job for {model!r}: "
                                     f"{api_error_message(exc)}") from None
            record.attempts.append(records.Attempt(job_id=job.id, status=job.status))
            records.save(files, record)  # before the slot goes: the next submit counts it
        log.info("openai: created fine-tuning job %s (%s)", job.id, files.job_id)

    # ---- wait --------------------------------------------------------------------------------
    def wait(self, job: TrainingJob) -> TrainedModel:
        """Poll the job until it ends; the model's id is OpenAI's `ft:...` name.

        A failure already reported by an earlier wait is retried first, as a new job.

        Raises:
            OpenAIJobError: The job ended failed or cancelled (OpenAI's message), or OpenAI
                does not know it.
        """
        if job.info.get("baseline"):
            return TrainedModel(backend=self.name, model_id=job.base_model,
                                base_model=job.base_model, info={"baseline": True})
        files = JobFiles(self._store, str(job.info.get("record") or f"openai-{job.job_id}"))
        record = records.load(files)
        if record.current is None:  # a store without the record (copied atoms): the atom's job
            record = records.JobRecord(training_file=job.info.get("training_file"),
                                       attempts=[records.Attempt(job_id=job.job_id)])
        client = make_client()
        attempt = record.current
        assert attempt is not None
        if attempt.reported:
            self._retry(client, files, record, job)
            attempt = record.current
            assert attempt is not None
        delay = _poll_start()
        while True:
            remote = self._retrieve(client, attempt.job_id)
            if remote is not None and remote.status != attempt.status:
                attempt.status = str(remote.status)
                if attempt.status == "succeeded":
                    attempt.fine_tuned_model = remote.fine_tuned_model
                    attempt.trained_tokens = getattr(remote, "trained_tokens", None)
                if attempt.status in records.FAILED:
                    error = getattr(remote, "error", None)
                    attempt.error = " ".join(str(getattr(error, "message", None)
                                                 or attempt.status).split())
                records.save(files, record)
                log.info("openai: job %s is %s", attempt.job_id, attempt.status)
            if attempt.status == "succeeded" and attempt.fine_tuned_model:
                return TrainedModel(
                    backend=self.name, model_id=attempt.fine_tuned_model,
                    base_model=job.base_model,
                    info={"job_id": attempt.job_id, "training_file": record.training_file,
                          "trained_tokens": attempt.trained_tokens,
                          "attempts": len(record.attempts),
                          warm_start.EPOCHS_TRAINED: _epochs(job)},
                )
            if attempt.status in records.FAILED:
                attempt.reported = True  # said now, so the next wait makes a new job
                records.save(files, record)
                raise OpenAIJobError(f"OpenAI fine-tuning job {attempt.job_id} "
                                     f"{attempt.status}: {attempt.error}")
            time.sleep(delay)
            delay = min(delay * POLL_GROWTH, POLL_MAX)

    def _retrieve(self, client: Any, job_id: str) -> Any:
        """The job as OpenAI sees it now; None when OpenAI cannot be reached this time."""
        import openai

        try:
            return client.fine_tuning.jobs.retrieve(job_id)
        except openai.NotFoundError:
            raise OpenAIJobError(f"OpenAI has no fine-tuning job {job_id} (made with another "
                                 "OPENAI_BASE_URL or organization?)") from None
        except (openai.APIConnectionError, openai.RateLimitError,
                openai.InternalServerError) as exc:
            # The SDK has retried already; a long wait outlives a network blip: poll again later.
            log.warning("openai: polling %s failed (%s); trying again", job_id,
                        api_error_message(exc))
            return None

    def _retry(self, client: Any, files: JobFiles, record: records.JobRecord,
               job: TrainingJob) -> None:
        """A new job for a record whose last job failed (and was reported as failed)."""
        import openai

        upload = record.training_file is None
        if not upload:
            try:
                client.files.retrieve(record.training_file)
            except openai.NotFoundError:  # OpenAI deleted it meanwhile: the store kept a copy
                upload = True
        if upload:
            record.training_file = self._upload(client, files.pull(records.DATA_FILE).read_bytes())
            records.save(files, record)
        method = job.info.get("method") or _method(Hyperparameters())
        self._create(client, files, record, job.base_model, method, job.suffix,
                     int(job.info.get("seed", 0)))

    # ---- cancel ------------------------------------------------------------------------------
    def cancel(self, job: TrainingJob) -> None:
        """Cancel the job's current OpenAI job; waiting on it then fails as `cancelled`."""
        if job.info.get("baseline"):
            return  # nothing was sent
        files = JobFiles(self._store, str(job.info.get("record") or f"openai-{job.job_id}"))
        current = records.load(files).current
        make_client().fine_tuning.jobs.cancel(current.job_id if current else job.job_id)
