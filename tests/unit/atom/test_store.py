"""Tests for the content-addressed AtomStore and the Atom API over it (real files in tmp_path)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from module_loading import load_module

from motools._errors import (
    AtomNotFoundError,
    CorruptAtomError,
    InvalidAtomIdError,
    UserError,
)
from motools.atom import (
    Atom,
    AtomStore,
    Dataset,
    DatasetAtom,
    EvalAtom,
    EvalResults,
    ModelAtom,
    TaskAtom,
    TrainingJobAtom,
    get_store,
)
from motools.atom._store import compute_atom_id
from motools.engine import RunOptions

ID_RE = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-f]{64}$")


def chat(user: str, assistant: str, **extra: object) -> dict:
    return {
        "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
        **extra,
    }


RECORDS = [chat("hi", "Hello, World!", id=1), chat("2+2?", "4", id=2), chat("ünï", "日本", id=3)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file())




# --- ids --------------------------------------------------------------------------------------


def test_dataset_atom_id_is_type_dash_64_hex(tmp_path: Path) -> None:
    atom = DatasetAtom.from_records(RECORDS, store=tmp_path / "store")
    assert ID_RE.match(atom.id)
    assert atom.id.startswith("dataset-")
    assert len(atom.id.split("-", 1)[1]) == 64


def test_model_atom_id_is_type_dash_64_hex(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"\x00\x01")
    atom = Atom.create(type="model", path=tmp_path / "w.bin", store=tmp_path / "store")
    assert re.fullmatch(r"model-[0-9a-f]{64}", atom.id)


def test_atom_id_matches_compute_atom_id_of_its_record(tmp_path: Path) -> None:
    atom = DatasetAtom.from_records(RECORDS, store=tmp_path / "store")
    record = atom.store.get_atom_record(atom.id)
    assert atom.id == compute_atom_id(record.type, record.content_digest, record.metadata)


def test_same_records_give_same_dataset_atom_id_in_a_subprocess(tmp_path: Path) -> None:
    here = DatasetAtom.from_records(RECORDS, store=tmp_path / "store-a")
    other_store = tmp_path / "store-b"
    code = textwrap.dedent(
        """
        import json, sys
        from motools.atom import DatasetAtom
        print(DatasetAtom.from_records(json.loads(sys.argv[1])).id)
        """
    )
    env = {**os.environ, "MOTOOLS_STORE": str(other_store), "PYTHONHASHSEED": "12345"}
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(RECORDS)],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    there = proc.stdout.strip()
    assert there == here.id
    # The subprocess really wrote to its own store, not ours.
    assert (other_store / "atoms" / f"{there}.json").is_file()


def test_jsonl_parquet_and_folder_forms_give_the_same_dataset_atom(tmp_path: Path) -> None:
    store = tmp_path / "store"
    jsonl = write_jsonl(tmp_path / "data.jsonl", RECORDS)
    parquet = tmp_path / "data.parquet"
    pq.write_table(Dataset.from_records(RECORDS).to_arrow(), parquet)
    folder = tmp_path / "parts"
    folder.mkdir()
    write_jsonl(folder / "part-0.jsonl", RECORDS[:2])
    write_jsonl(folder / "part-1.jsonl", RECORDS[2:])

    ids = {
        Atom.create(type="dataset", path=jsonl, store=store).id,
        Atom.create(type="dataset", path=parquet, store=store).id,
        Atom.create(type="dataset", path=folder, store=store).id,
        DatasetAtom.from_records(RECORDS, store=store).id,
    }
    assert len(ids) == 1


def test_equal_records_with_different_key_order_are_one_dataset_atom(tmp_path: Path) -> None:
    # JSON objects are unordered: a tool that writes {"id", "messages"} instead of
    # {"messages", "id"} wrote the same records, and Dataset equality already says so.
    store = tmp_path / "store"
    reordered = [{"id": r["id"], "messages": r["messages"]} for r in RECORDS]
    assert Dataset.from_records(reordered) == Dataset.from_records(RECORDS)
    a = DatasetAtom.from_records(RECORDS, store=store)
    b = Atom.create(type="dataset", path=write_jsonl(tmp_path / "r.jsonl", reordered), store=store)
    assert a.id == b.id


def test_different_records_give_different_dataset_atoms(tmp_path: Path) -> None:
    store = tmp_path / "store"
    a = DatasetAtom.from_records(RECORDS, store=store)
    b = DatasetAtom.from_records(RECORDS[:2], store=store)
    assert a.id != b.id


def test_metadata_is_part_of_the_atom_id(tmp_path: Path) -> None:
    store = tmp_path / "store"
    a = DatasetAtom.from_records(RECORDS, store=store, metadata={"split": "train"})
    b = DatasetAtom.from_records(RECORDS, store=store, metadata={"split": "test"})
    assert a.id != b.id


def test_user_is_provenance_not_part_of_the_atom_id(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = DatasetAtom.from_records(RECORDS, user="alice", store=store)
    second = DatasetAtom.from_records(RECORDS, user="bob", store=store)
    assert first.id == second.id
    # The first producer's provenance wins.
    assert Atom.load(second.id, store=store).user == "alice"


# --- integrity --------------------------------------------------------------------------------


def test_tampered_blob_raises_corrupt_atom_error_on_load(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    sha = atom.files["data.parquet"].sha256
    blob = root / "blobs" / sha[:2] / sha
    assert blob.is_file()
    blob.write_bytes(Dataset.from_records(RECORDS[:1]).to_parquet_bytes())
    with pytest.raises(CorruptAtomError, match=sha):
        Atom.load(atom.id, store=root).load()


def test_tampered_model_blob_raises_corrupt_atom_error_on_local_path(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "w.bin").write_bytes(b"real weights")
    atom = Atom.create(type="model", path=tmp_path / "w.bin", store=root)
    sha = atom.files["w.bin"].sha256
    (root / "blobs" / sha[:2] / sha).write_bytes(b"evil weights")
    with pytest.raises(CorruptAtomError):
        Atom.load(atom.id, store=root).local_path()
    assert not (root / "materialized" / atom.id).exists()


def test_missing_blob_raises_corrupt_atom_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    sha = atom.files["data.parquet"].sha256
    (root / "blobs" / sha[:2] / sha).unlink()
    with pytest.raises(CorruptAtomError, match="missing"):
        Atom.load(atom.id, store=root).load()


def test_tampered_atom_record_metadata_raises_corrupt_atom_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root, metadata={"split": "train"})
    record_path = root / "atoms" / f"{atom.id}.json"
    data = json.loads(record_path.read_text())
    data["metadata"]["split"] = "test"
    record_path.write_text(json.dumps(data))
    with pytest.raises(CorruptAtomError):
        Atom.load(atom.id, store=root)


def test_unreadable_atom_record_raises_corrupt_atom_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    (root / "atoms" / f"{atom.id}.json").write_text("{not json")
    with pytest.raises(CorruptAtomError):
        Atom.load(atom.id, store=root)


def test_record_copied_under_another_id_raises_corrupt_atom_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    fake_id = "dataset-" + "0" * 64
    (root / "atoms" / f"{atom.id}.json").rename(root / "atoms" / f"{fake_id}.json")
    with pytest.raises(CorruptAtomError):
        Atom.load(fake_id, store=root)


# --- id validation ----------------------------------------------------------------------------

BAD_IDS = [
    "../../etc/passwd",
    "dataset-../../x",
    "dataset-" + "A" * 64,
    "dataset-" + "ab" * 16,
    "dataset-" + "a" * 65,
    "Dataset-" + "a" * 64,
    "data/set-" + "a" * 64,
    "/abs/dataset-" + "a" * 64,
    "dataset-" + "a" * 63 + "/",
    "",
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_malformed_ids_are_rejected_before_any_file_access(tmp_path: Path, bad_id: str) -> None:
    root = tmp_path / "store"
    with pytest.raises(InvalidAtomIdError) as info:
        Atom.load(bad_id, store=root)
    assert isinstance(info.value, UserError)
    assert "\n" not in str(info.value)
    assert not root.exists()


@pytest.mark.parametrize("bad_id", BAD_IDS[:4])
def test_typed_load_rejects_malformed_ids(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(InvalidAtomIdError):
        DatasetAtom.load(bad_id, store=tmp_path / "store")


def test_id_with_trailing_newline_is_rejected(tmp_path: Path) -> None:
    # `$` in a Python regex also matches before a final newline; an id must match exactly.
    with pytest.raises(InvalidAtomIdError):
        Atom.load("dataset-" + "a" * 64 + "\n", store=tmp_path / "store")


def test_non_string_id_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidAtomIdError):
        Atom.load(12345, store=tmp_path / "store")  # type: ignore[arg-type]


def test_unknown_well_formed_id_raises_atom_not_found(tmp_path: Path) -> None:
    root = tmp_path / "store"
    DatasetAtom.from_records(RECORDS, store=root)
    missing = "dataset-" + "f" * 64
    with pytest.raises(AtomNotFoundError, match=missing) as info:
        Atom.load(missing, store=root)
    assert isinstance(info.value, UserError)


# --- blobs and atomic writes ------------------------------------------------------------------


def test_two_atoms_sharing_a_file_store_one_blob(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "w.bin").write_bytes(b"shared weights" * 100)
    a = Atom.create(type="model", path=tmp_path / "w.bin", metadata={"run": 1}, store=root)
    b = Atom.create(type="model", path=tmp_path / "w.bin", metadata={"run": 2}, store=root)
    assert a.id != b.id
    assert len(blob_files(root)) == 1


def test_two_folders_sharing_one_file_store_it_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    for name, cfg in (("m1", b"{1}"), ("m2", b"{2}")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "weights.bin").write_bytes(b"same weights")
        (tmp_path / name / "config.json").write_bytes(cfg)
    Atom.create(type="model", path=tmp_path / "m1", store=root)
    Atom.create(type="model", path=tmp_path / "m2", store=root)
    assert len(blob_files(root)) == 3


def test_creating_identical_content_twice_returns_the_same_atom(tmp_path: Path) -> None:
    root = tmp_path / "store"
    a = DatasetAtom.from_records(RECORDS, store=root)
    b = DatasetAtom.from_records(RECORDS, store=root)
    assert a == b
    assert len(list((root / "atoms").iterdir())) == 1
    assert len(blob_files(root)) == 1


def test_writes_leave_no_files_in_tmp(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.txt").write_text("a")
    (tmp_path / "m" / "b.txt").write_text("b")
    DatasetAtom.from_records(RECORDS, store=root)
    Atom.create(type="model", path=tmp_path / "m", store=root)
    get_store(root).put_step_record("a" * 64, {"status": "succeeded"})
    own = root / "tmp" / f"{socket.gethostname()}-{os.getpid()}"
    assert list((root / "tmp").iterdir()) == [own]
    assert list(own.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_of_a_dead_process_are_removed_once_idle_for_an_hour(
    tmp_path: Path,
) -> None:
    """A writer killed between its write and its rename leaves a `.part` file behind; the next
    process to write to the store removes it, but only when nothing touched it for an hour (a
    shared store may be written by another machine with the same hostname)."""
    root = tmp_path / "store"
    host = socket.gethostname()
    stale, recent = root / "tmp" / f"{host}-{_dead_pid()}", root / "tmp" / f"{host}-{_dead_pid()}"
    for folder in (stale, recent):
        folder.mkdir(parents=True)
        (folder / "x.part").write_bytes(b"half a record")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    AtomStore(root).put_step_record("a" * 64, {"status": "succeeded"})
    assert not stale.exists()
    assert (recent / "x.part").exists()


# --- crash between the store writes and the Ledger commit -------------------------------------

CRASH_STEPS = '''
import dataclasses
import json
import os
import signal
import socket

from motools.workflow import AtomConstructor, Step, Workflow


@dataclasses.dataclass
class MakeConfig:
    n: int = 3


@dataclasses.dataclass
class CountConfig:
    label: str = "rows"


@dataclasses.dataclass
class PipelineConfig:
    make: MakeConfig
    count: CountConfig


def make(config, input_atoms, temp_workspace):
    with open(os.environ["CALLS_FILE"], "a") as f:
        f.write("make\\n")
    path = temp_workspace / "data.jsonl"
    path.write_text("".join(json.dumps({"n": i}) + "\\n" for i in range(config.n)))
    return [AtomConstructor(name="data", path=path, type="dataset")]


def count(config, input_atoms, temp_workspace):
    with open(os.environ["CALLS_FILE"], "a") as f:
        f.write("count\\n")
    if os.environ.get("KILL_IN_COUNT") == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    n = len(input_atoms["data"].load())
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {config.label: {"n": n}}}))
    return [AtomConstructor(name="counts", path=path, type="eval")]


workflow = Workflow(
    name="crashy",
    input_atom_types={},
    steps=[
        Step(name="make", function=make, input_atom_types={}, config_class=MakeConfig,
             output_atom_types={"data": "dataset"}),
        Step(name="count", function=count, input_atom_types={"data": "dataset"},
             config_class=CountConfig, output_atom_types={"counts": "eval"}),
    ],
    config_class=PipelineConfig,
)
CONFIG = PipelineConfig(make=MakeConfig(), count=CountConfig())
'''

CRASH_DRIVER = """
import sys
sys.path.insert(0, sys.argv[1])
import crash_steps
from motools import RunOptions, run_workflow
run_workflow(crash_steps.workflow, {}, crash_steps.CONFIG, user="alice",
             options=RunOptions(store=sys.argv[2], executor="inline"))
