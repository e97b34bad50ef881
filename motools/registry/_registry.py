"""The one registry: every plugin kind of motools, by name.

Kinds: workflows, training backends and the training engines their SFT loop runs on, eval
backends and the eval providers that serve a model atom to inspect-ai, datasets, eval tasks, atom
types (the Atom subclass `Atom.load` returns for a type), and model organisms (a card: the paper,
sources, size, scorer and judge of a zoo organism, read by `card` without importing it).

Entries are import strings (`module:attribute`), imported only when resolved, so listing names is
cheap and every name resolves the same way inside a fresh Ray worker. Third-party packages (and
mozoo itself) register through entry points, in groups named `motools.<kind>s`
(`motools.workflows`, `motools.training_engines`, `motools.atom_types`, ...).
"""

from __future__ import annotations

import ast
import importlib.util
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, get_args

from motools._errors import UnknownNameError, UserError
from motools.registry._builtins import BUILTINS, SYNTHETIC
from motools.registry._imports import import_string

Kind = Literal[
    "workflow", "training_backend", "eval_backend", "dataset", "task",
    "training_engine", "eval_provider", "atom_type", "organism",
]
KINDS: tuple[str, ...] = get_args(Kind)

_LABELS = {
    "workflow": "workflow",
    "training_backend": "training backend",
    "eval_backend": "eval backend",
    "dataset": "dataset",
    "task": "eval task",
    "training_engine": "training engine",
    "eval_provider": "eval provider",
    "atom_type": "atom type",
    "organism": "model organism",
}



@dataclass(frozen=True)
class Entry:
    """One registered name: what it is, where to import it from, and one line about it.

    Attributes:
        synthetic: The entry (a backend) produces made-up results, e.g. the `dummy` backends.
    """

    kind: str
    name: str
    target: str
    description: str = ""
    synthetic: bool = False


_entries: dict[str, dict[str, Entry]] = {}
_loaded_entry_points = False
_lock = threading.RLock()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UserError(f"unknown registry kind {kind!r}; kinds: {', '.join(KINDS)}")


def _ensure_loaded() -> None:
    global _loaded_entry_points
    with _lock:
        if _loaded_entry_points:
            return
        for kind, entries in BUILTINS.items():
            for name, (target, description) in entries.items():
                synthetic = (kind, name) in SYNTHETIC
                entry = Entry(kind, name, target, description, synthetic)
                _entries.setdefault(kind, {}).setdefault(name, entry)
        # One scan of the installed distributions for every group (a scan per group cost about
        # 30 ms each, in every Ray worker and CLI start).
        found = entry_points()
        for kind in KINDS:
            for ep in found.select(group=f"motools.{kind}s"):
                _entries.setdefault(kind, {}).setdefault(ep.name, Entry(kind, ep.name, ep.value))
        _loaded_entry_points = True


def register(
    kind: Kind, name: str, target: str | Any, description: str = "", *, synthetic: bool = False
) -> None:
    """Register `target` (an import string `module:attr`, or an importable object) under a name.

    Objects are stored by their import path, so they must be importable by module and name: that
    is what lets a fresh Ray worker resolve them.

    Args:
        kind: What is registered (`workflow`, `training_backend`, ...).
        name: The name configs use.
        target: An import string `module:attr`, or an importable object.
        description: One line for `motools zoo list`.
        synthetic: A backend whose results are made up (a test double): results tables mark
            its rows `synthetic`.
    """
    _check_kind(kind)
    if not isinstance(target, str):
        module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
        if not module or not qualname or "<" in qualname:
            raise UserError(
                f"cannot register {type(target).__name__} {name!r} by object: pass its import "
                "string instead, e.g. register('workflow', name, 'my_pkg.workflows:my_workflow')"
            )
        target = f"{module}:{qualname}"
    _ensure_loaded()
    with _lock:
        _entries.setdefault(kind, {})[name] = Entry(kind, name, target, description, synthetic)


def entries(kind: Kind) -> list[Entry]:
    """Every entry of a kind, sorted by name."""
    _check_kind(kind)
    _ensure_loaded()
    with _lock:
        return sorted(_entries.get(kind, {}).values(), key=lambda e: e.name)


def available(kind: Kind) -> list[str]:
    """Registered names of a kind, sorted."""
    return [e.name for e in entries(kind)]


def is_registered(kind: Kind, name: str) -> bool:
    """Whether something of `kind` is registered under `name` (imports nothing)."""
    _check_kind(kind)
    _ensure_loaded()
    with _lock:
        return name in _entries.get(kind, {})


def is_synthetic(kind: Kind, name: str | None) -> bool:
    """True when `name` is a registered backend of `kind` that makes up its results (`dummy`)."""
    if name is None:
        return False
    _check_kind(kind)
    _ensure_loaded()
    with _lock:
        entry = _entries.get(kind, {}).get(name)
    return entry is not None and entry.synthetic


def choices_text(kind: Kind) -> str:
    """The registered names of a kind as one phrase, synthetic ones marked, for error messages."""
    shown = [f"{e.name} (synthetic, for tests)" if e.synthetic else e.name for e in entries(kind)]
    return ", ".join(shown) or "none"


def resolve(kind: Kind, name: str) -> Any:
    """Import and return what is registered under `name`.

    Raises:
        UnknownNameError: nothing of that kind has that name; the message lists what exists.
    """
    _check_kind(kind)
    _ensure_loaded()
    with _lock:
        entry = _entries.get(kind, {}).get(name)
    if entry is None:
        names = ", ".join(available(kind)) or "none"
        raise UnknownNameError(f"unknown {_LABELS[kind]} {name!r}; available: {names}")
    return import_string(entry.target, what=f"{_LABELS[kind]} {name!r}")


def reset() -> None:
    """Forget programmatic registrations (tests); entry points reload on next use."""
    global _loaded_entry_points
    with _lock:
        _entries.clear()
        _loaded_entry_points = False


def describe(entry: Entry) -> str:
    """One line about an entry: its own description, else its docstring's first line.

    Read from the source, not by importing it: listing the zoo must not import inspect-ai.
    """
    if entry.description:
        return entry.description
    module_name, _, attr = entry.target.partition(":")
    try:
        spec = importlib.util.find_spec(module_name)
        tree = ast.parse(Path(spec.origin).read_bytes()) if spec and spec.origin else None
    except (ImportError, ValueError, OSError, SyntaxError):
        return ""
    for node in tree.body if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == attr:
            return (ast.get_docstring(node) or "").strip().split("\n")[0]
        # An object built at module level (`my_workflow = Workflow(..., description="...")`):
        # its literal `description=` argument, read without running the module.
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == attr for t in node.targets)):
            for keyword in node.value.keywords:
                if keyword.arg == "description" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value).strip().split("\n")[0]
    return ""
