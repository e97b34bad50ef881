"""`motools cache ...` on a real store: real files, real SQLite, the CLI called in-process."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from motools.cli._app import main

REPO = Path(__file__).resolve().parents[2]
SEED_YAML = REPO / "configs" / "hello_world.yaml"
STEPS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def store_dir() -> Path:
    return Path(os.environ["MOTOOLS_STORE"])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hello_world.yaml"
    shutil.copy(SEED_YAML, path)
    return path


def run_workflow(capsys: pytest.CaptureFixture[str], config: Path) -> str:
    code, out, err = run_cli(capsys, "workflow", "run", "train_and_evaluate", "--config",
                             str(config), "--user", "alice", "--executor", "inline")
    assert code == 0, out + err
    return out


def assert_all_cached(out: str) -> None:
    assert len(re.findall(r"│ cached\s+│", out)) == len(STEPS), out
    assert "succeeded" not in out


def atom_ids(prefix: str = "") -> list[str]:
    return sorted(p.stem for p in (store_dir() / "atoms").glob(f"{prefix}*.json"))


def blob_bytes() -> int:
    return sum(p.stat().st_size for p in (store_dir() / "blobs").rglob("*") if p.is_file())


def make_orphan() -> tuple[str, int]:
    """A hand-made dataset atom that no run references; returns its id and its blobs' bytes."""
    from motools.atom import DatasetAtom
    from motools.atom._store import get_store

    atom = DatasetAtom.from_records([{"text": "nobody uses me " * 50}], user="carol")
    record = get_store().get_atom_record(atom.id)
    return atom.id, sum(f.size for f in record.files.values())


def test_ls_counts_atoms_by_type_and_step(capsys, config):
    run_workflow(capsys, config)
    make_orphan()
    code, out, _ = run_cli(capsys, "cache", "ls")
    assert code == 0
    for step in STEPS:
        assert re.search(rf"^\s*{step}\s+1\s+\d", out, re.MULTILINE), out
    assert re.search(r"^\s*-\s+1\s+\d", out, re.MULTILINE)  # the hand-made atom
    assert re.search(r"^\s*dataset\s+2\s+\d", out, re.MULTILINE)
    assert re.search(r"^\s*eval\s+1\s+\d", out, re.MULTILINE)
    summary = re.search(r"atoms: (\d+) .* cache entries: (\d+) .* blobs: \d+ \(.*, (\d+) bytes\)", out)
    assert summary, out
    assert int(summary.group(1)) == len(atom_ids()) == 5
    assert int(summary.group(2)) == len(STEPS)
    assert int(summary.group(3)) == blob_bytes() > 0


def test_verify_passes_then_names_the_atom_of_a_tampered_blob(capsys, config):
    run_workflow(capsys, config)
    code, out, _ = run_cli(capsys, "cache", "verify")
    assert code == 0
    n_atoms = len(atom_ids())
    n_blobs = len([p for p in (store_dir() / "blobs").rglob("*") if p.is_file()])
    assert out.strip() == f"ok: {n_atoms} atoms, {n_blobs} blobs verified"

    from motools.atom._store import get_store

    dataset_id = atom_ids("dataset")[0]
    sha = next(iter(get_store().get_atom_record(dataset_id).files.values())).sha256
    (store_dir() / "blobs" / sha[:2] / sha).write_bytes(b"tampered")
    code, out, _ = run_cli(capsys, "cache", "verify")
    assert code == 1
    bad = [line for line in out.splitlines() if line.startswith("corrupt:")]
    assert len(bad) == 1 and dataset_id in bad[0] and sha in bad[0], out

    # A record whose content no longer matches its id is reported too; a missing blob as missing.
    (store_dir() / "blobs" / sha[:2] / sha).unlink()
    eval_id = atom_ids("eval")[0]
    path = store_dir() / "atoms" / f"{eval_id}.json"
    path.write_text(path.read_text().replace('"type":"eval"', '"type":"evalx"'))
    code, out, _ = run_cli(capsys, "cache", "verify")
    assert code == 1
    assert re.search(rf"^missing: atom {dataset_id}: .*{sha}", out, re.MULTILINE), out
    assert re.search(rf"^corrupt: atom {eval_id}: ", out, re.MULTILINE), out


def test_gc_dry_run_deletes_nothing_then_gc_frees_only_the_orphan(capsys, config):
    run_workflow(capsys, config)
    orphan, orphan_bytes = make_orphan()
    before_atoms, before_bytes = atom_ids(), blob_bytes()

    code, out, _ = run_cli(capsys, "cache", "gc", "--dry-run")
    assert code == 0
    assert f"would remove atom {orphan}" in out
    assert re.search(rf"would remove 1 atoms, 1 blobs, 0 cache entries; would free {orphan_bytes} bytes", out), out
    assert atom_ids() == before_atoms and blob_bytes() == before_bytes

    code, out, _ = run_cli(capsys, "cache", "gc")
    assert code == 0
    assert re.search(rf"removed 1 atoms, 1 blobs, 0 cache entries; freed {orphan_bytes} bytes", out), out
    assert atom_ids() == [a for a in before_atoms if a != orphan]
    assert blob_bytes() == before_bytes - orphan_bytes
    assert run_cli(capsys, "cache", "verify")[0] == 0
    assert_all_cached(run_workflow(capsys, config))

    code, out, _ = run_cli(capsys, "cache", "gc")
    assert "removed 0 atoms, 0 blobs" in out and "freed 0 bytes" in out


