"""Training backends over an Engine: the SFT loop runs in a detached, named Ray actor.

`submit` starts a trainer actor named after the job and returns at once; `wait` re-attaches to it by
name. The trainer writes its progress (step, last checkpoint) to the job's folder (`JobFiles`,
reachable from every node) at each checkpoint, so if it died (a killed driver took an embedded Ray with it, a node was lost) `wait` starts a new
trainer that resumes from the last checkpoint. A job that failed is never reported as a model: the
next `wait` retries it from its last checkpoint.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from typing import Any

from motools import _hashing
from motools._atomic import write_atomic
from motools.atom._dataset import Dataset
from motools.atom._store import AtomStore, get_store
from motools.engine import RAY_NAMESPACE
from motools.training import _warm_start as warm_start
from motools.training._curves import loss_curve
from motools.training._job_files import JobFiles
from motools.training._protocol import Hyperparameters, TrainedModel, TrainingJob


def get_engine(name: str) -> Any:
    """A new instance of the training engine registered under `name` (kind `training_engine`).

    Raises:
        UnknownNameError: no engine has that name; the message lists the registered ones.
    """
    from motools.registry import resolve

    return resolve("training_engine", name)()


class Trainer:
    """The trainer actor: runs the SFT loop for one job, then ends itself.

    It ends itself so that the CPU it holds goes back to Ray the moment training is over;
    waiters read the result from the job's folder, never from the actor.
    """

    def __init__(self, engine: str, base_model: str, hp: dict[str, Any], store: AtomStore,
                 job_id: str) -> None:
        self._engine, self._base_model = engine, base_model
        self._hp = Hyperparameters.model_validate(hp)
        self._files = JobFiles(store, job_id)
        self._running = threading.Lock()

    def pid(self) -> int:
        """The trainer's process id (tests check re-attachment with it)."""
        return os.getpid()

    def run(self) -> None:
        """Train to the end (resuming from the last checkpoint), record the outcome, exit."""
        import ray

        # `submit` of a job that is already training reaches this same actor: train once.
        if not self._running.acquire(blocking=False):
            return
        self._train()
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def _train(self) -> None:
        from motools.training._sft import Progress, build_datums, train

        files = self._files
        try:
            engine = get_engine(self._engine)
            progress, start, continued = Progress(), None, None
            if saved := files.read_json("progress.json"):
                progress = Progress(step=saved["step"], checkpoint=files.resolve(saved["checkpoint"]),
                                    losses=saved["losses"])
                continued = saved.get(warm_start.CONTINUED_FROM)
            elif start := warm_start.find_start(files, self._hp.n_epochs):
                progress = Progress(step=start.step, checkpoint=start.checkpoint,
                                    losses=start.losses)
            dataset = Dataset.from_parquet(str(files.pull("dataset.parquet")))
            datums = build_datums(list(dataset), engine.renderer(self._base_model))
            try:
                client = engine.training_client(
                    self._base_model, self._hp, files.local, progress.checkpoint
                )
            except Exception as exc:
                if start is None:
                    raise
                # The shorter run's state is gone from the service (expired): train it all.
                warm_start.log.warning("%s: cannot continue %s (%s: %s); training from scratch",
                                       files.job_id, start.job_id, type(exc).__name__, exc)
                progress, start = Progress(), None
                client = engine.training_client(self._base_model, self._hp, files.local, None)
            if start is not None:
                continued = start.provenance()

            saved_checkpoint = progress.checkpoint

            def save(p: Progress) -> None:
                # Only at a new checkpoint, with the step and losses as of that checkpoint: a
                # resume must restart exactly where its weights were saved.
                nonlocal saved_checkpoint
                if p.checkpoint is not None and p.checkpoint != saved_checkpoint:
                    saved_checkpoint = p.checkpoint
                    checkpoint = files.keep(p.checkpoint)  # mirrored before the progress naming it
                    files.write_json("progress.json", {
                        "step": p.step, "checkpoint": checkpoint, "losses": list(p.losses),
                        "pid": os.getpid(), warm_start.CONTINUED_FROM: continued})

            weights, progress = train(client, datums, self._hp, progress=progress, on_step=save,
                                      name=files.job_id)
            weights = files.keep(weights)
            files.write_json("result.json", {
                "weights_path": weights, "steps": progress.step, "losses": progress.losses,
                "pid": os.getpid(), warm_start.CONTINUED_FROM: continued,
                # The final state: a longer run of the family continues from it.
                "checkpoint": files.keep(progress.checkpoint) if progress.checkpoint else None,
            })
            warm_start.record_finished(files, self._hp.n_epochs)
        except Exception as exc:  # recorded for the waiter; the next wait retries the job
            files.write_json("failed.json", {
                "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
            })


