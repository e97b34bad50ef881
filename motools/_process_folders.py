"""Folders owned by one process (`<host>-<pid>`), and removing those whose process is dead.

Step workspaces and the store's temporary files each live under one such folder per process: a
process killed mid-write (SIGKILL of a driver or a Ray worker) cannot clean up after itself, so
the next process on the same machine removes what the dead left behind. One folder per process
also keeps concurrent writers out of each other's directory: file creation in a directory that
two processes share is about 8x slower on ext4 here (0.19 vs 0.024 ms per file).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

HOST = socket.gethostname()


def own_folder_name() -> str:
    """This process's folder name: `<host>-<pid>`."""
    return f"{HOST}-{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with that pid exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_dead_process_folders(root: str | os.PathLike[str], *, idle_seconds: float = 0.0
                                ) -> list[Path]:
    """Remove the `<host>-<pid>` folders under `root` of this host's dead processes.

    `idle_seconds`: also require the folder to be unchanged for that long, for folders on shared
    filesystems, where another machine may carry the same hostname in its own pid namespace.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(root).iterdir())
    except OSError:  # no such folder yet
        return removed
    now = time.time()
    for entry in entries:
        owner_host, _, pid = entry.name.rpartition("-")
        if owner_host != HOST or not pid.isdigit() or pid_alive(int(pid)):
            continue
        try:
            if idle_seconds and now - entry.stat().st_mtime < idle_seconds:
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
