"""The store cannot take a blob: the step fails with one line, the cache is untouched, and the
same run succeeds once there is room again.

Two real failures, no mocks: a store on a small tmpfs that is full (ENOSPC; needs the right to
mount, which root has here), and a driver whose file-size limit (`ulimit -f`, EFBIG) is smaller
than the blob, which any user can set.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from fault_drivers import Driver, assert_store_clean, driver_env
from fault_steps import faults_workflow, read_events

from motools.atom import get_store
from motools.engine import RunOptions, get_ledger
from motools.workflow import run_workflow

BLOB = 1 << 20  # the step's output: 1 MiB of random bytes, bigger than the room left


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MiB tmpfs, unmounted (lazily: the Ledger actor may still hold its file) at the end."""
    mount = tmp_path / "disk"
    mount.mkdir()
    tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                           capture_output=True, text=True, check=False)
    if tried.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({tried.stderr.strip()}); the file-size-limit "
                    "test below covers failing blob writes without privileges")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill a filesystem up to `leave` free bytes; deleting the returned file gives it back."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return filler


def big_source(tmp_path: Path) -> Path:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(BLOB))
    return source


def assert_nothing_recorded_for_the_failed_step(store: Path) -> None:
    ledger = get_ledger(get_store(store))
    assert ledger.cache_entries() == []
    assert list(store.glob("steps/*.json")) == []
    assert get_store(store).iter_atom_ids() == []
    assert_store_clean(store)


@pytest.mark.timeout(180)
def test_a_full_disk_fails_the_step_cleanly_and_the_rerun_succeeds(tmp_path, small_disk):
    store, log = small_disk / "store", tmp_path / "executions.log"
    config = {"work": {"tag": "w", "log": str(log), "source": str(big_source(tmp_path))},
              "report": {"log": str(log)}}
    get_ledger(get_store(store))  # the Ledger file exists before the disk fills, as it would
    filler = fill(small_disk, leave=256 << 10)

    failed = run_workflow(faults_workflow, {}, config, "alice", options=RunOptions(store=store))
    work = failed.step_states["work"]
    assert (work.status, failed.step_states["report"].status) == ("failed", "skipped")
    assert work.error.startswith("StoreWriteError: cannot write blob ")
    assert work.error.endswith(f"to store {store}: No space left on device")
    assert "\n" not in work.error
    assert_nothing_recorded_for_the_failed_step(store)

    filler.unlink()  # room again
    rerun = run_workflow(faults_workflow, {}, config, "alice", options=RunOptions(store=store))
    assert rerun.ok, rerun.failures
    assert [s.status for s in rerun.step_states] == ["succeeded", "succeeded"]
    assert rerun.get_atom("result").files["big.bin"].size == BLOB
    assert len(read_events(log, "end", step="work")) == 2  # the failed store, then the rerun
    assert_store_clean(store)


@pytest.mark.timeout(180)
def test_a_blob_write_error_fails_the_step_with_one_line_and_the_rerun_succeeds(tmp_path):
    store, log = tmp_path / "store", tmp_path / "executions.log"
    config = tmp_path / "faults.yaml"
    config.write_text(yaml.safe_dump({
        "work": {"tag": "w", "log": str(log), "source": str(big_source(tmp_path))},
        "report": {"log": str(log)},
    }))
    # The inline executor: the blob is written by the driver, which the limit applies to.
    run = ["workflow", "run", "faults", "--config", config, "--executor", "inline"]
    env = driver_env(tmp_path, store, None)

    limited = Driver(run, env, tmp_path / "limited.out", shell_setup=f"ulimit -f {BLOB // 2048}")
    assert limited.wait() == 1, limited.output()
    out = limited.output()
    assert "Traceback" not in out
    error = next(line for line in out.splitlines() if "StoreWriteError" in line)
    assert "cannot write blob " in error and f"to store {store}: File too large" in error
    assert_nothing_recorded_for_the_failed_step(store)
    run_id = next(r.id for r in get_ledger(get_store(store)).list_runs())
    step = next(s for s in get_ledger(get_store(store)).step_runs_of(run_id) if s.step == "work")
    assert step.error.endswith(": File too large") and "\n" not in step.error

    unlimited = Driver(run, env, tmp_path / "unlimited.out")
    assert unlimited.wait() == 0, unlimited.output()
    assert len(read_events(log, "end", step="work")) == 2
    assert_store_clean(store)
