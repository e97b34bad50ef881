"""A dry run is read-only: `sweep run --dry-run` and `workflow run --dry-run` write nothing.

On a store path that does not exist they create nothing (no folder, no Ledger); on a used store
every file, the Ledger's SQLite file and its -wal/-shm included, is byte-identical afterwards,
and a stale cache entry (its atom gone) is reported as "to run" but not forgotten.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from cli_runner import cli

from motools.atom import get_store
from motools.engine import get_ledger

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "hello_world.yaml"
LR = "submit_training.hyperparameters.learning_rate"
STEPS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")


def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"workflow": "train_and_evaluate", "base": str(CONFIG),
                                    "grid": {LR: [1e-4, 1e-3]}}))
    return path


def workflow_args(*extra: object) -> tuple[object, ...]:
    return ("workflow", "run", "train_and_evaluate", "--config", CONFIG, "--user", "u", *extra)


def files_of(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256 of its bytes)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def ledger_files(store: Path) -> list[str]:
    return sorted(p.name for p in store.glob("ledger.sqlite*"))


def cells(out: str, step: str) -> list[str]:
    """The cells of a step's row in a dry run's table."""
    row = next(line for line in out.splitlines() if line.startswith(f"│ {step} "))
    return [cell.strip() for cell in row.split("│")[2:-1]]


def plan_of(out: str, step: str) -> str:
    """The `plan` cell of a step's row in `workflow run --dry-run` output."""
    return cells(out, step)[0]


# ---- a store path that does not exist --------------------------------------------------------


def test_sweep_dry_run_creates_no_store_where_none_exists(tmp_path, isolated_store):
    store = tmp_path / "absent" / "store"
    result = cli("sweep", "run", sweep_file(tmp_path), "--dry-run", "--store", store)
    assert result.code == 0, result.err
    assert "to run" in result.out
    assert not (tmp_path / "absent").exists()
    assert not isolated_store.exists()


def test_workflow_dry_run_creates_no_store_where_none_exists(tmp_path, isolated_store):
    store = tmp_path / "absent" / "store"
    result = cli(*workflow_args("--dry-run", "--store", store))
    assert result.code == 0, result.err
    assert [plan_of(result.out, step) for step in STEPS] == ["to run"] * 4
    assert not (tmp_path / "absent").exists()
    assert not isolated_store.exists()


# ---- a used store ----------------------------------------------------------------------------


def test_sweep_dry_run_leaves_a_used_store_byte_identical(tmp_path, isolated_store):
    file = sweep_file(tmp_path)
    assert cli("sweep", "run", file, "--executor", "inline").code == 0
    # This process still holds the Ledger open: its -wal and -shm files exist and are hashed too.
    assert ledger_files(isolated_store) == ["ledger.sqlite", "ledger.sqlite-shm",
                                            "ledger.sqlite-wal"]
    before = files_of(isolated_store)

    result = cli("sweep", "run", file, "--dry-run")

    assert result.code == 0, result.err
    assert files_of(isolated_store) == before
    # points, nodes, deduplicated, cached, to run
    assert cells(result.out, "evaluate_model") == ["2", "2", "0", "2", "0"]


def test_workflow_dry_run_leaves_a_used_store_byte_identical(isolated_store):
    assert cli(*workflow_args("--executor", "inline")).code == 0
    before = files_of(isolated_store)

    result = cli(*workflow_args("--dry-run"))

    assert result.code == 0, result.err
    assert files_of(isolated_store) == before
    assert [plan_of(result.out, step) for step in STEPS] == ["cached"] * 4


def test_dry_run_of_a_closed_ledger_creates_no_wal_or_shm_file_and_copies_nothing(
        tmp_path, isolated_store, monkeypatch):
    # The store is made by another process, which closes its Ledger as it exits: SQLite folds
    # the WAL in and removes -wal and -shm. Even a read-only SQLite connection would create them
    # again; the dry run opens the file immutable, in place.
    file = sweep_file(tmp_path)
    code = ("import sys; from motools.cli import main; "
            "sys.argv = ['motools', *sys.argv[1:]]; main()")
    env = {**os.environ, "MOTOOLS_STORE": str(isolated_store)}
    proc = subprocess.run([sys.executable, "-c", code, "sweep", "run", str(file), "--executor",
                           "inline"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert ledger_files(isolated_store) == ["ledger.sqlite"]
    before = files_of(isolated_store)

    def no_copy(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the dry run copied {args[0]}")

    monkeypatch.setattr(shutil, "copyfile", no_copy)
    result = cli("sweep", "run", file, "--dry-run")

    assert result.code == 0, result.err
    assert ledger_files(isolated_store) == ["ledger.sqlite"]
    assert files_of(isolated_store) == before
    assert cells(result.out, "evaluate_model") == ["2", "2", "0", "2", "0"]


def test_dry_run_reports_a_stale_cache_entry_as_to_run_and_keeps_it(tmp_path, isolated_store):
    assert cli(*workflow_args("--executor", "inline")).code == 0
    ledger = get_ledger(get_store(isolated_store))
    entries = {step: (key, outputs) for key, step, outputs in ledger.cache_entries()}
    key, outputs = entries["evaluate_model"]
    for atom_id in outputs.values():  # the eval atom leaves the store (deleted by hand)
        (isolated_store / "atoms" / f"{atom_id}.json").unlink()
    before = files_of(isolated_store)

    result = cli(*workflow_args("--dry-run"))

    assert result.code == 0, result.err
    assert plan_of(result.out, "evaluate_model") == "to run"
    assert files_of(isolated_store) == before
    assert key in {k for k, _, _ in ledger.cache_entries()}


def test_dry_run_of_a_copied_store_reads_its_own_ledger(tmp_path, isolated_store):
    # The Ledger copy is taken from the store named on the command line, not from the last one
    # this process opened.
    assert cli(*workflow_args("--executor", "inline")).code == 0
    other = tmp_path / "other"
    shutil.copytree(isolated_store, other)
    result = cli(*workflow_args("--dry-run", "--store", other))
    assert result.code == 0, result.err
    assert [plan_of(result.out, step) for step in STEPS] == ["cached"] * 4
