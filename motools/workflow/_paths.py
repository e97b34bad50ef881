"""Dot paths into a workflow config: which exist, setting them, `--set` overrides, code paths.

A dot path (`submit_training.hyperparameters.learning_rate`) names one nested key of a config. The
sweep axes and the `--set PATH=VALUE` overrides of the CLI both set values by dot path, and both
go through `set_paths` here. A value's local code paths (`tasks/my_task.py@my_task`) are relative
to the file (or the working directory) the value was written in: each value is rebased once, when
it is set, and the whole config is validated once, after (`validate_config`).
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from motools._errors import ConfigError
from motools._hashing import is_secret_name
from motools.workflow._config import _field_types, _structured, _unwrap, field_metadata
from motools.workflow._yaml import yaml_load

_MAX_LISTED = 20


def _walk(tp: Any, prefix: str, seen: tuple[type, ...]) -> Iterator[tuple[str, bool]]:
    """Yield (dot path, is_free) for the leaves below `tp`; free leaves take any deeper path."""
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in map(_unwrap, typing.get_args(tp)) if _structured(m)]
        if members:  # a union of sections: a path valid in any of them is valid
            yield from dict.fromkeys(item for m in members for item in _walk(m, prefix, seen))
            return
    if _structured(tp) and tp not in seen:  # `seen` stops self-referencing models
        # Keyed by the name a file uses (the alias, if any), in declaration order.
        for name, ann in dict(_field_types(tp).values()).items():
            yield from _walk(ann, f"{prefix}.{name}" if prefix else name, (*seen, tp))
        return
    free = tp is Any or tp in (dict, Mapping) or origin in (dict, Mapping)
    yield prefix, free


def config_paths(config_class: type) -> list[str]:
    """Every dot path a sweep axis or a `--set` override may set in a config class, in order.

    Nested pydantic models and dataclasses (also inside Optional) are walked down to their
    leaves (the same type walk `validate_config` uses, so a path is listed exactly when
    validation reaches it). A free dict field (e.g. `dict[str, Any]`) is listed as
    `section.field.*`: the field itself and any path below it are valid. A whole section (a
    prefix of a listed path) is also valid to set, though not listed.

    Args:
        config_class: A pydantic model or dataclass config class.

    Returns:
        The leaf paths, e.g. `submit_training.hyperparameters.learning_rate`.
    """
    return list(_listed(config_class))


@functools.lru_cache(maxsize=256)
def _listed(config_class: type) -> tuple[str, ...]:
    return tuple(f"{path}.*" if free else path for path, free in _walk(config_class, "", ()))


def _valid(path: str, listed: Sequence[str]) -> bool:
    for known in listed:
        if known.endswith(".*"):
            root = known[:-2]
            if path == root or path.startswith(root + "."):
                return True
        if path == known or known.startswith(path + "."):
            return True
    return False


def _unknown_path_msg(where: str, path: str, listed: Sequence[str]) -> str:
    near = difflib.get_close_matches(path, listed, n=5, cutoff=0.5)
    shown = [*near, *(p for p in listed if p not in near)]
    text = ", ".join(shown[:_MAX_LISTED]) + (", ..." if len(shown) > _MAX_LISTED else "")
    return f"{where}: unknown config path; valid: {text}"


def paths_overlap(a: str, b: str) -> bool:
    """Whether two dot paths name the same key, or one names a section holding the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def check_paths(config_class: type, named: Sequence[tuple[str, str]], *,
                source: str | None = None) -> None:
    """Check dot paths that are set together: each must exist, and none may hold another.

    Args:
        config_class: The workflow config class.
        named: (dot path, where it is written, e.g. `grid.<path>`) pairs, in file order.
        source: Prefix of every message (the file, usually).

    Raises:
        ConfigError: An unknown path (the message lists the closest valid ones first), or a path
            equal to or inside one named before it (`set twice`).
    """
    listed = _listed(config_class)
    lead = f"{source}: " if source else ""
    for j, (path, where) in enumerate(named):
        if not _valid(path, listed):
            raise ConfigError(_unknown_path_msg(f"{lead}{where}", path, listed))
        for other, other_where in named[:j]:
            if paths_overlap(path, other):
                raise ConfigError(f"{lead}{where}: set twice (also by {other_where})")


def _set(data: dict[str, Any], path: str, value: Any, where: str) -> None:
    *parents, leaf = path.split(".")
    node = data
    for i, key in enumerate(parents):
        if node.get(key) is None:
            node[key] = {}
        elif not isinstance(node[key], dict):
            at = ".".join(parents[: i + 1])
            raise ConfigError(f"{where}: cannot set {path}: {at} is not a mapping "
                              f"(it is {type(node[key]).__name__})")
        node = node[key]
    node[leaf] = copy.deepcopy(value)


