"""Command-line style overrides: `a.b.c=VALUE`, applied to a loaded config or sweep dict.

The value is YAML (`1e-4` is a float, `[4, 8]` a list, `true` a bool, `x` a string), read with
the same loader as config files, so an override means exactly what the same text in the file
would mean. This is the building block of `--set`; it validates nothing but the path: the
result goes through the same validation as the file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from motools._errors import ConfigError
from motools._hashing import is_secret_name
from motools.sweep._expand import _unknown_path_msg, _valid, config_paths
from motools.workflow._yaml import yaml_load


def parse_override(text: str, *, what: str = "--set") -> tuple[str, Any]:
    """Split `a.b.c=VALUE` into the dot path and the YAML-typed value.

    Raises:
        ConfigError: No `=`, an empty path or segment, a credential-looking path, or a value
            that is not valid YAML (one line, naming the override).
    """
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ConfigError(f"{what} {text!r}: expected PATH=VALUE, e.g. "
                          "submit_training.hyperparameters.learning_rate=1e-4")
    if any(not part for part in path.split(".")):
        raise ConfigError(f"{what} {path}: empty segment in the dot path")
    if any(is_secret_name(part) for part in path.split(".")):
        raise ConfigError(f"{what} {path}: looks like a credential; pass secrets through "
                          "environment variables instead")
    return path, yaml_load(raw, f"{what} {path}") if raw.strip() else None


def apply_overrides(
    data: Mapping[str, Any],
    overrides: Sequence[str],
    *,
    config_class: type | None = None,
    what: str = "--set",
) -> dict[str, Any]:
    """A copy of `data` with each `a.b.c=VALUE` override set, in order (a later one wins).

    Args:
        data: A loaded config (or sweep) mapping; it is not changed.
        overrides: `PATH=VALUE` strings.
        config_class: When given, each path must be a path of this workflow config class (the
            same paths a sweep axis may set).
        what: What to call an override in error messages.

    Returns:
        The new mapping; missing intermediate mappings are created.

    Raises:
        ConfigError: A malformed override, an unknown path (the message lists valid ones), or a
            path through a value that is not a mapping (one line, naming the path).

    Example:
        >>> apply_overrides({"a": {"b": 1}}, ["a.b=2e-3", "a.c=[4, 8]"])
        {'a': {'b': 0.002, 'c': [4, 8]}}
    """
    out = copy.deepcopy(dict(data))
    listed = config_paths(config_class) if config_class is not None else None
    for text in overrides:
        path, value = parse_override(text, what=what)
        if listed is not None and not _valid(path, listed):
            raise ConfigError(_unknown_path_msg(f"{what} {path}", path, listed))
        *parents, leaf = path.split(".")
        node = out
        for i, key in enumerate(parents):
            if node.get(key) is None:
                node[key] = {}
            elif not isinstance(node[key], dict):
                at = ".".join(parents[: i + 1])
                raise ConfigError(f"{what} {path}: {at} is not a mapping "
                                  f"(it is {type(node[key]).__name__})")
            node = node[key]
        node[leaf] = value
    return out
