"""Atoms: immutable, content-addressed values (datasets, training jobs, models, eval results, tasks)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from motools._errors import UserError
from motools.atom._dataset import Dataset
from motools.atom._ids import atom_type_of, check_atom_type
from motools.atom._store import AtomRecord, AtomStore, FileEntry, Provenance, get_store, tree_digest

A = TypeVar("A", bound="Atom")


class _class_or_instance:
    """`Atom.load(id)` loads an atom by id; `atom.load()` loads that atom's content.

    The seed API uses one name for both, so the descriptor dispatches on how it is reached.
    """

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]) -> None:
        self._on_class = on_class
        self._on_instance = on_instance
        self.__doc__ = on_class.__doc__

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        if obj is None:
            return self._on_class.__get__(None, cls)  # type: ignore[no-any-return]
        return self._on_instance.__get__(obj, cls)  # type: ignore[no-any-return]


def _load_by_id(cls: type[A], atom_id: str, store: str | AtomStore | None = None) -> A:
    """Load the atom with this id from the store (default: `MOTOOLS_STORE` or `.motools`).

    Args:
        atom_id: A full atom id, e.g. `dataset-3fa9...`.
        store: Store root or AtomStore; defaults to the environment's store.

    Raises:
        InvalidAtomIdError: the id is malformed. AtomNotFoundError: the store does not hold it.
    """
    st = get_store(store)
    wanted = cls.atom_type
    if wanted is not None and atom_type_of(atom_id) != wanted:
        raise UserError(f"{atom_id} is a {atom_type_of(atom_id)} atom, not a {wanted} atom")
    record = st.get_atom_record(atom_id)
    return atom_class(record.type)(record, st)  # type: ignore[return-value]


def atom_class(atom_type: str) -> type[Atom]:
    """The Atom subclass registered for an atom type (registry kind `atom_type`), else Atom."""
    from motools.registry import is_registered, resolve

    if not is_registered("atom_type", atom_type):
        return Atom
    cls = resolve("atom_type", atom_type)
    if not (isinstance(cls, type) and issubclass(cls, Atom)):
        raise UserError(f"atom type {atom_type!r} is registered to {cls!r}, not an Atom subclass")
    return cls


def _load_content(self: Atom) -> Any:
    return self._load_content()


class Atom:
    """A stored, immutable value with an id derived from its content.

    Typed subclasses (`DatasetAtom`, `ModelAtom`, `EvalAtom`, `TrainingJobAtom`, `TaskAtom`) add
    typed accessors. `Atom.load(id)` returns the right subclass.
    """

    atom_type: ClassVar[str | None] = None

    def __init__(self, record: AtomRecord, store: AtomStore) -> None:
        self._record = record
        self._store = store

    load = _class_or_instance(classmethod(_load_by_id), _load_content)  # type: ignore[arg-type]

    # ---- identity and provenance ------------------------------------------------------------
    @property
    def id(self) -> str:
        """The content id, `<type>-<sha256>`."""
        return self._record.id

    @property
    def type(self) -> str:
        """The atom type (`dataset`, `model`, ...)."""
        return self._record.type

    @property
    def metadata(self) -> dict[str, Any]:
        """Content metadata (part of the id)."""
        return dict(self._record.metadata)

    @property
    def files(self) -> dict[str, FileEntry]:
        """Relative path -> blob entry of every file in the atom."""
        return dict(self._record.files)

    @property
    def user(self) -> str | None:
        """The user whose run first produced this atom."""
        return self._record.provenance.user

    @property
    def made_from(self) -> dict[str, str]:
        """Input name -> atom id of the step run that first produced this atom."""
        return dict(self._record.provenance.made_from)

    @property
    def provenance(self) -> Provenance:
        """The full record of the run that first produced this atom."""
        return self._record.provenance.model_copy()

    @property
    def store(self) -> AtomStore:
        """The store that holds this atom."""
        return self._store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Atom) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # ---- content ----------------------------------------------------------------------------
    def local_path(self) -> Path:
        """A local folder holding this atom's files (fetched and verified on first use)."""
        return self._store.materialize(self.id)

    def read_bytes(self, relpath: str) -> bytes:
        """The verified bytes of one file of this atom."""
        try:
            entry = self._record.files[relpath]
        except KeyError:
            raise UserError(f"{self.id} has no file {relpath!r}; files: {sorted(self.files)}") from None
        return self._store.get_blob(entry.sha256)

    def _load_content(self) -> Any:
        return self.local_path()

    # ---- creation ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        type: str,
        path: str | os.PathLike[str] | None = None,
        user: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        store: str | AtomStore | None = None,
        provenance: Provenance | None = None,
    ) -> Atom:
        """Store a file or folder (or, for datasets, a JSONL/Parquet file or folder) as an atom.

        Args:
            type: The atom type: `dataset`, `model`, `eval`, `training_job`, `task`, or your own.
            path: A file or folder with the content; optional for atoms that are pure metadata.
            user: Recorded as the atom's creator when the content is new to the store.
            metadata: Content metadata; part of the atom id.
            store: Store root or AtomStore; defaults to the environment's store.

        Returns:
            The typed atom. Creating identical content twice returns the same atom.
        """
        st = get_store(store)
        prov = provenance or Provenance(user=user)
        if user is not None and prov.user is None:
            prov.user = user
        record = create_record(st, type, path, dict(metadata or {}), prov)
        return atom_class(record.type)(record, st)


