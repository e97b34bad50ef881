"""The CLI and the examples use only the public API; every error class is public in one place."""

from __future__ import annotations

import ast
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