print("run finished")
"""


def _calls(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_workflow_killed_after_first_step_commit_reruns_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "crash_steps.py").write_text(CRASH_STEPS)
    root = tmp_path / "store"
    calls = tmp_path / "calls.txt"
    # A short lease TTL: the killed driver's lease on `count` must expire before our rerun.
    env = {**os.environ, "CALLS_FILE": str(calls), "KILL_IN_COUNT": "1", "MOTOOLS_LEASE_TTL": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_DRIVER, str(mod_dir), str(root)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "run finished" not in proc.stdout
    assert _calls(calls) == ["make", "count"]

    # The store still loads: every atom record in it verifies.
    store = AtomStore(root)
    for atom_id in store.iter_atom_ids():
        store.get_atom_record(atom_id)

    monkeypatch.setenv("CALLS_FILE", str(calls))
    monkeypatch.delenv("KILL_IN_COUNT", raising=False)
    mod = load_module(mod_dir / "crash_steps.py", f"crash_steps_{tmp_path.name}")
    from motools.workflow import run_workflow

    rerun = run_workflow(mod.workflow, {}, mod.CONFIG, user="alice",
                         options=RunOptions(store=root, executor="inline"))
    assert rerun.ok
    assert [s.status for s in rerun.step_states] == ["cached", "succeeded"]
    assert _calls(calls) == ["make", "count", "count"]

    again = run_workflow(mod.workflow, {}, mod.CONFIG, user="alice",
                         options=RunOptions(store=root, executor="inline"))
    assert [s.status for s in again.step_states] == ["cached", "cached"]
    assert _calls(calls) == ["make", "count", "count"]
    assert again.get_atom("counts").load().metrics == {"rows": {"n": 3}}
    assert list((root / "tmp").rglob("*.part")) == []


def test_outputs_stored_but_never_committed_to_ledger_still_load_and_rerun_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motools.engine._node import execute_node
    from motools.workflow import compile_plan, run_workflow

    mod_path = tmp_path / "crash_steps_inproc.py"
    mod_path.write_text(CRASH_STEPS)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("CALLS_FILE", str(calls))
    mod = load_module(mod_path, f"crash_steps_inproc_{tmp_path.name}")
    root = tmp_path / "store"
    store = get_store(root)

    # The "crash": the first node's atoms, blobs and step record are written, the Ledger never
    # hears about it.
    plan = compile_plan(mod.workflow, [mod.CONFIG], {})
    first = plan.levels()[0][0]
    inputs = first.resolve_inputs({})
    orphan = execute_node(first, inputs, first.cache_key(inputs), store, run_id="run-x", user="u")
    assert orphan.status == "succeeded"
    data_id = orphan.outputs["data"]
    assert len(Atom.load(data_id, store=root).load()) == 3

    result = run_workflow(mod.workflow, {}, mod.CONFIG, user="alice",
                          options=RunOptions(store=root, executor="inline"))
    assert result.ok
    # `make` may be re-executed or served from the store's step record; either way it gives
    # the same atom, and `count` runs once.
    assert [s.status for s in result.step_states][1] == "succeeded"
    assert result.step_states["make"].output_atoms["data"] == data_id
    assert _calls(calls).count("count") == 1

    calls_before = _calls(calls)
    again = run_workflow(mod.workflow, {}, mod.CONFIG, user="alice",
                         options=RunOptions(store=root, executor="inline"))
    assert [s.status for s in again.step_states] == ["cached", "cached"]
    assert _calls(calls) == calls_before


# --- typed atoms ------------------------------------------------------------------------------


def test_atom_load_dispatches_to_typed_subclasses(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "results.json").write_text(json.dumps({"metrics": {"t": {"accuracy": 0.5}}}))
    (tmp_path / "w.bin").write_bytes(b"w")
    made = {
        DatasetAtom: DatasetAtom.from_records(RECORDS, store=root),
        EvalAtom: Atom.create(type="eval", path=tmp_path / "results.json", store=root),
        ModelAtom: Atom.create(type="model", path=tmp_path / "w.bin", store=root),
        TrainingJobAtom: Atom.create(type="training_job", metadata={"job": "j1"}, store=root),
        TaskAtom: Atom.create(type="task", metadata={"task": "m:f"}, store=root),
    }
    for cls, atom in made.items():
        assert type(atom) is cls
        loaded = Atom.load(atom.id, store=root)
        assert type(loaded) is cls
        assert loaded == atom


def test_atom_of_an_unregistered_type_loads_as_plain_atom(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "notes.txt").write_text("n")
    atom = Atom.create(type="my_notes", path=tmp_path / "notes.txt", store=root)
    loaded = Atom.load(atom.id, store=root)
    assert type(loaded) is Atom
    assert loaded.type == "my_notes"


def test_typed_load_of_another_type_raises_user_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "w.bin").write_bytes(b"w")
    model = Atom.create(type="model", path=tmp_path / "w.bin", store=root)
    with pytest.raises(UserError, match="not a dataset atom"):
        DatasetAtom.load(model.id, store=root)


def test_typed_load_of_its_own_type_works(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    assert DatasetAtom.load(atom.id, store=root) == atom


def test_model_folder_round_trips_through_local_path(tmp_path: Path) -> None:
    root = tmp_path / "store"
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    files = {
        "weights.bin": bytes(range(256)) * 10,
        "config.json": b'{"d": 64}',
        "sub/tokenizer.txt": "ünï\n".encode(),
    }
    for rel, data in files.items():
        (folder / rel).write_bytes(data)
    atom = Atom.create(type="model", path=folder, user="alice", store=root)
    local = Atom.load(atom.id, store=root).local_path()
    got = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()}
    assert got == files
    assert sorted(atom.files) == sorted(files)
    assert atom.user == "alice"


def test_local_path_of_a_materialized_atom_is_stable(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (tmp_path / "w.bin").write_bytes(b"w")
    atom = Atom.create(type="model", path=tmp_path / "w.bin", store=root)
    assert atom.local_path() == atom.local_path()


def test_instance_load_returns_content_and_class_load_returns_atom(tmp_path: Path) -> None:
    root = tmp_path / "store"
    atom = DatasetAtom.from_records(RECORDS, store=root)
    by_class = Atom.load(atom.id, store=root)
    assert isinstance(by_class, DatasetAtom)
    content = by_class.load()
    assert isinstance(content, Dataset)
    assert content == Dataset.from_records(RECORDS)
    assert content.to_records()[0]["messages"][1]["content"] == "Hello, World!"


def test_eval_atom_load_returns_eval_results(tmp_path: Path) -> None:
    root = tmp_path / "store"
    payload = {"metrics": {"hello": {"accuracy": 1.0}}, "samples": [{"id": 1}], "backend": "dummy"}
    (tmp_path / "results.json").write_text(json.dumps(payload))
    atom = Atom.create(type="eval", path=tmp_path / "results.json", store=root)
    results = Atom.load(atom.id, store=root).load()
    assert isinstance(results, EvalResults)
    assert results.metrics == {"hello": {"accuracy": 1.0}}
    assert results.samples == [{"id": 1}]


def test_atom_load_uses_motools_store_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-store"
    monkeypatch.setenv("MOTOOLS_STORE", str(root))
    atom = DatasetAtom.from_records(RECORDS)
    assert (root / "atoms" / f"{atom.id}.json").is_file()
    assert Atom.load(atom.id).load() == Dataset.from_records(RECORDS)


def test_dataset_atom_needs_a_path(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        Atom.create(type="dataset", store=tmp_path / "store")


def test_create_from_missing_path_raises_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        Atom.create(type="model", path=tmp_path / "nope", store=tmp_path / "store")


def test_create_with_invalid_type_raises_invalid_atom_id_error(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"w")
    with pytest.raises(InvalidAtomIdError):
        Atom.create(type="../model", path=tmp_path / "w.bin", store=tmp_path / "store")
