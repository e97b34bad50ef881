"""Tests for motools.engine._ledger.Ledger on real SQLite files in tmp_path."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from motools.atom import Atom, get_store
from motools.engine import Ledger, RunOptions, RunRecord, StepRun, get_ledger
from motools.workflow import AtomConstructor, Step, Workflow, run_workflow

DATASET_ID = "dataset-" + "1" * 64
MODEL_ID = "model-" + "2" * 64


def key(i: int) -> str:
    return f"{i:064x}"


def make_run(k: str | None, status: str = "succeeded", **fields: object) -> StepRun:
    base: dict[str, object] = {
        "run_id": "run-1",
        "plan_id": "p" * 8,
        "key": k,
        "step": "train",
        "version": "1",
        "config": {"learning_rate": 0.001},
        "inputs": {"dataset": DATASET_ID},
        "outputs": {"model": MODEL_ID} if status == "succeeded" else {},
        "status": status,
        "user": "alice",
    }
    base.update(fields)
    return StepRun.model_validate(base)


def count_rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "store" / "ledger.sqlite")
    yield led
    led.close()


# --- cache ------------------------------------------------------------------------------------


def test_commit_then_lookup_many_returns_outputs(ledger: Ledger) -> None:
    ledger.commit([make_run(key(1))])
    assert ledger.lookup_many([key(1), key(2)]) == {key(1): {"model": MODEL_ID}}


def test_lookup_many_of_nothing_committed_is_empty(ledger: Ledger) -> None:
    assert ledger.lookup_many([key(1)]) == {}
    assert ledger.lookup_many([]) == {}


def test_lookup_many_with_duplicate_keys_returns_each_once(ledger: Ledger) -> None:
    ledger.commit([make_run(key(1))])
    assert ledger.lookup_many([key(1), key(1), key(1)]) == {key(1): {"model": MODEL_ID}}


def test_commit_is_idempotent(ledger: Ledger) -> None:
    run = make_run(key(1))
    ledger.commit([run])
    ledger.commit([run])
    ledger.commit([run, run])
    assert [r.id for r in ledger.step_runs_of("run-1")] == [run.id]
    assert count_rows(ledger.path, "step_runs") == 1
    assert count_rows(ledger.path, "cache") == 1
    assert ledger.lookup_many([key(1)]) == {key(1): {"model": MODEL_ID}}


def test_newer_success_for_a_key_replaces_the_cache_entry(ledger: Ledger) -> None:
    # What force_rerun asks for: the newest successful run of a key is the cached one.
    first = make_run(key(1))
    second = make_run(key(1), outputs={"model": "model-" + "9" * 64})
    ledger.commit([first])
    ledger.commit([second])
    assert ledger.lookup_many([key(1)]) == {key(1): {"model": "model-" + "9" * 64}}
    assert count_rows(ledger.path, "cache") == 1
    assert ledger.step_run(first.id) is not None


def test_failed_run_is_recorded_but_never_cached(ledger: Ledger) -> None:
    failed = make_run(key(1), status="failed", error="ValueError: boom", traceback="Traceback...")
    ledger.commit([failed])
    assert ledger.lookup_many([key(1)]) == {}
    stored = ledger.step_run(failed.id)
    assert stored is not None
    assert (stored.status, stored.error, stored.traceback) == (
        "failed", "ValueError: boom", "Traceback...")


def test_failed_run_with_outputs_is_still_not_cached(ledger: Ledger) -> None:
    failed = make_run(key(1), status="failed", outputs={"model": MODEL_ID})
    ledger.commit([failed])
    assert ledger.lookup_many([key(1)]) == {}
    assert ledger.producer_of(MODEL_ID) is None


@pytest.mark.parametrize("status", ["skipped", "cached"])
def test_skipped_and_cached_markers_are_not_cached(ledger: Ledger, status: str) -> None:
    ledger.commit([make_run(key(1), status=status, outputs={"model": MODEL_ID})])
    assert ledger.lookup_many([key(1)]) == {}


def test_commit_without_cache_records_the_run_only(ledger: Ledger) -> None:
    run = make_run(key(1))
    ledger.commit([run], cache=False)
    assert ledger.lookup_many([key(1)]) == {}
    assert ledger.step_run(run.id) is not None


def test_successful_run_without_key_is_not_cached(ledger: Ledger) -> None:
    run = make_run(None)
    ledger.commit([run])
    assert count_rows(ledger.path, "cache") == 0
    assert ledger.step_run(run.id) is not None


def test_lookup_many_with_1200_keys(ledger: Ledger) -> None:
    runs = [make_run(key(i), outputs={"model": f"model-{i:064x}"}) for i in range(1200)]
    ledger.commit(runs)
    wanted = [key(i) for i in range(1300)]
    found = ledger.lookup_many(wanted)
    assert len(found) == 1200
    assert found[key(0)] == {"model": f"model-{0:064x}"}
    assert found[key(1199)] == {"model": f"model-{1199:064x}"}
    assert key(1250) not in found


def test_forget_drops_cache_entries(ledger: Ledger) -> None:
    ledger.commit([make_run(key(i)) for i in range(3)])
    assert ledger.forget([key(0), key(2), key(5)]) == 2
    assert set(ledger.lookup_many([key(0), key(1), key(2)])) == {key(1)}


# --- durability -------------------------------------------------------------------------------


def test_commits_survive_a_fresh_ledger_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "store" / "ledger.sqlite"
    first = Ledger(path)
    run = make_run(key(1))
    first.commit([run])
    first.save_run(RunRecord(id="run-1", name="wf"))
    first.close()

    second = Ledger(path)
    try:
        assert second.lookup_many([key(1)]) == {key(1): {"model": MODEL_ID}}
        assert second.step_run(run.id) == run
        assert second.get_run("run-1") is not None
    finally:
        second.close()


def test_commits_from_another_process_are_visible(tmp_path: Path) -> None:
    path = tmp_path / "store" / "ledger.sqlite"
    parent = Ledger(path)  # open before the child writes: WAL readers see later commits
    code = textwrap.dedent(
        """
        import sys
        from motools.engine import Ledger, StepRun
        ledger = Ledger(sys.argv[1])
        ledger.commit([StepRun(id="step-child", run_id="run-child", plan_id="p", key=sys.argv[2],
                               step="train", version="1", status="succeeded",
                               outputs={"model": sys.argv[3]})])
        """
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), key(7), MODEL_ID],
        env={**os.environ, "MOTOOLS_STORE": str(tmp_path / "child-store")},
        capture_output=True, text=True, timeout=60, check=True,
    )
    try:
        assert parent.lookup_many([key(7)]) == {key(7): {"model": MODEL_ID}}
        assert parent.step_run("step-child") is not None
    finally:
        parent.close()


def test_ledger_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.sqlite"
    Ledger(path).close()
    assert path.is_file()


def test_ledger_uses_wal_journal(ledger: Ledger) -> None:
    with sqlite3.connect(ledger.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- provenance -------------------------------------------------------------------------------


def test_step_run_of_unknown_id_is_none(ledger: Ledger) -> None:
    assert ledger.step_run("step-nope") is None


def test_producer_of_is_the_first_successful_run(ledger: Ledger) -> None:
    first = make_run(key(1), started_at=1.0)
    second = make_run(key(2), started_at=2.0)
    ledger.commit([first])
    ledger.commit([second])
    producer = ledger.producer_of(MODEL_ID)
    assert producer is not None and producer.id == first.id
    assert ledger.producer_of(DATASET_ID) is None


def test_step_runs_of_a_run_are_in_start_order(ledger: Ledger) -> None:
    late = make_run(key(1), step="evaluate", started_at=20.0)
    early = make_run(key(2), step="train", started_at=10.0)
    other = make_run(key(3), run_id="run-2")
    ledger.commit([late, early, other])
    assert [r.step for r in ledger.step_runs_of("run-1")] == ["train", "evaluate"]


@dataclasses.dataclass
class PrepareConfig:
    num_samples: int = 3


@dataclasses.dataclass
class TrainConfig:
    learning_rate: float = 1e-3
    hf_token: str = "hf_SECRET_TOKEN_VALUE"


@dataclasses.dataclass
class EvalConfig:
    task: str = "hello_world"


@dataclasses.dataclass
class TrainEvalConfig:
    prepare_dataset: PrepareConfig
    train: TrainConfig
    evaluate: EvalConfig


def prepare_dataset(config, input_atoms, temp_workspace):
    path = temp_workspace / "train.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"q{i}"},
                          {"role": "assistant", "content": "Hello, World!"}]}
            for i in range(config.num_samples)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [AtomConstructor(name="dataset", path=path, type="dataset")]


def train(config, input_atoms, temp_workspace):
    n = len(input_atoms["dataset"].load())
    folder = temp_workspace / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text(f"{n} samples at lr {config.learning_rate}")
    return [AtomConstructor(name="model", path=folder, type="model",
                            metadata={"model_id": f"local/{n}"})]


def evaluate(config, input_atoms, temp_workspace):
    model_id = input_atoms["model"].get_model_id()
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {config.task: {"accuracy": 1.0}}, "model": model_id}))
    return [AtomConstructor(name="eval_results", path=path, type="eval")]


TRAIN_EVAL = Workflow(
    name="train_eval",
    input_atom_types={},
    steps=[
        Step(name="prepare_dataset", function=prepare_dataset, input_atom_types={},
             config_class=PrepareConfig, output_atom_types={"dataset": "dataset"}),
        Step(name="train", function=train, input_atom_types={"dataset": "dataset"},
             config_class=TrainConfig),
        Step(name="evaluate", function=evaluate, input_atom_types={"model": "model"},
             config_class=EvalConfig),
    ],
    config_class=TrainEvalConfig,
)


def run_train_eval(store: Path):  # type: ignore[no-untyped-def]
    cfg = TrainEvalConfig(PrepareConfig(), TrainConfig(), EvalConfig())
    result = run_workflow(TRAIN_EVAL, {}, cfg, user="alice",
                          options=RunOptions(store=store, executor="inline"))
    assert result.ok, result.failures
    return result


def test_lineage_walks_eval_to_model_to_dataset_with_configs_and_user(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run_train_eval(store)
    eval_id = result.output_atoms["eval_results"]

    lineage = get_ledger(get_store(store)).lineage(eval_id)
    assert [r.step for r in lineage] == ["evaluate", "train", "prepare_dataset"]
    assert [r.config for r in lineage] == [
        {"task": "hello_world"}, {"learning_rate": 1e-3}, {"num_samples": 3}]
    assert {r.user for r in lineage} == {"alice"}
    assert lineage[0].outputs == {"eval_results": eval_id}
    assert lineage[0].inputs == {"model": result.output_atoms["model"]}
    assert lineage[1].inputs == {"dataset": result.output_atoms["dataset"]}
    assert lineage[2].inputs == {}


def test_atoms_made_by_a_run_carry_user_and_made_from(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run_train_eval(store)
    model = Atom.load(result.output_atoms["model"], store=store)
    assert model.user == "alice"
    assert model.made_from == {"dataset": result.output_atoms["dataset"]}
    assert model.provenance.step == "train"


def test_secret_config_values_never_reach_ledger_or_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_train_eval(store)
    secret = b"hf_SECRET_TOKEN_VALUE"
    for path in store.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


def test_rebuild_from_store_restores_the_cache_index(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run_train_eval(store)
    keys = [s.cache_key for s in result.step_states]
    fresh = Ledger(tmp_path / "rebuilt.sqlite")
    try:
        assert fresh.lookup_many(keys) == {}
        assert fresh.rebuild_from_store(get_store(store).iter_step_records()) == 3
        found = fresh.lookup_many(keys)
        expected = {s.cache_key: s.output_atoms for s in result.step_states}
        assert {k: found[k] for k in keys} == expected
    finally:
        fresh.close()


# --- run records ------------------------------------------------------------------------------


def test_save_and_get_run_record(ledger: Ledger) -> None:
    run = RunRecord(name="wf", user="alice", command="motools workflow run wf")
    ledger.save_run(run)
    assert ledger.get_run(run.id) == run


def test_save_run_replaces_the_previous_record(ledger: Ledger) -> None:
    run = RunRecord(name="wf")
    ledger.save_run(run)
    run.status, run.ended_at, run.counts = "succeeded", time.time(), {"succeeded": 2}
    ledger.save_run(run)
    stored = ledger.get_run(run.id)
    assert stored is not None
    assert (stored.status, stored.counts) == ("succeeded", {"succeeded": 2})
    assert count_rows(ledger.path, "runs") == 1


def test_get_unknown_run_is_none(ledger: Ledger) -> None:
    assert ledger.get_run("run-nope") is None


def test_list_runs_is_newest_first_and_limited(ledger: Ledger) -> None:
    for i in range(5):
        ledger.save_run(RunRecord(id=f"run-{i}", name="wf", started_at=1000.0 + i))
    assert [r.id for r in ledger.list_runs()] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert [r.id for r in ledger.list_runs(limit=2)] == ["run-4", "run-3"]


def test_run_workflow_saves_a_finished_run_record(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run_train_eval(store)
    record = get_ledger(get_store(store)).get_run(result.run_id)
    assert record is not None
    assert (record.name, record.user, record.status) == ("train_eval", "alice", "succeeded")
    assert record.counts == {"succeeded": 3}
    assert record.ended_at is not None and record.ended_at >= record.started_at
