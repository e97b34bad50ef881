"""Warm start's bookkeeping: families, the capability check, and finding the run to continue.

The trainings themselves (bitwise equality through the real engines) are in
tests/integration/test_warm_start_training.py.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from s3_server import BUCKET, s3_env

from motools.atom import AtomStore, get_store
from motools.training import _warm_start as warm_start
from motools.training._job_files import JobFiles
from motools.training._protocol import Hyperparameters
from motools.training.local import LocalEngine
from motools.training.tinker import TinkerEngine


def payload(**changes: Any) -> dict[str, Any]:
    """A job's id payload (as `EngineTrainingBackend.submit` makes it)."""
    hp = {"n_epochs": 1, "learning_rate": 1e-3, "batch_size": 8, "seed": 0, "lora_rank": 8,
          **changes.pop("hp", {})}
    return {"engine": "local", "data": "d" * 64, "model": "local/tiny-byte-lm", "hp": hp,
            "suffix": None, **changes}


# ---- families


def test_the_family_digest_matches_its_golden_value() -> None:
    # Computed once: a change moves every family, and no run continues one made before it.
    assert warm_start.family_digest(payload()) == (
        "e2f8120d29549b2701b055c7d0008d771fbff025cc21d343a233722c736e5231")


def test_runs_that_differ_only_in_epochs_or_suffix_are_one_family() -> None:
    family = warm_start.family_digest(payload())
    assert warm_start.family_digest(payload(hp={"n_epochs": 9})) == family
    assert warm_start.family_digest(payload(suffix="named")) == family


@pytest.mark.parametrize("changes", [
    {"hp": {"learning_rate": 3e-3}}, {"hp": {"seed": 1}}, {"hp": {"batch_size": 4}},
    {"hp": {"lora_rank": 4}}, {"data": "e" * 64}, {"model": "other"}, {"engine": "tinker"},
    {"base": {"name": "m", "sha256": "ab" * 32}},
])
def test_any_other_difference_makes_another_family(changes: dict[str, Any]) -> None:
    assert warm_start.family_digest(payload(**changes)) != warm_start.family_digest(payload())


# ---- who may warm-start


def test_the_local_and_tinker_engines_may_warm_start() -> None:
    assert warm_start.refusal(LocalEngine(), Hyperparameters()) is None
    assert warm_start.refusal(TinkerEngine(), Hyperparameters()) is None


def test_an_engine_that_does_not_declare_an_exact_resume_never_warm_starts() -> None:
    class Engine:
        name = "mine"

    assert warm_start.refusal(Engine(), Hyperparameters()) == (
        "the mine engine does not declare that it resumes runs exactly")


def test_a_schedule_that_depends_on_the_total_steps_never_warm_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_start, "depends_on_total_steps", lambda hp: True)
    reason = warm_start.refusal(LocalEngine(), Hyperparameters())
    assert reason == "the learning-rate schedule depends on the run's total number of steps"


def test_a_cold_start_is_said_once_per_backend(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(warm_start, "_said", set())
    with caplog.at_level(logging.INFO, logger="motools"):
        for _ in range(3):
            warm_start.say_cold_start("openai", "a reason")
        warm_start.say_cold_start("other", "a reason")
    lines = [r.getMessage() for r in caplog.records if "no warm start" in r.getMessage()]
    assert lines == [
        "openai: no warm start (a reason); every training runs all its epochs from scratch",
        "other: no warm start (a reason); every training runs all its epochs from scratch"]


# ---- finding the run to continue


def finished(store: AtomStore, n_epochs: int, steps_per_epoch: int = 3,
             family_payload: dict[str, Any] | None = None) -> JobFiles:
    """A finished job of the family with its final state in its folder, listed in the family."""
    files = JobFiles(store, f"local-{n_epochs}-epochs")
    warm_start.join_family(files, family_payload or payload(hp={"n_epochs": n_epochs}))
    steps = n_epochs * steps_per_epoch
    (files.local / "checkpoints").mkdir(exist_ok=True)
    (files.local / "checkpoints" / "final.pt").write_bytes(b"state")
    files.write_json("result.json", {
        "steps": steps, "losses": [float(i) for i in range(steps)],
        "checkpoint": files.keep(str(files.local / "checkpoints" / "final.pt"))})
    warm_start.record_finished(files, n_epochs)
    return files


def new_job(store: AtomStore, n_epochs: int) -> JobFiles:
    files = JobFiles(store, f"local-new-{n_epochs}")
    warm_start.join_family(files, payload(hp={"n_epochs": n_epochs}))
    return files


def test_a_job_continues_the_longest_shorter_finished_run_of_its_family(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    for n in (1, 2, 5):
        finished(store, n)
    start = warm_start.find_start(new_job(store, 4), 4)
    assert start is not None
    assert start.provenance() == {"job_id": "local-2-epochs", "n_epochs": 2, "step": 6}
    assert start.losses == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert Path(start.checkpoint).read_bytes() == b"state"
    assert warm_start.find_start(new_job(store, 2), 2).n_epochs == 1  # type: ignore[union-attr]
    assert warm_start.find_start(new_job(store, 1), 1) is None


def test_a_run_of_another_family_is_never_continued(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    finished(store, 1, family_payload=payload(hp={"n_epochs": 1, "seed": 7}))
    assert warm_start.find_start(new_job(store, 3), 3) is None


def test_a_job_that_did_not_join_a_family_never_warm_starts(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    finished(store, 1)
    assert warm_start.find_start(JobFiles(store, "local-refused"), 3) is None


def test_a_run_whose_final_state_is_gone_is_passed_over(tmp_path: Path) -> None:
    store = get_store(tmp_path / "store")
    finished(store, 1)
    (finished(store, 2).local / "checkpoints" / "final.pt").unlink()
    start = warm_start.find_start(new_job(store, 3), 3)
    assert start is not None and start.n_epochs == 1


def test_on_an_object_store_a_run_finished_on_one_node_is_continued_on_another(
        s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3_env(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    store = AtomStore(f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("MOTOOLS_CACHE_DIR", str(tmp_path / "node-a"))
    finished(store, 1)
    monkeypatch.setenv("MOTOOLS_CACHE_DIR", str(tmp_path / "node-b"))
    start = warm_start.find_start(new_job(store, 2), 2)
    assert start is not None and start.job_id == "local-1-epochs"
    assert Path(start.checkpoint).is_relative_to(tmp_path / "node-b")  # fetched from the bucket
    assert Path(start.checkpoint).read_bytes() == b"state"


# ---- what a model says of its training


def test_a_model_from_scratch_trained_all_its_steps_and_epochs() -> None:
    assert warm_start.trained({"steps": 12}, 4) == {"steps_trained": 12, "epochs_trained": 4}


def test_a_warm_started_model_counts_only_what_it_trained_and_names_its_start() -> None:
    continued = {"job_id": "local-abc", "n_epochs": 1, "step": 3}
    assert warm_start.trained({"steps": 12, "continued_from": continued}, 4) == {
        "steps_trained": 9, "epochs_trained": 3, "continued_from": continued}
