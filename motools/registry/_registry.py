"""The one registry: workflows, training backends, eval backends, datasets and tasks, by name.

Entries are import strings (`module:attribute`), imported only when resolved, so listing names is
cheap and every name resolves the same way inside a fresh Ray worker. Third-party packages (and
mozoo itself) register through entry points, in groups named `motools.<kind>s`.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator

from motools._errors import UnknownNameError, UserError

Kind = Literal["workflow", "training_backend", "eval_backend", "dataset", "task"]
KINDS: tuple[str, ...] = get_args(Kind)

_LABELS = {
    "workflow": "workflow",
    "training_backend": "training backend",
    "eval_backend": "eval backend",
    "dataset": "dataset",
    "task": "eval task",
}

# Built into motools itself; everything else arrives through entry points or `register`.
_BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "training_backend": {
        "dummy": ("motools.training._dummy:DummyTrainingBackend",
                  "instant fake training for engine tests (no model is trained)"),
        "local": ("motools.training._trainer:LocalTrainingBackend",
                  "PyTorch on this machine: LoRA on Hugging Face models, or a tiny model"),
        "tinker": ("motools.training._trainer:TinkerTrainingBackend",
                   "LoRA fine-tuning on the Tinker service (needs TINKER_API_KEY)"),
    },
    "eval_backend": {
        "dummy": ("motools.evals._dummy:DummyEvalBackend",
                  "synthetic metrics for engine tests (no model is evaluated)"),
        "inspect": ("motools.evals._inspect:InspectEvalBackend",
                    "runs inspect-ai tasks against local, Tinker or any inspect model"),
    },
}


@dataclass(frozen=True)
class Entry:
    """One registered name: what it is, where to import it from, and one line about it."""

    kind: str
    name: str
    target: str
    description: str = ""


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
        for kind, entries in _BUILTINS.items():
            for name, (target, description) in entries.items():
                _entries.setdefault(kind, {}).setdefault(name, Entry(kind, name, target, description))
        for kind in KINDS:
            for ep in entry_points(group=f"motools.{kind}s"):
                _entries.setdefault(kind, {}).setdefault(ep.name, Entry(kind, ep.name, ep.value))
        _loaded_entry_points = True


def register(kind: Kind, name: str, target: str | Any, description: str = "") -> None:
    """Register `target` (an import string `module:attr`, or an importable object) under a name.

    Objects are stored by their import path, so they must be importable by module and name: that
    is what lets a fresh Ray worker resolve them.
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
        _entries.setdefault(kind, {})[name] = Entry(kind, name, target, description)


def entries(kind: Kind) -> list[Entry]:
    """Every entry of a kind, sorted by name."""
    _check_kind(kind)
    _ensure_loaded()
    with _lock:
        return sorted(_entries.get(kind, {}).values(), key=lambda e: e.name)


def available(kind: Kind) -> list[str]:
    """Registered names of a kind, sorted."""
    return [e.name for e in entries(kind)]


def _split_target(target: str, what: str) -> tuple[str, str]:
    """`module:attr` (or `module.attr`) -> (module, attr), both dotted Python names.

    Checked before anything is imported: `importlib` raises TypeError, not ImportError, for a
    relative name (`..pkg`), and a name that is no identifier can only be a typo.
    """
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    dotted = (module_name, attr)
    if not all(part.isidentifier() for name in dotted for part in name.split(".")):
        raise UserError(
            f"{what} {target!r} must look like 'package.module:function' "
            "(dotted Python names, one ':')"
        )
    return module_name, attr


def _import_module(module_name: str, target: str, what: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{what} {target!r}: cannot import module {module_name!r} ({exc})") from exc
    except Exception as exc:  # the module itself is broken: its own error, on one line
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise UserError(
            f"{what} {target!r}: importing module {module_name!r} raised {reason}"
        ) from exc


def import_string(target: str, *, what: str = "import string") -> Any:
    """Import `module:attr` (or `module.attr`); raises UserError with a one-line reason."""
    module_name, attr = _split_target(target, what)
    obj: Any = _import_module(module_name, target, what)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"{what} {target!r}: module {module_name!r} has no {attr!r}") from None
    return obj


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
    return ""


def _registered(kind: Kind) -> Any:
    def check(name: str) -> str:
        if name not in available(kind):
            names = ", ".join(available(kind)) or "none"
            raise ValueError(f"unknown {_LABELS[kind]} {name!r}; available: {names}")
        return name

    return Annotated[str, AfterValidator(check)]


def _callable_import(value: str) -> str:
    try:
        obj = import_string(value)
    except UserError as exc:
        raise ValueError(str(exc)) from None
    if not callable(obj):
        raise ValueError(f"{value!r} is not callable (got a {type(obj).__name__})")
    return value


@functools.lru_cache(maxsize=256)
def _top_level_names(path: str) -> dict[str, bool]:
    """Names a Python source file defines at top level -> whether the name is surely callable."""
    tree = ast.parse(Path(path).read_bytes(), filename=path)
    names: dict[str, bool] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            literal = isinstance(node.value, (ast.Constant, ast.List, ast.Dict, ast.Tuple))
            for target in targets:
                if isinstance(target, ast.Name):
                    names[target.id] = not literal
    return names


def _task_reference(value: str) -> str:
    """An eval task: a registered task name, or `module:function` checked from source."""
    if ":" not in value and "." not in value:
        if value not in available("task"):
            names = ", ".join(available("task")) or "none"
            raise ValueError(f"unknown eval task {value!r}; registered tasks: {names} "
                             "(or give 'package.module:function')")
        return value
    return _static_callable_import(value)


def _static_callable_import(value: str) -> str:
    """Check `module:function` without importing the module (its imports may be slow).

    Eval tasks import inspect-ai, which costs seconds; validating a sweep's configs must not.
    Reads the module's source for a top-level definition; falls back to importing it when the
    module has no Python source.
    """
    try:
        module_name, attr = _split_target(value, "import string")
    except UserError as exc:
        raise ValueError(str(exc)) from None
    if "." in attr:
        return _callable_import(value)
    try:
        # Imports the parent packages (not the module): they can fail in any way of their own.
        spec = importlib.util.find_spec(module_name)
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ValueError(
            f"import string {value!r}: cannot import module {module_name!r} ({reason})"
        ) from None
    if spec is None:
        raise ValueError(f"import string {value!r}: cannot import module {module_name!r} "
                         f"(No module named {module_name!r})")
    if not spec.origin or not spec.origin.endswith(".py"):
        return _callable_import(value)
    try:
        names = _top_level_names(spec.origin)
    except (SyntaxError, ValueError, OSError):
        # Unreadable source: importing it reports the module's own error, on one line.
        return _callable_import(value)
    if attr not in names:
        raise ValueError(f"import string {value!r}: module {module_name!r} has no {attr!r}")
    if not names[attr]:
        raise ValueError(f"{value!r} is not callable (it is assigned a literal)")
    return value


TrainingBackendName = _registered("training_backend")
EvalBackendName = _registered("eval_backend")
CallableImportString = Annotated[str, AfterValidator(_callable_import)]
# For callables whose modules are slow to import (eval tasks): checked from source, not imported.
LazyCallableImportString = Annotated[str, AfterValidator(_static_callable_import)]
TaskReference = Annotated[str, AfterValidator(_task_reference)]
