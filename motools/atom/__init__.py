"""Atoms and the content-addressed store.

Example:
    >>> from motools.atom import Atom, DatasetAtom
    >>> ds = DatasetAtom.from_records([{"messages": [{"role": "user", "content": "hi"}]}], user="me")
    >>> Atom.load(ds.id).load()   # -> Dataset
"""

from motools.atom._atom import (
    Atom,
    DatasetAtom,
    EvalAtom,
    EvalResults,
    ModelAtom,
    TaskAtom,
    TrainingJobAtom,
)
from motools.atom._dataset import Dataset
from motools.atom._ids import ATOM_ID_PATTERN, check_atom_id
from motools.atom._store import AtomRecord, AtomStore, Provenance, default_store_root, get_store

__all__ = [
    "ATOM_ID_PATTERN",
    "Atom",
    "AtomRecord",
    "AtomStore",
    "Dataset",
    "DatasetAtom",
    "EvalAtom",
    "EvalResults",
    "ModelAtom",
    "Provenance",
    "TaskAtom",
    "TrainingJobAtom",
    "check_atom_id",
    "default_store_root",
    "get_store",
]
