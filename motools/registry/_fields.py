"""Config field types that name registered things or code, checked when a config validates.

`TrainingBackendName`, `EvalBackendName`: a registered name (a missing one lists the choices).
`CallableImportString`, `LazyCallableImportString`, `TaskReference`: code, as an import string or a
local `file.py@name`, rebased onto the config file's folder when read from a file (`LocalCode`).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from motools._errors import UserError
from motools.registry._imports import (
    _FILE_REF,
    _split_target,
    absolute_file_ref,
    import_string,
    is_file_ref,
)
from motools.registry._registry import _LABELS, Kind, available, choices_text


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
