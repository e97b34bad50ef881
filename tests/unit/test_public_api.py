"""The CLI and the examples use only the public API; every error class is public in one place."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import motools._errors
import motools.errors

REPO = Path(__file__).resolve().parents[2]


def private_imports(path: Path, allowed_prefix: str = "") -> list[str]:
    """`motools.*._module` imports in a file, except those under `allowed_prefix`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if (parts[0] == "motools" and any(p.startswith("_") for p in parts[1:])
                    and not (allowed_prefix and name.startswith(allowed_prefix))):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    return found


@pytest.mark.parametrize("path", sorted((REPO / "motools" / "cli").glob("*.py")),
                         ids=lambda p: p.name)
def test_the_cli_imports_only_public_modules_of_motools(path):
    assert private_imports(path, allowed_prefix="motools.cli.") == []


@pytest.mark.parametrize("path", sorted((REPO / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_import_only_public_modules_of_motools(path):
    assert private_imports(path) == []


def test_every_error_class_is_public_in_motools_errors():
    defined = {name for name, obj in inspect.getmembers(motools._errors, inspect.isclass)
               if issubclass(obj, motools._errors.MotoolsError)}
    assert defined == set(motools.errors.__all__)
    assert all(getattr(motools.errors, n) is getattr(motools._errors, n) for n in defined)


@pytest.mark.parametrize("path", sorted((REPO / "mozoo").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(REPO / "mozoo")))
def test_mozoo_imports_only_public_modules_of_motools(path):
    """mozoo is a zoo like any third party's: only `motools.<package>` names in `__all__`."""
    assert private_imports(path) == []
    unexported = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("motools."):
            exported = importlib.import_module(node.module).__all__
            unexported += [f"{node.module}.{a.name}" for a in node.names if a.name not in exported]
    assert unexported == []


def _all_modules(package: str) -> list[str]:
    root = REPO / package
    return sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in root.rglob("*.py") if p.name != "__main__.py"
    )


@pytest.mark.parametrize("module", _all_modules("motools") + _all_modules("mozoo"))
def test_every_exception_a_module_defines_is_a_motools_error_users_can_import(module):
    """An error a user can catch is in `motools.errors`, under MotoolsError. A private class
    (`_Name`) is a module's own signal: it still derives from a public error, so a caller
    catching that error catches it too, but it is not exported."""
    mod = importlib.import_module(module)
    for name, cls in vars(mod).items():
        if not (inspect.isclass(cls) and issubclass(cls, BaseException)
                and cls.__module__ == module):
            continue
        assert issubclass(cls, motools.errors.MotoolsError), f"{module}.{name}"
        if not name.startswith("_"):
            assert name in motools.errors.__all__, f"{module}.{name} is not in motools.errors"
