"""The content-addressed AtomStore, over any `pyarrow.fs` filesystem.

Layout under the root (a local folder, `s3://bucket/prefix`, `gs://...`, a shared path):

    blobs/ab/<sha256>     file contents, stored once by content hash
    atoms/<atom id>.json  one AtomRecord per atom: content digest, file manifest, metadata, provenance
    steps/<cache key>.json  one record per successful cached step run (lets `cache rebuild` work)
    tmp/<host>-<pid>/     temporary names; on a filesystem every write goes here first and is
                          renamed into place (object stores skip it: one PUT is already atomic).
                          One folder per process: concurrent creates in one shared folder are
                          several times slower, and a dead process's leftovers are easy to find.

The store is the source of truth; the Ledger (SQLite) is an index over it. Writes are ordered blobs ->
atom record -> step record -> Ledger, so a crash at any point leaves only unreferenced-but-valid files,
and a rerun rewrites the same content-addressed names.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
from pydantic import BaseModel, Field

from motools import _hashing
from motools._atomic import atomic_path
from motools._errors import AtomNotFoundError, CorruptAtomError, StoreWriteError, UserError
from motools._process_folders import own_folder_name, remove_dead_process_folders
from motools.atom._ids import check_atom_id, check_atom_type


class FileEntry(BaseModel):
    """One file of an atom: its blob hash and size."""

    sha256: str
    size: int


class Provenance(BaseModel):
    """Who and what first produced an atom. Not part of the atom id."""

    user: str | None = None
    created_at: float = Field(default_factory=time.time)
    made_from: dict[str, str] = Field(default_factory=dict)
    step: str | None = None
    cache_key: str | None = None
    run_id: str | None = None
    output_name: str | None = None


class AtomRecord(BaseModel):
    """The persisted description of an atom (atoms/<id>.json)."""

    id: str
    type: str
    content_digest: str
    files: dict[str, FileEntry] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    provenance: Provenance = Field(default_factory=Provenance)


def compute_atom_id(atom_type: str, content_digest: str, metadata: dict[str, Any]) -> str:
    """`<type>-sha256(type + content + metadata)`; see docs/hashing.md."""
    payload = {"type": atom_type, "content": content_digest, "metadata": metadata}
    return f"{atom_type}-{_hashing.digest(_hashing.ATOM_TAG, payload)}"


def tree_digest(files: dict[str, FileEntry]) -> str:
    """Digest of a file tree: relative paths and their content hashes."""
    if not files:  # every metadata-only atom: computed once
        return _EMPTY_TREE
    return _hashing.digest(_hashing.TREE_TAG, {p: f.sha256 for p, f in files.items()})


_EMPTY_TREE = _hashing.digest(_hashing.TREE_TAG, {})


_OBJECT_STORES: tuple[type, ...] = tuple(
    cls for name in ("S3FileSystem", "GcsFileSystem") if (cls := getattr(pafs, name, None))
)


_CACHE_KEY = re.compile(r"[0-9a-f]{64}")

# The folders of a store, by what each file in them is (for error messages).
_WHAT_IS_STORED = {"blobs": "blob", "atoms": "atom record", "steps": "step record",
                   "runs": "run file", "pins": "pin"}


def _resolve_root(
    root: str | os.PathLike[str], s3_endpoint: str | None
) -> tuple[pafs.FileSystem, str, str]:
    root_str = os.fspath(root)
    if "://" not in root_str:
        local = str(Path(root_str).expanduser().resolve())
        return pafs.LocalFileSystem(), local, local
    if root_str.startswith("s3://") and s3_endpoint:
        # S3-compatible servers (MinIO, moto) need an endpoint that a plain URI cannot carry.
        bucket_path = root_str[len("s3://") :].rstrip("/")
        fs = pafs.S3FileSystem(endpoint_override=s3_endpoint)
        return fs, bucket_path, root_str.rstrip("/")
    try:
        fs, path = pafs.FileSystem.from_uri(root_str)
    except Exception as exc:  # pyarrow raises several types for bad URIs
        raise UserError(f"store root {root_str!r} is not a usable filesystem URI: {exc}") from exc
    return fs, path.rstrip("/"), root_str.rstrip("/")


class AtomStore:
    """Content-addressed storage of atoms and blobs under one root.

    Args:
        root: A local folder or any URI `pyarrow.fs` understands (`s3://bucket/prefix`).
    """

    def __init__(self, root: str | os.PathLike[str], *, s3_endpoint: str | None = None) -> None:
        if s3_endpoint is None and os.fspath(root).startswith("s3://"):
            s3_endpoint = os.environ.get("MOTOOLS_S3_ENDPOINT") or None
        self.s3_endpoint = s3_endpoint
        self.fs, self._base, self.uri = _resolve_root(root, s3_endpoint)
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)
        # S3 / GCS: an object appears whole when its upload completes, or not at all, and there
        # are no real directories; a "move" there is a copy plus a delete.
        self._object_store = isinstance(self.fs, _OBJECT_STORES)
        self._made_dirs: set[str] = set()
        self._tmp_of_pid: dict[int, str] = {}  # a forked child writes to a folder of its own
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AtomStore({self.uri!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Ray ships the store to workers by its URI (filesystems do not all pickle) and its S3
        # endpoint, so workers on other nodes need no MOTOOLS_S3_ENDPOINT of their own.
        return (_reopen, (self.uri, self.s3_endpoint))

    # ---- paths -------------------------------------------------------------------------------
    def _path(self, *parts: str) -> str:
        return "/".join([self._base, *parts])

    def location(self, *parts: str) -> str:
        """A path under the root, as `self.fs` names it: for files kept beside the atoms
        (training jobs' checkpoints), which any node must reach through the same filesystem."""
        return self._path(*parts)

    @property
    def local_root(self) -> Path | None:
        """The root as a local Path, or None for remote stores."""
        return Path(self._base) if self.is_local else None

    @property
    def ledger_path(self) -> Path:
        """Where the SQLite Ledger of this store lives (on the head node for remote stores)."""
        if override := os.environ.get("MOTOOLS_LEDGER"):
            return Path(override)
        if self.local_root is not None:
            return self.local_root / "ledger.sqlite"
        name = _hashing.digest("motools.ledger-path.v1", self.uri)[:16]
        return Path(".motools") / f"ledger-{name}.sqlite"

    def _blob_path(self, sha: str) -> str:
        return self._path("blobs", sha[:2], sha)

    def _atom_path(self, atom_id: str) -> str:
        return self._path("atoms", f"{check_atom_id(atom_id)}.json")

    def _step_path(self, key: str) -> str:
        if not _CACHE_KEY.fullmatch(key):
            raise UserError(f"invalid cache key {key!r}: expected 64 hex digits")
        return self._path("steps", f"{key}.json")

    # ---- raw io ------------------------------------------------------------------------------
    def _exists(self, path: str) -> bool:
        if self.is_local:
            return os.path.exists(path)
        return bool(self.fs.get_file_info(path).type != pafs.FileType.NotFound)

    def _ensure_dir(self, path: str) -> None:
        if self._object_store:
            return  # prefixes need no creating; directory markers would only cost requests
        if path not in self._made_dirs:
            if self.is_local:
                os.makedirs(path, exist_ok=True)
            else:
                self.fs.create_dir(path, recursive=True)
            self._made_dirs.add(path)

    def _write_atomic(self, path: str, data: bytes) -> None:
        """Write under a temporary name, then rename: readers never see half a file.

        On an object store the final key is written directly: a PUT (or a multipart upload, on
        completion) is atomic, so readers see the old state or the whole object, never part of it.

        Raises:
            StoreWriteError: the write failed (disk full, file too large, ...); one line that
                names the file and the store, instead of pyarrow's generic I/O message.
        """
        try:
            self._write_via_tmp(path, data)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else " ".join(str(exc).split())
            raise StoreWriteError(
                f"cannot write {self._describe(path)} to store {self.uri}: {reason}"
            ) from exc

    def _describe(self, path: str) -> str:
        """`blob 3fa9c2d1e0b7`, `atom record dataset-3fa9c2d1`: short enough for a table cell."""
        top, _, rest = path[len(self._base) + 1 :].partition("/")
        name = rest.rsplit("/", 1)[-1].removesuffix(".json")
        what = _WHAT_IS_STORED.get(top, top)
        if top in ("blobs", "steps"):
            name = name[:12]
        elif top == "atoms":
            name = name[: name.index("-") + 13] if "-" in name else name
        return f"{what} {name}"

    def _write_via_tmp(self, path: str, data: bytes) -> None:
        if self._object_store:
            with self.fs.open_output_stream(path) as out:
                out.write(data)
            return
        if self.is_local:
            try:
                self._write_local(path, data)
            except FileNotFoundError:
                # A folder this instance made is gone (the store was deleted and made again
                # under the same path while this process lived): make the folders again, once.
                self._made_dirs.clear()
                self._write_local(path, data)
            return
        tmp = f"{self._own_tmp()}/{uuid.uuid4().hex}.part"
        self._ensure_dir(path.rsplit("/", 1)[0])
        try:
            with self.fs.open_output_stream(tmp) as out:
                out.write(data)
            self.fs.move(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.delete_file(tmp)
            raise

    def _write_local(self, path: str, data: bytes) -> None:
        # Plain os calls: a third of the cost of pyarrow's streams for the small records that most
        # writes are (two per step), which matters at thousands of steps per sweep.
        tmp = f"{self._own_tmp()}/{uuid.uuid4().hex}.part"
        self._ensure_dir(path.rsplit("/", 1)[0])
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _own_tmp(self) -> str:
        """This process's temporary folder; the first call also removes dead processes' ones."""
        folder = self._tmp_of_pid.get(os.getpid())
        if folder is None:
            folder = self._tmp_of_pid[os.getpid()] = self._path("tmp", own_folder_name())
        if folder not in self._made_dirs:
            if self.is_local:
                # A store may be shared (NFS): leave what was touched in the last hour alone.
                remove_dead_process_folders(self._path("tmp"), idle_seconds=3600)
            self._ensure_dir(folder)
        return folder

    def _read_if_exists(self, path: str) -> bytes | None:
        """The file's bytes, or None if there is none (one call on a local store, not two)."""
        if not self.is_local:
            return self._read(path) if self._exists(path) else None
        try:
            return self._read(path)
        except FileNotFoundError:
            return None

    def _read(self, path: str) -> bytes:
        if self.is_local:
            with open(path, "rb") as local:
                return local.read()
        with self.fs.open_input_stream(path) as f:
            return bytes(f.read())

    # ---- blobs -------------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> FileEntry:
        """Store bytes under their sha256 (once) and return their entry."""
        sha = _hashing.sha256_bytes(data)
        path = self._blob_path(sha)
        if not self._exists(path):
            self._write_atomic(path, data)
        return FileEntry(sha256=sha, size=len(data))

    def put_blob_file(self, local_path: str | os.PathLike[str]) -> FileEntry:
        """Store a local file's bytes as a blob."""
        return self.put_blob(Path(local_path).read_bytes())

    def get_blob(self, sha: str) -> bytes:
        """Read a blob and verify its hash; raises CorruptAtomError on mismatch."""
        path = self._blob_path(sha)
        if not self._exists(path):
            raise CorruptAtomError(f"blob {sha} is missing from store {self.uri}")
        data = self._read(path)
        actual = _hashing.sha256_bytes(data)
        if actual != sha:
            raise CorruptAtomError(
                f"blob {sha} in store {self.uri} is corrupt: its content hashes to {actual}"
            )
        return data

    # ---- atoms -------------------------------------------------------------------------------
    def has_atom(self, atom_id: str) -> bool:
        """True if the store holds a record for this id."""
        return self._exists(self._atom_path(atom_id))

    def put_atom(
        self,
        atom_type: str,
        content_digest: str,
        files: dict[str, FileEntry],
        metadata: dict[str, Any],
        provenance: Provenance,
    ) -> AtomRecord:
        """Record an atom whose blobs are already stored. The first producer's provenance wins."""
        check_atom_type(atom_type)
        metadata = _hashing.to_plain(metadata)
        atom_id = compute_atom_id(atom_type, content_digest, metadata)
        if self.has_atom(atom_id):
            return self.get_atom_record(atom_id)
        record = AtomRecord(
            id=atom_id,
            type=atom_type,
            content_digest=content_digest,
            files=files,
            metadata=metadata,
            provenance=provenance,
        )
        self._write_atomic(self._atom_path(atom_id), record.model_dump_json().encode())
        return record

    def get_atom_record(self, atom_id: str) -> AtomRecord:
        """Read and verify an atom record (its id must match its content)."""
        data = self._read_if_exists(self._atom_path(atom_id))
        if data is None:
            raise AtomNotFoundError(f"atom {atom_id} not found in store {self.uri}")
        try:
            record = AtomRecord.model_validate_json(data)
        except ValueError as exc:
            raise CorruptAtomError(f"atom record {atom_id} in {self.uri} is unreadable") from exc
        expected = compute_atom_id(record.type, record.content_digest, record.metadata)
        if record.id != atom_id or expected != atom_id:
            raise CorruptAtomError(f"atom record {atom_id} in {self.uri} does not match its id")
        return record

    def iter_atom_ids(self) -> list[str]:
        """Every atom id in the store (for maintenance: rebuild, gc, verify)."""
        selector = pafs.FileSelector(self._path("atoms"), allow_not_found=True)
        return sorted(
            info.base_name[: -len(".json")]
            for info in self.fs.get_file_info(selector)
            if info.base_name.endswith(".json")
        )

    def materialize(self, atom_id: str) -> Path:
        """A local folder holding the atom's files, verified once against their hashes."""
        record = self.get_atom_record(atom_id)
        if self.local_root is not None:
            cache_root = self.local_root / "materialized"
        else:
            cache_root = Path(
                os.environ.get("MOTOOLS_CACHE_DIR", Path.home() / ".cache" / "motools")
            ) / "materialized"
        target = cache_root / atom_id
        if target.exists():
            return target
        cache_root.mkdir(parents=True, exist_ok=True)
        # Another process may materialize it first: theirs is identical.
        with atomic_path(target, first_wins=True) as staging:
            staging.mkdir()
            for rel, entry in record.files.items():
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(self.get_blob(entry.sha256))
        return target

    # ---- run files (collated results of a run, next to its record) ---------------------------
    def _run_file_path(self, run_id: str, name: str) -> str:
        if not re.fullmatch(r"run-[0-9a-z-]{1,64}", run_id) or not re.fullmatch(r"[\w.-]{1,64}", name):
            raise UserError(f"invalid run file {run_id!r}/{name!r}")
        return self._path("runs", run_id, name)

    def put_run_file(self, run_id: str, name: str, data: bytes) -> str:
        """Write a file that belongs to a run (e.g. its results table); returns its URI."""
        path = self._run_file_path(run_id, name)
        self._write_atomic(path, data)
        return f"{self.uri}/runs/{run_id}/{name}"

    def get_run_file(self, run_id: str, name: str) -> bytes | None:
        """Read a run's file, or None if it was never written."""
        return self._read_if_exists(self._run_file_path(run_id, name))

    # ---- step records (the rebuildable part of the cache index) ---------------------------
    def put_step_record(self, key: str, record: dict[str, Any] | bytes) -> None:
        """Persist the record of a successful step run (plain data, or its JSON) under its key."""
        data = record if isinstance(record, bytes) else _hashing.canonical_json(record)
        self._write_atomic(self._step_path(key), data)

    def get_step_record(self, key: str) -> dict[str, Any] | None:
        """The stored step record for a cache key, or None."""
        data = self._read_if_exists(self._step_path(key))
        return None if data is None else dict(json.loads(data))

    def iter_step_records(self) -> list[dict[str, Any]]:
        """Every stored step record (for `cache rebuild`)."""
        selector = pafs.FileSelector(self._path("steps"), allow_not_found=True)
        return [
            dict(json.loads(self._read(info.path)))
            for info in self.fs.get_file_info(selector)
            if info.base_name.endswith(".json")
        ]


_stores: dict[tuple[str, str | None], AtomStore] = {}
_stores_lock = threading.Lock()


def _reopen(uri: str, s3_endpoint: str | None) -> AtomStore:
    # One instance per store and process, as get_store: each task unpickles the store, and a
    # fresh instance would redo its folder checks for every task.
    with _stores_lock:
        store = _stores.get((uri, s3_endpoint))
        if store is None:
            store = _stores[(uri, s3_endpoint)] = AtomStore(uri, s3_endpoint=s3_endpoint)
        return store


def default_store_root() -> str:
    """`MOTOOLS_STORE` if set, else `.motools` in the working directory."""
    return os.environ.get("MOTOOLS_STORE") or ".motools"


def get_store(root: str | os.PathLike[str] | AtomStore | None = None) -> AtomStore:
    """The AtomStore for `root` (default: `default_store_root()`), one instance per root."""
    if isinstance(root, AtomStore):
        return root
    root_str = os.fspath(root) if root is not None else default_store_root()
    if "://" not in root_str:
        root_str = str(Path(root_str).expanduser().resolve())
    # The S3 endpoint override is part of which store a URI names (a test's loopback server).
    endpoint = os.environ.get("MOTOOLS_S3_ENDPOINT") if root_str.startswith("s3://") else None
    key = (root_str, endpoint)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = AtomStore(root_str, s3_endpoint=endpoint)
        return store
