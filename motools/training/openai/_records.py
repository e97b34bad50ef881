"""What the store remembers of an OpenAI fine-tuning job: `<store>/training/<record id>/job.json`.

A *record* is one logical job: a dataset, base model, hyperparameters and suffix. Its id is a
digest of those, so the same job submitted twice (a rerun whose submit step was interrupted after
the job was created) finds its record instead of paying for a second job. The record lists the
*attempts*: OpenAI job ids, the last one current. A failed attempt stays listed with OpenAI's
error message; the next wait, having reported it once, makes a new attempt from the same
uploaded file. `train.jsonl` beside it is the file that was uploaded (to upload it again if
OpenAI no longer has it).

Only the submit and wait steps of one record write its file, and single flight runs at most one
of each key at a time; other processes only read it (the open-job count).
"""

from __future__ import annotations

from typing import Any

import pyarrow.fs as pafs
from pydantic import BaseModel, Field

from motools.atom._store import AtomStore
from motools.training._job_files import JobFiles

RECORD_FILE = "job.json"
DATA_FILE = "train.jsonl"
PREFIX = "openai-"
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
FAILED = frozenset({"failed", "cancelled"})


class Attempt(BaseModel):
    """One OpenAI fine-tuning job of a record."""

    job_id: str
    status: str = "validating_files"
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: str | None = None
    reported: bool = False  # a wait step has failed with this attempt's error already


class JobRecord(BaseModel):
    """A logical job: the uploaded file and every OpenAI job made from it, the last current."""

    training_file: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)

    @property
    def current(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


def load(files: JobFiles) -> JobRecord:
    return JobRecord.model_validate(files.read_json(RECORD_FILE) or {})


def save(files: JobFiles, record: JobRecord) -> None:
    files.write_json(RECORD_FILE, record.model_dump(mode="json"))


def _record_ids(store: AtomStore) -> list[str]:
    if (root := store.local_root) is not None:
        folder = root / "training"
        return sorted(p.name for p in folder.glob(f"{PREFIX}*")) if folder.is_dir() else []
    selector = pafs.FileSelector(store.location("training"), allow_not_found=True)
    return sorted(info.base_name for info in store.fs.get_file_info(selector)
                  if info.base_name.startswith(PREFIX))


def unfinished_jobs(store: AtomStore) -> dict[str, str]:
    """OpenAI job id -> record id, for every current attempt the store last saw unfinished."""
    found: dict[str, str] = {}
    for record_id in _record_ids(store):
        data: dict[str, Any] | None = JobFiles(store, record_id).read_json(RECORD_FILE)
        attempt = JobRecord.model_validate(data or {}).current
        if attempt is not None and attempt.status not in TERMINAL:
            found[attempt.job_id] = record_id
    return found