def set_paths(
    data: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    where: str,
    config_class: type | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """A copy of plain config data with each dot path set to its value, in order.

    Args:
        data: Plain config data; it is not changed.
        values: Dot path -> value (a later path inside an earlier one sets inside it).
        where: What to call the values in error messages (a point, `--set`).
        config_class: With `folder`, the class whose code-path fields say what to rebase.
        folder: The folder the values were written in: their relative local code paths
            (`tasks/my_task.py@my_task`) are made absolute against it.

    Returns:
        The new mapping; missing intermediate mappings are created.

    Raises:
        ConfigError: A path through a value that is not a mapping (one line, naming both).
    """
    out = copy.deepcopy(dict(data))
    for path, value in values.items():
        if config_class is not None and folder is not None:
            value = _rebased_value(config_class, path, value, folder)
        _set(out, path, value, where)
    return out


def _rebased_value(config_class: type, path: str, value: Any,
                   folder: str | os.PathLike[str]) -> Any:
    """`value` as rebased at `path` of `config_class` (the field's type says what to rebase)."""
    fragment: dict[str, Any] = {}
    _set(fragment, path, value, path)
    node: Any = rebase_code_paths(config_class, fragment, folder)
    for key in path.split("."):
        node = node[key]
    return node


def _parse_override(text: str, what: str) -> tuple[str, Any]:
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
    folder: str | os.PathLike[str] | None = None,
    fixed: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A copy of `data` with each `a.b.c=VALUE` override set, in order (a later one wins).

    The value is YAML (`1e-4` is a float, `[4, 8]` a list, `true` a bool, `x` a string), read with
    the same loader as config files, so an override means exactly what the same text in the file
    would mean. Only the path is checked here: the result goes through the same validation as
    the file.

    Args:
        data: A loaded config mapping; it is not changed.
        overrides: `PATH=VALUE` strings.
        config_class: When given, each path must be a path of this workflow config class (the
            same paths a sweep axis may set).
        what: What to call an override in error messages.
        folder: With `config_class`, the folder relative local code paths in the values are
            relative to (the working directory, for the CLI).
        fixed: (dot path, why) pairs the caller sets itself afterwards: an override equal to,
            inside or holding one is refused with `why`.

    Returns:
        The new mapping; missing intermediate mappings are created.

    Raises:
        ConfigError: A malformed override, an unknown path (the message lists valid ones), a
            fixed path, or a path through a value that is not a mapping (one line, naming the
            path).

    Example:
        >>> apply_overrides({"a": {"b": 1}}, ["a.b=2e-3", "a.c=[4, 8]"])
        {'a': {'b': 0.002, 'c': [4, 8]}}
    """
    out = dict(data)
    for text in overrides:
        path, value = _parse_override(text, what)
        if config_class is not None:
            check_paths(config_class, [(path, f"{what} {path}")])
        for other, why in fixed:
            if paths_overlap(path, other):
                raise ConfigError(f"{what} {path}: {why}")
        out = set_paths(out, {path: value}, where=f"{what} {path}", config_class=config_class,
                        folder=folder)
    return out


def rebase_code_paths(config_class: Any, data: Any, folder: str | os.PathLike[str]) -> Any:
    """A copy of plain config data with relative local-code paths made absolute against `folder`.

    Fields whose annotation carries metadata with a `rebase(value, folder)` method (import
    strings, which may name a file: `tasks/my_task.py@my_task`) are rebased; everything else is
    left as it is. Used when a config is read from a file, so a relative path means relative to
    that file, wherever the command runs.

    Args:
        config_class: The workflow config class (or a section's class).
        data: Plain config data, as read from YAML; it is not changed.
        folder: The folder of the file the data came from.

    Returns:
        The rebased copy (the data itself where it is not a mapping).
    """
    cls = _unwrap(config_class)
    if not _structured(cls) or not isinstance(data, Mapping):
        return data
    fields = _field_types(cls)
    out = dict(data)
    for key, value in data.items():
        if key not in fields:
            continue  # an unknown key: validation reports it
        rebase = [m.rebase for m in field_metadata(cls, key) if callable(getattr(m, "rebase", None))]
        if rebase:
            out[key] = rebase[0](value, folder)
        else:
            out[key] = rebase_code_paths(fields[key][1], value, folder)
    return out
