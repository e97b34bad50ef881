"""Real drivers in real processes for the fault tests, and what a test reads back afterwards.

A driver is `python -m motools.cli ...` in its own session (so the test can signal it and only
it). It joins the test session's Ray cluster through RAY_ADDRESS, which spares a Ray start per
driver; killing it is still a real driver death: Ray kills the workers that run its tasks, and
the Ledger actor (detached) outlives it. The workflow name `faults` resolves in that process
through an entry point, as any plugin's would: a `.dist-info` folder on its PYTHONPATH.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from cli_runner import Cli, cli

from motools.atom import get_store

HERE = Path(__file__).resolve().parent


# ---- waiting ---------------------------------------------------------------------------------
def wait_until(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    """Poll until `condition()` is truthy and return its value; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ---- the motools command, in this process ----------------------------------------------------
# ---- the motools command, as a separate driver process ----------------------------------------
def plugin_dir(root: Path) -> Path:
    """A folder that makes `faults` a registered workflow for a process that has it on its path."""
    info = root / "plugin" / "faults_plugin-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: faults-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[motools.workflows]\nfaults = fault_steps:faults_workflow\n"
    )
    return info.parent


def driver_env(root: Path, store: Path, ray_address: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTOOLS_", "RAY_ADDRESS"))}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_dir(root)), str(HERE),
                                         os.environ.get("PYTHONPATH", "")])
    env["MOTOOLS_STORE"] = str(store)
    if ray_address:
        env["RAY_ADDRESS"] = ray_address
    env.update(extra)
    return env


class Driver:
    """One `motools` process; its output goes to a file (a pipe nobody reads could block it)."""

    def __init__(self, args: Iterable[object], env: dict[str, str], out: Path,
                 shell_setup: str = "") -> None:
        self.out = out
        command = [sys.executable, "-m", "motools.cli", *map(str, args)]
        if shell_setup:  # e.g. `ulimit -f 512`: limits that the driver and its children inherit
            command = ["bash", "-c", f'{shell_setup} && exec "$@"', "bash", *command]
        with open(out, "wb") as sink:
            self.proc = subprocess.Popen(command, env=env, cwd=out.parent, stdout=sink,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def wait(self, timeout: float = 180) -> int:
        """Wait for the driver to exit; on a timeout, kill it and fail with its output."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.stop()
            raise AssertionError(
                f"driver did not finish in {timeout} s:\n{self.output()[-3000:]}") from exc

    def kill(self) -> None:
        """SIGKILL the driver process itself (not its group): the fault under test."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Cleanup: kill whatever is left of the session this driver started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)


# ---- sweep files -----------------------------------------------------------------------------
def write_sweep(path: Path, log: Path, tags: list[str], seconds: float, **work: Any) -> Path:
    """A sweep of the `faults` workflow: one point per tag; each `work` runs `seconds`."""
    data = {
        "name": path.stem,
        "workflow": "faults",
        "config": {"work": {"seconds": seconds, "log": str(log), **work},
                   "report": {"log": str(log)}},
        "grid": {"work.tag": tags},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ---- what a store holds ----------------------------------------------------------------------
def step_records(store: Path) -> dict[str, dict[str, Any]]:
    """Cache key -> the store's record of a finished step run (what survives any crash)."""
    return {r["key"]: r for r in get_store(store).iter_step_records()}


def leftovers(store: Path) -> list[str]:
    """Half-written things: temporary files, and blobs that no atom record refers to."""
    st = get_store(store)
    tmp = store / "tmp"
    stray = [str(p.relative_to(store)) for p in tmp.rglob("*") if p.is_file()]
    used = {f.sha256 for a in st.iter_atom_ids() for f in st.get_atom_record(a).files.values()}
    blobs = store / "blobs"
    orphans = [f"blobs/{p.name}" for p in blobs.rglob("*") if p.is_file() and p.name not in used] \
        if blobs.exists() else []
    return stray + orphans


def assert_store_clean(store: Path) -> Cli:
    """`motools cache verify` passes and nothing half-written is left behind."""
    verify = cli("cache", "verify", "--store", store)
    assert verify.code == 0 and verify.out.startswith("ok: "), verify.out + verify.err
    assert leftovers(store) == []
    return verify
