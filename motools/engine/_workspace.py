"""Step workspaces: created on first use, under one folder per process, cleaned after the dead.

Every step gets a `temp_workspace` Path. Most steps never touch it (they return metadata-only
atoms), so the folder is created only when the step first uses the path, and removed after the
step only if it exists.

Workspaces live in `<scratch>/<host>-<pid>/` (scratch: `MOTOOLS_SCRATCH`, else
`<tmp>/motools-scratch`). A process killed mid-step (SIGKILL of a driver or a Ray worker) cannot
clean up after itself; the next process on the same machine that makes a workspace, and every run's
driver when it starts, removes the folders of this host's processes that no longer exist.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from motools._process_folders import own_folder_name, remove_dead_process_folders

_lock = threading.Lock()
_names = itertools.count()
_own: dict[Path, Path] = {}  # scratch root -> this process's folder in it, once made


def scratch_root() -> Path:
    """The folder that holds every process's workspace folder on this machine."""
    return Path(os.environ.get("MOTOOLS_SCRATCH") or os.path.join(tempfile.gettempdir(),
                                                                   "motools-scratch"))


def remove_stale_workspaces(root: Path | None = None) -> list[Path]:
    """Remove the workspace folders of this host's dead processes; returns what was removed."""
    return remove_dead_process_folders(root or scratch_root())


def _process_folder() -> Path:
    """This process's workspace folder, made on first use (after removing dead processes')."""
    root = scratch_root()
    with _lock:
        folder = _own.get(root)
        if folder is None or not folder.is_dir():
            remove_stale_workspaces(root)
            folder = root / own_folder_name()
            if folder not in _own.values():  # left by a dead process that had our pid
                shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            if not _own:
                atexit.register(_remove_own_folders)
            _own[root] = folder
        return folder


def _remove_own_folders() -> None:
    for folder in _own.values():
        shutil.rmtree(folder, ignore_errors=True)


_PathType: Any = type(Path())


class Workspace(_PathType):  # type: ignore[misc]
    """A step's `temp_workspace`: a real Path whose folder is made the first time it is used.

    Any public attribute (`mkdir`, `exists`, `open`, `name`, ...), `str()`, `os.fspath()` and the
    `/` operator create the folder first; paths derived from it are ordinary paths.
    """

    _motools_pending: bool

    @classmethod
    def for_step(cls, step: str) -> Workspace:
        """A not-yet-created workspace for one execution of `step` in this process."""
        # The name is only reserved when the folder is made; until then it just has to be unique.
        # Unique within the process folder; nothing else writes there.
        path = cls(f"{scratch_root()}/{own_folder_name()}/{step}-{next(_names)}")
        path.__dict__["_motools_pending"] = True
        return path

    def _materialize(self) -> None:
        state = object.__getattribute__(self, "__dict__")
        if state.get("_motools_pending"):
            state["_motools_pending"] = False
            _process_folder()
            os.mkdir(os.fspath(_plain(self)))

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            object.__getattribute__(self, "_materialize")()
        return super().__getattribute__(name)

    def __fspath__(self) -> str:
        self._materialize()
        path: str = super().__fspath__()
        return path

    def __str__(self) -> str:
        self._materialize()
        text: str = super().__str__()
        return text

    def __truediv__(self, key: Any) -> Any:
        self._materialize()
        return _plain(self) / key

    def __rtruediv__(self, key: Any) -> Any:
        self._materialize()
        return key / _plain(self)

    def __reduce__(self) -> Any:  # pickles (to another process) as the plain, created path
        self._materialize()
        return (Path, (super().__str__(),))


def was_used(workspace: Path) -> bool:
    """Whether a workspace's folder was made (the step used it)."""
    if not isinstance(workspace, Workspace):
        return True
    state = object.__getattribute__(workspace, "__dict__")
    return not state.get("_motools_pending", False)


def remove_workspace(workspace: Path) -> None:
    """Remove a workspace's folder if it was made."""
    if was_used(workspace):
        shutil.rmtree(_PathType.__str__(workspace), ignore_errors=True)


def _plain(path: Path) -> Path:
    return Path(_PathType.__str__(path))
