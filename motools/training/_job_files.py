"""A training job's folder, reachable from every node: dataset, progress, checkpoints, outcome.

With a local store the folder is `<store>/training/<job_id>/` and every process (every node, for
a shared path) sees it directly. With an object store (S3, GCS) a node's local disk is its own:
each node works in a scratch copy (`MOTOOLS_CACHE_DIR/training/<job_id>/`) and every file that
matters is mirrored to `<store>/training/<job_id>/`, written after the files it names. So the
trainer, the step waiting on it and a trainer resuming after a lost node may each run on a
different node, and losing a node loses no checkpoint.

Paths inside the folder are recorded relative to it (`checkpoints/x.pt`); paths of remote
services (`tinker://...`) pass through untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from motools._atomic import atomic_path, write_atomic
from motools.atom._store import AtomStore


def _scratch_root() -> Path:
    return Path(os.environ.get("MOTOOLS_CACHE_DIR", str(Path.home() / ".cache" / "motools")))


class JobFiles:
    """The folder of one training job (see the module docstring)."""

    def __init__(self, store: AtomStore, job_id: str, area: str = "training") -> None:
        # `area`: the store folder it is in; another area holds folders kept the same way
        # (the warm-start families, `_warm_start.py`).
        self.store, self.job_id = store, job_id
        if store.local_root is not None:
            self.local = store.local_root / area / job_id
            self._fs: pafs.FileSystem | None = None
        else:
            self.local = _scratch_root() / area / job_id
            self._fs, self._remote = store.fs, store.location(area, job_id)
        self.local.mkdir(parents=True, exist_ok=True)

    def _remote_path(self, name: str) -> str:
        return f"{self._remote}/{name}"

    def exists(self, name: str) -> bool:
        if self._fs is None:
            return (self.local / name).exists()
        info = self._fs.get_file_info(self._remote_path(name))
        return bool(info.type != pafs.FileType.NotFound)

    def names(self) -> list[str]:
        """Names of the files directly in the folder, as the store has them (sorted)."""
        if self._fs is None:
            return sorted(p.name for p in self.local.iterdir() if p.is_file())
        selector = pafs.FileSelector(self._remote, allow_not_found=True)
        return sorted(info.base_name for info in self._fs.get_file_info(selector)
                      if info.type == pafs.FileType.File)

    def read_json(self, name: str) -> dict[str, Any] | None:
        """A JSON file of the job, or None if it does not exist (yet)."""
        try:
            if self._fs is None:
                return dict(json.loads((self.local / name).read_text()))
            with self._fs.open_input_stream(self._remote_path(name)) as f:
                return dict(json.loads(f.read()))
        except FileNotFoundError:
            return None

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        """Write atomically (readers see the old file or the new one) and mirror it."""
        write_atomic(self.local / name, json.dumps(data))
        self.push(name)

    def remove(self, name: str) -> None:
        (self.local / name).unlink(missing_ok=True)
        if self._fs is not None and self.exists(name):
            self._fs.delete_file(self._remote_path(name))

    def push(self, name: str) -> None:
        """Mirror a local file or folder of the job to the store (no-op for a local store)."""
        if self._fs is None:
            return
        source = self.local / name
        if source.is_dir():
            self._fs.create_dir(self._remote_path(name), recursive=True)
        pafs.copy_files(str(source), self._remote_path(name),
                        source_filesystem=pafs.LocalFileSystem(), destination_filesystem=self._fs)

    def pull(self, name: str) -> Path:
        """The local path of a file or folder of the job, fetched from the store if missing."""
        target = self.local / name
        if self._fs is None or target.exists():
            return target
        remote = self._remote_path(name)
        info = self._fs.get_file_info(remote)
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(f"{name} of training job {self.job_id} is not in the store")
        files = [info] if info.type == pafs.FileType.File else [
            f for f in self._fs.get_file_info(pafs.FileSelector(remote, recursive=True))
            if f.type == pafs.FileType.File]
        # Staged under a unique name, then renamed: a reader never sees a partial copy. Another
        # process of this node may fetch it first; theirs is the same.
        with atomic_path(target, first_wins=True) as staging:
            for f in files:
                local = staging / f.path[len(remote) + 1:] if f.path != remote else staging
                local.parent.mkdir(parents=True, exist_ok=True)
                with self._fs.open_input_stream(f.path) as src:
                    local.write_bytes(src.read())
        return target

    def keep(self, path: str) -> str:
        """A reference to `path` valid on any node: a file or folder inside the job folder is
        mirrored and named relative to it; anything else (`tinker://...`) is returned as is."""
        if "://" in path:
            return path
        try:
            name = Path(path).resolve().relative_to(self.local.resolve()).as_posix()
        except ValueError:
            return path
        self.push(name)
        return name

    def resolve(self, ref: str) -> str:
        """The local path of a reference made by `keep` (fetched if needed), or the reference."""
        if "://" in ref or Path(ref).is_absolute():
            return ref
        return str(self.pull(ref).resolve())