def test_pin_keeps_an_atom_through_gc_and_keep_runs_zero_forgets_the_cache(capsys, config):
    run_workflow(capsys, config)
    orphan, _ = make_orphan()
    assert run_cli(capsys, "cache", "pin", orphan)[0] == 0
    code, out, _ = run_cli(capsys, "cache", "gc")
    assert "removed 0 atoms" in out and orphan in atom_ids()
    assert run_cli(capsys, "cache", "unpin", orphan)[1].startswith("unpinned")

    # Keeping no run: every atom goes, and so do the cache entries and step records naming them.
    code, out, _ = run_cli(capsys, "cache", "gc", "--keep-runs", "0")
    assert code == 0
    assert re.search(rf"removed 5 atoms, \d+ blobs, {len(STEPS)} cache entries", out), out
    assert atom_ids() == [] and blob_bytes() == 0
    assert list((store_dir() / "steps").glob("*.json")) == []
    out = run_workflow(capsys, config)
    assert len(re.findall(r"│ succeeded\s+│", out)) == len(STEPS)


def test_rebuild_restores_the_cache_index_after_losing_the_ledger(capsys, config):
    from motools.atom._store import get_store
    from motools.engine import _access

    run_workflow(capsys, config)
    keys = [p.stem for p in (store_dir() / "steps").glob("*.json")]
    assert len(keys) == len(STEPS)
    with _access._lock:  # this process's open Ledgers go, as a new process would start
        for ledger in _access._ledgers.values():
            ledger.close()
        _access._ledgers.clear()
        _access._routes.clear()
    for suffix in ("", "-wal", "-shm"):
        (store_dir() / f"ledger.sqlite{suffix}").unlink(missing_ok=True)
    (store_dir() / "steps" / "garbage.json").write_text("{not json")

    code, out, _ = run_cli(capsys, "cache", "rebuild")
    assert code == 0
    assert "warning: skipped step record garbage.json" in out
    assert f"rebuilt: {len(STEPS)} cache entries" in out
    ledger = _access.get_ledger(get_store())
    assert set(ledger.lookup_many(keys)) == set(keys)
    (store_dir() / "steps" / "garbage.json").unlink()
    assert_all_cached(run_workflow(capsys, config))


def test_explain_names_the_changed_config_path(capsys, config):
    run_workflow(capsys, config)
    first_eval = atom_ids("eval")
    dataset_id = atom_ids("dataset")[0]
    code, out, _ = run_cli(capsys, "cache", "explain", dataset_id)
    assert code == 0
    assert "produced by step prepare_dataset" in out and "user=alice" in out
    assert "first run of step prepare_dataset" in out

    config.write_text(config.read_text().replace("n_epochs: 2", "n_epochs: 3"))
    run_workflow(capsys, config)
    new_eval = next(a for a in atom_ids("eval") if a not in first_eval)
    code, out, _ = run_cli(capsys, "cache", "explain", new_eval)
    assert code == 0
    assert "produced by step evaluate_model" in out
    assert re.search(r"^input changed: \w+: \S+ -> \S+", out, re.MULTILINE), out

    from motools.atom._store import get_store

    # evaluate_model ran because its model changed; follow the chain back to submit_training,
    # whose config changed, and ask about it by its cache key.
    (model_id,) = get_store().get_atom_record(new_eval).provenance.made_from.values()
    (job_id,) = get_store().get_atom_record(model_id).provenance.made_from.values()
    training_key = get_store().get_atom_record(job_id).provenance.cache_key
    assert training_key is not None
    code, out, _ = run_cli(capsys, "cache", "explain", training_key)
    assert code == 0
    assert "produced by step submit_training" in out
    assert re.search(r"^config changed: hyperparameters\.n_epochs: 2 -> 3$", out, re.MULTILINE), out
    assert "input changed" not in out


def test_explain_of_unknown_things_is_one_line_exit_2(capsys):
    code, _, err = run_cli(capsys, "cache", "explain", "0" * 64)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no step run" in err
    code, _, err = run_cli(capsys, "cache", "explain", "../etc/passwd")
    assert code == 2 and "invalid atom id" in err


def test_gc_refuses_while_a_run_is_in_flight(capsys, config):
    from motools.atom._store import get_store
    from motools.engine import RunRecord, get_ledger

    run_workflow(capsys, config)
    make_orphan()
    get_ledger(get_store()).save_run(RunRecord(name="train_and_evaluate"))  # this live process
    before = atom_ids()
    code, _, err = run_cli(capsys, "cache", "gc")
    assert code == 2 and "still running" in err and len(err.strip().splitlines()) == 1
    assert atom_ids() == before
    assert run_cli(capsys, "cache", "gc", "--dry-run")[0] == 0
