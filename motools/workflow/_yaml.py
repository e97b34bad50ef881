"""YAML for configs and sweep files: YAML 1.2 floats, bounded documents, one-line errors.

Parsing is `yaml.safe_load` with two changes: `1e-4` is a float (YAML 1.2), and a document's depth
and alias-expanded size are bounded. Keys that look like credentials are refused, since configs
end up in the store.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any

import yaml

from motools._errors import ConfigError

_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# YAML 1.2 floats: the exponent sign is optional and the dot is not required, so `1e-4` and `1E5`
# are floats (YAML 1.1, which PyYAML implements, reads them as strings).
_FLOAT_RE = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
# Real configs are a few levels deep and a few thousand values at most (a big sweep grid). The
# bounds turn a runaway document (deep nesting, a self-referencing alias, an alias "bomb" that
# expands exponentially) into a one-line error instead of a RecursionError or a hang later on.
MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 1_000_000


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats that rejects duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # PyYAML silently keeps the last of two equal keys; a repeated section is a user mistake.
        # A `!!map` tag on a scalar also lands here: the base class reports that one.
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r}", key_node.start_mark
                        )
                    seen.add(key)
                except TypeError:
                    continue  # unhashable key: the base class reports it
        return super().construct_mapping(node, deep=deep)


# Copy the resolver table so the global SafeLoader is untouched, then swap the float rule.
_Loader.yaml_implicit_resolvers = {
    ch: [r for r in rules if r[0] != _FLOAT_TAG]
    for ch, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_RE, list("-+0123456789."))


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def yaml_load(text: str, source: str) -> Any:
    """Parse YAML text safely, with YAML 1.2 float rules (`1e-4` is a float).

    Args:
        text: The YAML document.
        source: What to call the text in error messages (usually the file path).

    Returns:
        The parsed data; None for an empty document.

    Raises:
        ConfigError: Invalid YAML or a duplicate key (the message names line and column); a
            document nested more than `MAX_YAML_DEPTH` levels or holding more than
            `MAX_YAML_VALUES` values; a key that looks like a credential (`api_key`, `hf_token`).
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise ConfigError(
            f"{source}: invalid YAML: nested more than {MAX_YAML_DEPTH} levels deep"
        ) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = _one_line(err.problem or err.context or "malformed document")
        if mark is None:
            raise ConfigError(f"{source}: invalid YAML: {problem}") from err
        raise ConfigError(
            f"{source}: invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
        ) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: invalid YAML: {_one_line(str(err))}") from err
    _check_document(data, source)
    return data


def _shown_path(path: tuple[Any, ...]) -> str:
    shown = _join_path([p if isinstance(p, (str, int)) else repr(p) for p in path[:8]])
    return shown + ("..." if len(path) > 8 else "") or "(top level)"


def _check_document(data: Any, source: str) -> None:
    """Bound a parsed document's depth and size, and refuse secret-looking keys.

    Secrets: every config is recorded with its results (step records, eval logs, atoms a step
    writes), so a credential typed into a YAML file would be copied into the store. Credentials
    come from the environment only (`TINKER_API_KEY`, ...). A sweep's dot-path keys
    (`evaluate_model.eval_kwargs.api_key`) are checked segment by segment.

    YAML aliases make one node appear in many places (or inside itself), so depth and size are
    those of the document with every alias expanded, as every later consumer sees it. Each
    distinct node is visited once (its expanded depth and size memoized by identity): an alias
    "bomb" of a few hundred bytes that expands to 10**10 values is measured in microseconds.
    """
    from motools._hashing import is_secret_name

    def too_deep(path: tuple[Any, ...]) -> ConfigError:
        return ConfigError(
            f"{source}: {_shown_path(path)}: nested more than {MAX_YAML_DEPTH} levels deep"
        )

    cap = MAX_YAML_VALUES + 1
    measured: dict[int, tuple[int, int]] = {}  # id(container) -> (expanded depth, size)
    open_: set[int] = set()  # containers on the current path of the walk
    # Post-order walk without recursion: (node, path, children done?)
    stack: list[tuple[Any, tuple[Any, ...], bool]] = [(data, (), False)]
    while stack:
        node, path, done = stack.pop()
        if isinstance(node, Mapping):
            items: list[tuple[Any, Any]] = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue  # a scalar: depth 0, one value
        if done:
            open_.discard(id(node))
            depth, size = 1, 1
            for _, item in items:
                d, n = measured.get(id(item), (0, 1))
                depth, size = max(depth, d + 1), min(cap, size + n)
            measured[id(node)] = (depth, size)
            continue
        if id(node) in measured:  # met again through an alias: its depth adds to this path
            if len(path) + measured[id(node)][0] > MAX_YAML_DEPTH + 1:
                raise too_deep((*path, "..."))
            continue
        if id(node) in open_:
            raise ConfigError(
                f"{source}: {_shown_path(path)}: nested without end (a YAML alias used inside "
                "the node it names)"
            )
        if len(path) > MAX_YAML_DEPTH:
            raise too_deep(path)
        open_.add(id(node))
        stack.append((node, path, True))
        for key, item in items:
            if isinstance(node, Mapping) and isinstance(key, str) and any(
                map(is_secret_name, key.split("."))
            ):
                raise ConfigError(
                    f"{source}: {_shown_path((*path, key))}: looks like a credential; configs "
                    "are recorded with their results, so pass secrets through environment "
                    "variables (e.g. TINKER_API_KEY), never in a config file"
                )
            stack.append((item, (*path, key), False))
    if measured.get(id(data), (0, 1))[1] > MAX_YAML_VALUES:
        raise ConfigError(
            f"{source}: more than {MAX_YAML_VALUES} values once YAML aliases are expanded"
        )


def load_yaml_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse a UTF-8 YAML file (see `yaml_load`); None for an empty file.

    Raises:
        ConfigError: The file is missing, unreadable, not UTF-8, not valid YAML, or breaks a
            rule of `yaml_load` (depth, size, credentials).
    """
    try:
        raw = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file: {err.strerror or err}") from None
    except ValueError:  # a NUL byte in the path (only possible from Python, not a shell)
        raise ConfigError(f"{path!r}: not a valid file path") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not valid UTF-8 (bad byte at offset {err.start})") from None
    return yaml_load(text, str(path))


def _join_path(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path
