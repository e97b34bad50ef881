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
import functools
import importlib
import importlib.util
import os
import re
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator

from motools import _hashing
from motools._errors import UnknownNameError, UserError
from motools.registry._builtins import BUILTINS, SYNTHETIC

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


# Local code, inspect's form: `tasks/my_task.py@my_task`, a path to a Python file and a name in it.
_FILE_REF = re.compile(
    r"^(?P<path>.+\.py)@(?P<attr>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")
_FILE_CONTENT_PREFIX = "file-sha256:"


def is_file_ref(target: str) -> bool:
    """True for a local code reference `path/to/file.py@name` (rather than `module:name`)."""
    return isinstance(target, str) and _FILE_REF.match(target) is not None


def absolute_file_ref(target: str, folder: str | os.PathLike[str] | None = None) -> str:
    """`path.py@name` with the path made absolute: relative to `folder` (default: the working
    directory). Any other string is returned unchanged."""
    match = _FILE_REF.match(target) if isinstance(target, str) else None
    if match is None:
        return target
    path = Path(match["path"]).expanduser()
    if not path.is_absolute():
        path = Path(folder if folder is not None else Path.cwd()) / path
    return f"{os.path.normpath(path)}@{match['attr']}"


def file_refs_by_content(value: Any) -> Any:
    """Plain data with every absolute `file.py@name` replaced by `file-sha256:<digest>@name`.

    A cache key must follow the code, not where the file lies: the same task file in two
    checkouts (or a Ray job's copy of the working dir) is one key, and an edited file a new one.
    A missing file is left as it is (the step will say so when it imports it).
    """
    if isinstance(value, dict):
        return {k: file_refs_by_content(v) for k, v in value.items()}
    if isinstance(value, list):
        return [file_refs_by_content(v) for v in value]
    match = _FILE_REF.match(value) if isinstance(value, str) else None
    if match is None or not os.path.isabs(match["path"]):
        return value
    try:
        digest = _hashing.sha256_file(match["path"])
    except OSError:
        return value
    return f"{_FILE_CONTENT_PREFIX}{digest}@{match['attr']}"


def _import_file(target: str, what: str) -> Any:
    """Import `path.py@name` by file (the path made absolute against the working directory).

    The module gets a name derived from its absolute path, so two files named `task.py` never
    share a module, and its folder goes on `sys.path` so it can import its neighbours. This runs
    the same way in a fresh Ray worker: all it needs is the path. (A file edited since it was
    imported is imported again, under another name.)
    """
    match = _FILE_REF.match(absolute_file_ref(target))
    assert match is not None
    path, attr = match["path"], match["attr"]
    if not os.path.isfile(path):
        raise UserError(f"{what} {target!r}: file not found: {path}")
    # Named by path and content: a long-lived worker imports an edited file afresh.
    content = _hashing.sha256_file(path)
    tag = _hashing.sha256_bytes(f"{path}\n{content}".encode())[:16]
    name = f"motools_local_{tag}_" + re.sub(r"\W", "_", Path(path).stem)
    module = sys.modules.get(name)
    if module is None:
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.append(folder)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UserError(f"{what} {target!r}: cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise UserError(f"{what} {target!r}: importing {path} raised {reason}") from exc
    return _attribute(module, attr, f"{what} {target!r}: {path} has no {attr!r}")


def _attribute(obj: Any, attr: str, missing: str) -> Any:
    """`obj.a.b` for `attr` "a.b"; UserError(missing) when a part is not there."""
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(missing) from None
    return obj


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
            "(dotted Python names, one ':') or 'path/to/file.py@function'"
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
    """Import `module:attr` (or `module.attr`, or a file's `path.py@attr`).

    Raises:
        UserError: One line saying why it cannot be imported.
    """
    if is_file_ref(target):
        return _import_file(target, what)
    module_name, attr = _split_target(target, what)
    return _attribute(_import_module(module_name, target, what), attr,
                      f"{what} {target!r}: module {module_name!r} has no {attr!r}")


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


@dataclass(frozen=True)
class RegisteredChoice:
    """Annotated metadata on a field that takes a registered name: a missing value is reported
    with the names to choose from (see `motools.workflow._config.format_validation_error`)."""

    kind: str

    def missing_hint(self) -> str:
        """What to say when the field is left out."""
        return f"choose one of: {choices_text(self.kind)}"  # type: ignore[arg-type]


def _registered(kind: Kind) -> Any:
    def check(name: str) -> str:
        if name not in available(kind):
            names = ", ".join(available(kind)) or "none"
            raise ValueError(f"unknown {_LABELS[kind]} {name!r}; available: {names}")
        return name

    return Annotated[str, AfterValidator(check), RegisteredChoice(kind)]


class LocalCode:
    """Annotated metadata on a field that takes an import string: a relative `file.py@name` in a
    config file is rebased onto that file's folder (see `rebase_code_paths`)."""

    @staticmethod
    def rebase(value: Any, folder: str | os.PathLike[str]) -> Any:
        """The value with a relative file path made absolute against `folder`."""
        return absolute_file_ref(value, folder)


def _file_ref_checked(value: str, *, static: bool) -> str:
    """A file reference made absolute (against the working directory), its file and name checked."""
    value = absolute_file_ref(value)
    match = _FILE_REF.match(value)
    assert match is not None
    path, attr = match["path"], match["attr"]
    if not os.path.isfile(path):
        raise ValueError(f"{value!r}: file not found: {path} (a relative path is relative to "
                         "the config or sweep file)")
    if not static or "." in attr:
        return _callable_import(value)
    # Not the cached reader: a researcher's own file changes between validations.
    return _checked_in_source(value, attr, _top_level_names.__wrapped__, path,
                              f"{value!r}: {path} has no top-level {attr!r}")


def _callable_import(value: str) -> str:
    if is_file_ref(value) and not os.path.isabs(value.rpartition("@")[0]):
        return _file_ref_checked(value, static=False)
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
    if is_file_ref(value):
        return _file_ref_checked(value, static=True)
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
    if is_file_ref(value):
        return _file_ref_checked(value, static=True)
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
    return _checked_in_source(
        value, attr, _top_level_names, spec.origin,
        f"import string {value!r}: module {module_name!r} has no {attr!r}")


def _checked_in_source(
    value: str, attr: str, read: Any, source: str, missing: str
) -> str:
    """`value` if its source defines `attr` as something callable, read without importing it.

    Unreadable source falls back to importing, which reports the module's own error in one line.
    """
    try:
        names = read(source)
    except (SyntaxError, ValueError, OSError):
        return _callable_import(value)
    if attr not in names:
        raise ValueError(missing)
    if not names[attr]:
        raise ValueError(f"{value!r} is not callable (it is assigned a literal)")
    return value


TrainingBackendName = _registered("training_backend")
EvalBackendName = _registered("eval_backend")
CallableImportString = Annotated[str, AfterValidator(_callable_import), LocalCode()]
# For callables whose modules are slow to import (eval tasks): checked from source, not imported.
LazyCallableImportString = Annotated[str, AfterValidator(_static_callable_import), LocalCode()]
TaskReference = Annotated[str, AfterValidator(_task_reference), LocalCode()]