def _collect_files(store: AtomStore, path: Path) -> dict[str, FileEntry]:
    if path.is_file():
        return {path.name: store.put_blob_file(path)}
    if path.is_dir():
        return {
            p.relative_to(path).as_posix(): store.put_blob_file(p)
            for p in sorted(path.rglob("*"))
            if p.is_file()
        }
    raise UserError(f"atom path {str(path)!r} does not exist")


def create_record(
    store: AtomStore,
    atom_type: str,
    path: str | os.PathLike[str] | None,
    metadata: dict[str, Any],
    provenance: Provenance,
) -> AtomRecord:
    """Store content (blobs first, then the record) and return the atom record."""
    check_atom_type(atom_type)
    if atom_type == "dataset":
        if path is None:
            raise UserError("a dataset atom needs a path to a JSONL file, Parquet file or folder")
        return store_dataset(store, Dataset.from_path(path), metadata, provenance)
    files = _collect_files(store, Path(path)) if path is not None else {}
    return store.put_atom(atom_type, tree_digest(files), files, metadata, provenance)


def store_dataset(
    store: AtomStore, dataset: Dataset, metadata: dict[str, Any], provenance: Provenance
) -> AtomRecord:
    # The id comes from the records, not the Parquet bytes, so JSONL, Parquet and folder forms of
    # the same records are one atom whatever pyarrow version wrote the blob.
    files = {"data.parquet": store.put_blob(dataset.to_parquet_bytes())}
    # Sorted: records are mappings, so the order keys first appeared in must not change the id.
    meta = {"samples": len(dataset), "columns": sorted(dataset.columns), **metadata}
    return store.put_atom("dataset", dataset.content_digest(), files, meta, provenance)


class DatasetAtom(Atom):
    """A dataset: an Arrow table of samples stored as Parquet. `.load()` returns a `Dataset`."""

    atom_type = "dataset"
    _dataset: Dataset | None = None

    def _load_content(self) -> Dataset:
        if self._dataset is None:
            self._dataset = Dataset.from_parquet(self.read_bytes("data.parquet"))
        return self._dataset

    def preload(self, dataset: Dataset) -> None:
        """Serve `.load()` from a table already in memory (e.g. from Ray's object store)."""
        self._dataset = dataset

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        user: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        store: str | AtomStore | None = None,
        provenance: Provenance | None = None,
    ) -> DatasetAtom:
        """Store a `Dataset` as an atom."""
        st = get_store(store)
        prov = provenance or Provenance(user=user)
        atom = cls(store_dataset(st, dataset, dict(metadata or {}), prov), st)
        atom.preload(dataset)
        return atom

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        user: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        store: str | AtomStore | None = None,
    ) -> DatasetAtom:
        """Store sample dicts as a dataset atom.

        Example:
            >>> atom = DatasetAtom.from_records([{"messages": [...]}], user="alice")
        """
        return cls.from_dataset(Dataset.from_records(records), user, metadata=metadata, store=store)

    @classmethod
    def from_jsonl(
        cls,
        path: str | os.PathLike[str],
        user: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        store: str | AtomStore | None = None,
    ) -> DatasetAtom:
        """Store a JSONL file (one sample object per line) as a dataset atom."""
        return cls.from_dataset(Dataset.from_jsonl(path), user, metadata=metadata, store=store)


class TrainingJobAtom(Atom):
    """A handle on a (possibly still running) training job. `.load()` returns the handle dict."""

    atom_type = "training_job"

    def _load_content(self) -> dict[str, Any]:
        return self.metadata


class ModelAtom(Atom):
    """A trained model: backend, base model, the id to sample from, and any weight files."""

    atom_type = "model"

    def get_model_id(self) -> str:
        """The identifier a backend samples this model by."""
        return str(self._record.metadata.get("model_id", ""))


class EvalResults:
    """Metrics (task -> metric -> value) and per-sample records of one evaluation."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.metrics: dict[str, dict[str, Any]] = dict(data.get("metrics", {}))
        self.samples: list[dict[str, Any]] = list(data.get("samples", []))
        self.backend: str | None = data.get("backend")

    def __repr__(self) -> str:
        return f"EvalResults(metrics={self.metrics!r}, samples={len(self.samples)})"


class EvalAtom(Atom):
    """Evaluation results: `results.json` with metrics and samples, plus backend logs."""

    atom_type = "eval"

    def _load_content(self) -> EvalResults:
        return EvalResults(json.loads(self.read_bytes("results.json")))

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """Task name -> metric name -> value."""
        return self._load_content().metrics

    async def to_eval_results(self) -> EvalResults:
        """Async alias of `.load()` for code written against the predecessor's API."""
        return self._load_content()


class TaskAtom(Atom):
    """An evaluation task reference (`module:function`) and its arguments."""

    atom_type = "task"

    def _load_content(self) -> dict[str, Any]:
        return self.metadata
