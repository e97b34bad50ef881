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
from motools.atom._ids import atom_type_of, check_atom_id
from motools.atom._store import AtomRecord, AtomStore, Provenance, get_store

__all__ = [
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
    "atom_type_of",
    "check_atom_id",
    "get_store",
]
