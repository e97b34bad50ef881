"""Warm start: a training that differs from a finished one only in more epochs continues it.

The SFT loop (`_sft.py`) keeps the learning rate constant and draws the epochs' batch orders one
after another from one seeded stream, so the first k epochs of an n-epoch run are exactly a
k-epoch run. A trainer starting an n-epoch job therefore resumes from the final state (weights or
adapter and optimizer state, as `save_state` wrote them) of the longest finished run of its
*family* with fewer epochs, at that run's last step, and trains only the remaining epochs. On a
deterministic engine the model is the one a run from scratch makes, bit for bit.

A family is everything that decides what a run computes except `n_epochs`: the engine, the
dataset's content, the base model (and its weights' identity) and every other hyperparameter.
The suffix only names the model, so it is left out. The family's finished runs are listed in the
store (`warm_start/<digest>/epochs-<n>.json`, each naming a job whose folder `training/<job id>/`
holds its final state), so every node and every later run finds them, on a local or an
object store. The cache key stays the config: warm start changes how a job is computed, never
which job it is.

A job may continue a shorter run only where the engine declares that it resumes exactly
(`exact_resume = True`) and the loop's schedule does not depend on the total step count
(`_sft.depends_on_total_steps`); `refusal` checks both. Otherwise it trains from scratch, and the
backend says so once per process (`say_cold_start`).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from motools import _hashing
from motools.training._job_files import JobFiles
from motools.training._protocol import Hyperparameters
from motools.training._sft import depends_on_total_steps

log = logging.getLogger("motools")

FAMILY_TAG = "motools.warm-start-family.v1"
# In a job's folder: the family it belongs to, written at submit when it may warm-start.
FAMILY_FILE = "warm_start.json"
# The store folder of the families: `<store>/warm_start/<digest>/epochs-<n>.json`.
FAMILIES = "warm_start"
_ENTRY = re.compile(r"^epochs-([0-9]+)\.json$")

# The keys a trained model's info gets (kept in the model atom's metadata["info"]).
STEPS_TRAINED = "steps_trained"
EPOCHS_TRAINED = "epochs_trained"
CONTINUED_FROM = "continued_from"

_said: set[str] = set()
_said_lock = threading.Lock()


def family_digest(job_payload: dict[str, Any]) -> str:
    """The family of a job: the payload of its id (`motools.training-job.v1`) without the
    epochs and the suffix."""
    payload = {k: v for k, v in job_payload.items() if k != "suffix"}
    payload["hp"] = {k: v for k, v in payload["hp"].items() if k != "n_epochs"}
    return _hashing.digest(FAMILY_TAG, payload)


def refusal(engine: Any, hp: Hyperparameters) -> str | None:
    """Why a job of `engine` with `hp` must train from scratch, or None if it may warm-start."""
    if not getattr(engine, "exact_resume", False):
        return f"the {engine.name} engine does not declare that it resumes runs exactly"
    if depends_on_total_steps(hp):
        return "the learning-rate schedule depends on the run's total number of steps"
    return None


def say_cold_start(backend: str, reason: str) -> None:
    """Log, once per process and backend, that its trainings never continue a shorter run."""
    with _said_lock:
        if backend in _said:
            return
        _said.add(backend)
    log.info("%s: no warm start (%s); every training runs all its epochs from scratch",
             backend, reason)


def join_family(files: JobFiles, job_payload: dict[str, Any]) -> None:
    """Mark a job as one that may continue, and be continued by, runs of its family."""
    if not files.exists(FAMILY_FILE):
        files.write_json(FAMILY_FILE, {"family": family_digest(job_payload)})


def _family(files: JobFiles) -> JobFiles | None:
    joined = files.read_json(FAMILY_FILE)
    return JobFiles(files.store, joined["family"][:32], area=FAMILIES) if joined else None


@dataclass(frozen=True)
class Start:
    """Where a warm-started job begins: the final state of a shorter run of its family."""

    job_id: str
    n_epochs: int
    step: int
    checkpoint: str  # a local path (fetched from the store) or a remote service's path
    losses: list[float]

    def provenance(self) -> dict[str, Any]:
        """The run it continued from, as the model's info says it (`continued_from`)."""
        return {"job_id": self.job_id, "n_epochs": self.n_epochs, "step": self.step}


def find_start(files: JobFiles, n_epochs: int) -> Start | None:
    """The longest finished run of the job's family with fewer than `n_epochs` epochs, if any.

    A run whose final state is no longer in the store is passed over for the next shorter one.
    """
    family = _family(files)
    if family is None:
        return None
    found = sorted((int(m.group(1)) for name in family.names() if (m := _ENTRY.match(name))),
                   reverse=True)
    for shorter in (n for n in found if n < n_epochs):
        entry = family.read_json(f"epochs-{shorter}.json")
        if not entry:  # removed since it was listed
            continue
        source = JobFiles(files.store, entry["job_id"])
        result = source.read_json("result.json") or {}
        ref = result.get("checkpoint")
        if ref is None or ("://" not in ref and not source.exists(ref)):
            continue
        return Start(job_id=source.job_id, n_epochs=shorter, step=int(result["steps"]),
                     checkpoint=source.resolve(ref), losses=list(result["losses"]))
    return None


def record_finished(files: JobFiles, n_epochs: int) -> None:
    """List a finished job (its `result.json` written) among its family's runs."""
    if (family := _family(files)) is not None:
        family.write_json(f"epochs-{n_epochs}.json", {"job_id": files.job_id})


def trained(result: dict[str, Any], n_epochs: int) -> dict[str, Any]:
    """What a model's info says of its own training, from its job's `result.json`.

    `steps_trained` and `epochs_trained` count what this job trained itself (all of its steps and
    epochs unless it continued a shorter run, named in `continued_from`).
    """
    continued = result.get(CONTINUED_FROM)
    info: dict[str, Any] = {
        STEPS_TRAINED: int(result["steps"]) - (continued["step"] if continued else 0),
        EPOCHS_TRAINED: n_epochs - (continued["n_epochs"] if continued else 0),
    }
    if continued:
        info[CONTINUED_FROM] = continued
    return info