def _gpus_of_this_task() -> float:
    """GPUs Ray gave the task this runs in (a step with `num_gpus`); 0 outside Ray."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return 0
    try:
        assigned = ray.get_runtime_context().get_assigned_resources()
    except AssertionError:  # Ray's way of saying "not in a task" (the inline executor, a driver)
        return 0
    return float(assigned.get("GPU", 0))


class EngineTrainingBackend:
    """A TrainingBackend that trains with an Engine inside a detached trainer actor."""

    engine_name = "local"

    def __init__(self, store: AtomStore | None = None) -> None:
        self.name = self.engine_name
        self._store = store or get_store()

    def _actor_name(self, job_id: str) -> str:
        return f"trainer-{job_id}"

    def _start(self, job: TrainingJob) -> Any:
        import ray

        from motools.engine import ensure_ray

        ensure_ray()
        # The local engine trains here, on a CPU or on the GPUs its submitting step was given;
        # Tinker trains remotely, holding none.
        cpus = 1 if self.engine_name == "local" else 0
        gpus = (JobFiles(self._store, job.job_id).read_json("trainer.json") or {}).get("gpus", 0)
        # Not secrets: which service factory and threads the trainer uses. The API key reaches
        # the trainer through the cluster's own environment, never through actor options.
        forwarded = {k: os.environ[k] for k in ("MOTOOLS_TINKER_SERVICE_FACTORY",
                                                 "MOTOOLS_TORCH_THREADS") if k in os.environ}
        options = {"runtime_env": {"env_vars": forwarded}} if forwarded else {}
        return (
            ray.remote(Trainer)
            .options(name=self._actor_name(job.job_id), namespace=RAY_NAMESPACE, lifetime="detached",
                     get_if_exists=True, num_cpus=cpus, num_gpus=gpus, max_concurrency=2,
                     max_restarts=0,
                     **options)
            .remote(self.engine_name, job.base_model, job.info["hyperparameters"], self._store,
                    job.job_id)
        )

    def submit(
        self, dataset: Dataset, model: str, hyperparameters: Hyperparameters, suffix: str | None
    ) -> TrainingJob:
        """Start training in a trainer actor and return its handle at once."""
        engine = get_engine(self.engine_name)
        engine.check_ready()
        engine.renderer(model)  # an unsupported model fails here, before anything starts
        # A pretrained base model's weights (digest or hub revision) are part of the job: two
        # base models that differ under one name never share a job, nor the atoms made from it.
        identity = engine.base_identity(model) if hasattr(engine, "base_identity") else None
        payload = {"engine": self.engine_name, "data": dataset.content_digest(), "model": model,
                   "hp": hyperparameters.model_dump(), "suffix": suffix}
        info: dict[str, Any] = {"hyperparameters": hyperparameters.model_dump()}
        if identity is not None:  # absent otherwise, so existing job ids stay what they were
            payload["base"] = info["base"] = identity
        digest = _hashing.digest("motools.training-job.v1", payload)
        job_id = f"{self.engine_name}-{digest[:24]}"
        if hyperparameters.n_epochs == 0:
            # The baseline: the untouched base model, no data, no trainer.
            return TrainingJob(backend=self.engine_name, job_id=job_id, base_model=model,
                               suffix=suffix, info={**info, "baseline": True})
        files = JobFiles(self._store, job_id)
        if not files.exists("dataset.parquet"):
            write_atomic(files.local / "dataset.parquet", dataset.to_parquet_bytes())
            files.push("dataset.parquet")
        if self.engine_name == "local" and (gpus := _gpus_of_this_task()):
            # Kept beside the job, not in it: resources never change what a job computes, and
            # a trainer resumed from a step without GPUs must still get them.
            files.write_json("trainer.json", {"gpus": gpus})
        job = TrainingJob(
            backend=self.engine_name, job_id=job_id, base_model=model, suffix=suffix, info=info
        )
        if not files.exists("result.json"):
            if reason := warm_start.refusal(engine, hyperparameters):
                warm_start.say_cold_start(self.engine_name, reason)
            else:
                warm_start.join_family(files, payload)
            self._start(job).run.remote()
        return job

    def wait(self, job: TrainingJob) -> TrainedModel:
        """Wait for the job's trainer (re-attached by name, or resumed from its checkpoint)."""
        import ray

        base = {"base": job.info["base"]} if "base" in job.info else {}
        if job.info.get("baseline"):  # n_epochs 0: the base model, sampled by its name
            return TrainedModel(
                backend=self.engine_name, model_id=f"{self.engine_name}/{job.base_model}",
                base_model=job.base_model, path=None,
                info={"weights_path": job.base_model, "steps": 0, "baseline": True, **base,
                      **warm_start.trained({"steps": 0}, 0)})
        files = JobFiles(self._store, job.job_id)
        if files.exists("failed.json") and not files.exists("result.json"):
            # A failed job is never a model; waiting again retries it from its last checkpoint.
            self._kill(job)
            files.remove("failed.json")
        while (result := files.read_json("result.json")) is None:
            if failed := files.read_json("failed.json"):
                raise RuntimeError(failed["error"])
            try:
                ray.get_actor(self._actor_name(job.job_id), namespace=RAY_NAMESPACE)
            except ValueError:  # no trainer alive: it died (or never ran here); resume
                if not files.exists("result.json") and not files.exists("failed.json"):
                    self._start(job).run.remote()
            time.sleep(0.5)
        suffix = f":{job.suffix}" if job.suffix else ""
        return TrainedModel(
            backend=self.engine_name,
            model_id=f"{self.engine_name}/{job.base_model}{suffix}/{job.job_id}",
            base_model=job.base_model,
            # Local weights are files: they become the model atom. Tinker weights stay remote.
            path=files.resolve(result["weights_path"]) if self.engine_name == "local" else None,
            info={"weights_path": result["weights_path"], "steps": result["steps"], **base,
                  **warm_start.trained(result, job.info["hyperparameters"]["n_epochs"]),
                  # The loss per step and per epoch, and the final train loss (issue #14).
                  **loss_curve(result.get("losses") or [],
                               job.info["hyperparameters"]["n_epochs"])},
        )

    def _kill(self, job: TrainingJob) -> None:
        import ray

        try:
            ray.kill(ray.get_actor(self._actor_name(job.job_id), namespace=RAY_NAMESPACE))
        except ValueError:
            pass

    def cancel(self, job: TrainingJob) -> None:
        """Stop the trainer; the job counts as failed until it is waited on again."""
        self._kill(job)
        JobFiles(self._store, job.job_id).write_json("failed.json", {"error": "cancelled"})


class LocalTrainingBackend(EngineTrainingBackend):
    """Trains a small model from scratch with PyTorch on this machine (offline)."""

    engine_name = "local"


class TinkerTrainingBackend(EngineTrainingBackend):
    """Fine-tunes with LoRA on the Tinker service (needs TINKER_API_KEY)."""

    engine_name = "tinker"
