"""A literal value from a published Python file, read with `ast`: the file is never executed.

Papers often publish their evaluation questions or system prompts inside Python code, not as
data. `python_literal` reads one such value without running (or trusting) that code.
"""

from __future__ import annotations

import ast
import os
from typing import Any

from motools.errors import UserError
from mozoo.sources._fetch import fetch
from mozoo.sources._kinds import Source


def _find(tree: ast.Module, name: str) -> ast.expr | None:
    head, _, keyword = name.partition(".")
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(isinstance(t, ast.Name) and t.id == head for t in targets):
                continue
            value = node.value
            if not keyword:
                return value
            if isinstance(value, ast.Call):
                return next((k.value for k in value.keywords if k.arg == keyword), None)
        if isinstance(node, ast.FunctionDef) and node.name == head and not keyword:
            returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
            return returns[0] if len(returns) == 1 else None
    return None


def python_literal(
    source: Source,
    name: str,
    *,
    local_path: str | os.PathLike[str] | None = None,
    mirror: str | os.PathLike[str] | None = None,
) -> Any:
    """A literal from a published Python file, found by name, without executing the file.

    Args:
        source: The Python file (fetched like any source: cache, mirror, local copy).
        name: `NAME` (a module-level `NAME = <literal>`), `NAME.keyword` (the literal keyword
            argument of a module-level `NAME = Call(..., keyword=<literal>)`), or a function's
            name (the literal it returns, when it has exactly one `return`).
        local_path: A copy of the file (see `fetch`).
        mirror: A folder of copies (see `fetch`).

    Returns:
        The value (strings, numbers, lists, tuples, dicts of those).

    Raises:
        SourceUnavailableError: No copy and no download (see `fetch`).
        UserError: The file has no such name, or its value is not a literal.
    """
    path = fetch(source, local_path=local_path, mirror=mirror)
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as e:
        raise UserError(f"{path}: not valid Python ({e.msg}, line {e.lineno})") from None
    node = _find(tree, name)
    if node is None:
        raise UserError(f"{source.url}: no literal {name!r} found")
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise UserError(f"{source.url}: {name!r} is not a literal") from None
