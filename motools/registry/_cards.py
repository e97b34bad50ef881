"""An entry's card: the literal keyword arguments of the object it names, read without importing.

A plugin that describes itself with a module-level call (`ORGANISM = Organism(name=..., paper=...)`)
can be listed by `motools zoo list` with every field, while its module (and whatever heavy library
it imports) stays unimported.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

from motools.registry._registry import Entry


def card(entry: Entry) -> dict[str, Any]:
    """The literal keyword arguments of `name = Call(...)` at module level, for `entry.target`.

    Arguments that are not literals (names, calls) are left out; so is everything when the
    target is not such an assignment, or its module cannot be found or parsed.

    Args:
        entry: A registry entry whose target is `module:NAME`.

    Returns:
        Keyword -> value (strings, numbers, tuples, lists, dicts of literals).
    """
    module_name, _, attr = entry.target.partition(":")
    try:
        spec = importlib.util.find_spec(module_name)
        tree = ast.parse(Path(spec.origin).read_bytes()) if spec and spec.origin else None
    except (ImportError, ValueError, OSError, SyntaxError):
        return {}
    for node in tree.body if tree else []:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == attr for t in node.targets)):
            fields: dict[str, Any] = {}
            for keyword in node.value.keywords:
                try:
                    fields[str(keyword.arg)] = ast.literal_eval(keyword.value)
                except ValueError:
                    continue
            return fields
    return {}
