"""Import strings: `module:attr`, and local code as inspect-ai writes it, `path/to/file.py@name`.

Registry entries and config fields name code this way; it is imported only when resolved, the
same way on the driver and in a fresh Ray worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

from motools import _hashing
from motools._errors import UserError

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
