"""Workflow configs: YAML loading, validation with one-line errors, and dict/schema conversion.

A workflow config has one section per step name. It is usually a `WorkflowConfig` (pydantic)
subclass, but any pydantic model or stdlib dataclass works through the free functions
(`validate_config`, `config_to_dict`, ...). Everywhere, unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

import pydantic
import pydantic_core
import yaml
from pydantic import BaseModel, ConfigDict

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
_MAX_ERRORS = 5
_MAX_REPR = 60
# Real configs are a few levels deep and a few thousand values at most (a big sweep grid). The
# bounds turn a runaway document (deep nesting, a self-referencing alias, an alias "bomb" that
# expands exponentially) into a one-line error instead of a RecursionError or a hang later on.
MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 1_000_000


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats that rejects duplicate mapping keys."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        # PyYAML silently keeps the last of two equal keys; a repeated section is a user mistake.
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


def _structured(tp: Any) -> bool:
    return isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp))


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional; a union of several structured types stays a union."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(tp) if m is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return tp


def _field_types(cls: type) -> dict[str, tuple[str, Any]]:
    """Map each accepted input key of a model or dataclass to (display name, field type)."""
    if issubclass(cls, BaseModel):
        out = {}
        for name, info in cls.model_fields.items():
            shown = info.alias or name
            out[name] = out[shown] = (shown, info.annotation)
        return out
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # unresolvable forward refs: keep the names, skip the recursion
        hints = {}
    return {
        f.name: (f.name, hints.get(f.name, f.type if not isinstance(f.type, str) else Any))
        for f in dataclasses.fields(cls)
        if f.init
    }


def _checks_extra(cls: type) -> bool:
    # Models whose author chose extra="allow" or "ignore" keep that choice; the default is strict.
    if issubclass(cls, BaseModel):
        return cls.model_config.get("extra") in (None, "forbid")
    return getattr(cls, "__pydantic_config__", {}).get("extra") in (None, "forbid")


def _type_at(tp: Any, loc: tuple[Any, ...]) -> Any:
    """Walk a type along a pydantic error location; None where the walk gets lost."""
    for part in loc:
        tp = _unwrap(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            tp = next((m for m in args if getattr(m, "__name__", None) == part), None)
        elif _structured(tp) and isinstance(part, str):
            tp = _field_types(tp).get(part, (None, None))[1]
        elif origin in (list, set, frozenset, tuple) and args and isinstance(part, int):
            tp = args[0]
        elif origin in (dict, Mapping) and len(args) == 2:
            tp = args[1]
        else:
            return None
    return _unwrap(tp)


def _unknown_key_msg(path: str, cls: Any) -> str:
    if not _structured(cls):
        return f"{path}: unknown key"
    allowed = dict.fromkeys(shown for shown, _ in _field_types(cls).values())
    return f"{path}: unknown key; allowed: {', '.join(allowed) or '(none)'}"


def _join_errors(messages: list[str]) -> str:
    shown = "; ".join(messages[:_MAX_ERRORS])
    if len(messages) > _MAX_ERRORS:
        shown += f"; and {len(messages) - _MAX_ERRORS} more"
    return _one_line(shown)


def format_validation_error(
    err: pydantic.ValidationError, prefix: str = "", *, model: Any = None
) -> str:
    """Render a pydantic ValidationError as one line naming each bad path.

    Args:
        err: The error to render.
        prefix: A dot path prepended to every location (e.g. the step section being validated).
        model: The type that was validated; lets unknown-key errors list the allowed keys.

    Returns:
        One line: `path: problem (got value)` per error, joined by "; ", at most five.
    """
    messages = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        path = _join_path(loc, prefix)
        lead = f"{path}: " if path else ""
        if e["type"] == "extra_forbidden":
            messages.append(_unknown_key_msg(path, _type_at(model, loc[:-1]) if model else None))
        elif e["type"] == "missing":
            hint = _missing_hint(model, loc) if model is not None else None
            messages.append(f"{lead}required field missing" + (f"; {hint}" if hint else ""))
        elif e["type"] == "value_error":
            # Our own validators already name the bad value; pydantic's prefix adds nothing.
            messages.append(f"{lead}{e['msg'].removeprefix('Value error, ')}")
        else:
            msg = f"{lead}{e['msg']}"
            value = e.get("input")
            if value is None or isinstance(value, (str, bytes, int, float, bool)):
                text = repr(value)
                if len(text) > _MAX_REPR:
                    text = text[: _MAX_REPR - 3] + "..."
                msg += f" (got {text})"
            messages.append(msg)
    return _join_errors(messages)


def _missing_hint(model: Any, loc: tuple[Any, ...]) -> str | None:
    """What a missing field's annotation says to choose from (e.g. the registered backends):
    metadata of `Annotated` with a `missing_hint()` method supplies it."""
    parent = _type_at(model, loc[:-1])
    if not loc or not _structured(parent) or not isinstance(loc[-1], str):
        return None
    for item in field_metadata(parent, loc[-1]):
        hint = getattr(item, "missing_hint", None)
        if callable(hint):
            return str(hint())
    return None


def field_metadata(cls: type, name: str) -> list[Any]:
    """The `Annotated` metadata of one field of a model or dataclass."""
    if issubclass(cls, BaseModel):
        info = cls.model_fields.get(name)
        return list(info.metadata) if info is not None else []
    tp = _field_types(cls).get(name, (None, None))[1]
    return list(typing.get_args(tp)[1:]) if typing.get_origin(tp) is typing.Annotated else []


def _find_unknown_keys(tp: Any, data: Any, loc: tuple[Any, ...], out: list[str]) -> None:
    tp = _unwrap(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in map(_unwrap, args) if _structured(m)]
        if len(members) == 1 and isinstance(data, Mapping):
            _find_unknown_keys(members[0], data, loc, out)
    elif _structured(tp) and isinstance(data, Mapping):
        fields = _field_types(tp)
        for key, value in data.items():
            if key not in fields:
                if _checks_extra(tp):
                    out.append(_unknown_key_msg(_join_path((*loc, key)), tp))
            else:
                _find_unknown_keys(fields[key][1], value, (*loc, key), out)
    elif origin in (list, tuple, set, frozenset) and args and isinstance(data, (list, tuple)):
        for i, item in enumerate(data):
            _find_unknown_keys(args[0], item, (*loc, i), out)
    elif origin in (dict, Mapping) and len(args) == 2 and isinstance(data, Mapping):
        for key, value in data.items():
            _find_unknown_keys(args[1], value, (*loc, key), out)


def _check_unknown_keys(config_class: type, data: Any, source: str) -> None:
    # Pydantic ignores unknown keys of stdlib dataclasses and of models left at the default
    # extra="ignore"; the product rule is that a misspelt key must never be silently dropped.
    unknown: list[str] = []
    _find_unknown_keys(config_class, data, (), unknown)
    if unknown:
        raise ConfigError(f"{source}: {_join_errors(unknown)}")


def validate_config(config_class: type, data: Any, *, source: str = "config") -> Any:
    """Build a config instance (pydantic model or dataclass) from plain data.

    Args:
        config_class: The config type.
        data: Plain data (usually a mapping from YAML), or an existing instance.
        source: What to call the data in error messages.

    Returns:
        An instance of `config_class`; an instance passed in is returned unchanged.

    Raises:
        ConfigError: Unknown keys, missing fields or wrong types (one line, with paths).
    """
    if isinstance(config_class, type) and isinstance(data, config_class):
        if isinstance(data, BaseModel):
            return data  # pydantic validated it when it was built
        # A plain dataclass instance was never validated: `learning_rate=1` must hash like 1.0.
        data = config_to_dict(data)
    if _structured(config_class) and not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping, got {type(data).__name__}")
    _check_unknown_keys(config_class, data, source)
    try:
        if isinstance(config_class, type) and issubclass(config_class, BaseModel):
            return config_class.model_validate(data)
        return pydantic.TypeAdapter(config_class).validate_python(data)
    except pydantic.ValidationError as err:
        raise ConfigError(f"{source}: {format_validation_error(err, model=config_class)}") from err
    except _InitError as err:  # pydantic runs WorkflowConfig's own __init__ when validating
        raise ConfigError(f"{source}: {err.detail}") from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain JSON-able dict of a pydantic model or dataclass config (nested ones too)."""
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json")
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return pydantic_core.to_jsonable_python(config)
    raise TypeError(f"not a config instance: {type(config).__name__}")


def config_fields(config_class: type) -> list[str]:
    """Field names of a pydantic model or dataclass config class, in declaration order."""
    if isinstance(config_class, type) and issubclass(config_class, BaseModel):
        return list(config_class.model_fields)
    if dataclasses.is_dataclass(config_class):
        return [f.name for f in dataclasses.fields(config_class)]
    raise TypeError(f"not a config class: {config_class!r}")


def config_json_schema(config_class: type) -> dict[str, Any]:
    """JSON schema of a pydantic model or dataclass config class."""
    if isinstance(config_class, type) and issubclass(config_class, BaseModel):
        return config_class.model_json_schema()
    return pydantic.TypeAdapter(config_class).json_schema()


def config_section(config: Any, name: str) -> Any:
    """The section of a workflow config for the step called `name`.

    Raises:
        ConfigError: The config has no such section.
    """
    sections = config_fields(type(config))
    if name not in sections:
        raise ConfigError(
            f"{type(config).__name__} has no section {name!r}; sections: {', '.join(sections)}"
        )
    return getattr(config, name)


class _InitError(ConfigError):
    """Raised by WorkflowConfig.__init__; validate_config re-labels it with the config's source."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class WorkflowConfig(BaseModel):
    """Base class for workflow configs: one field per step, each holding that step's config."""

    model_config = ConfigDict(extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Built directly (as on the product page), errors read as from a file: one line, a path.
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            detail = format_validation_error(exc, model=type(self))
            raise _InitError(f"{type(self).__name__}: {detail}", detail) from None

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "config") -> typing.Self:
        """Validate plain data (a mapping of step name to step config) into this config class.

        Raises:
            ConfigError: The data is not a mapping, or fails validation.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{source}: expected a mapping of step name to step config, "
                f"got {type(data).__name__}"
            )
        return validate_config(cls, data, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> typing.Self:
        """Load and validate a YAML config file.

        Raises:
            ConfigError: The file is missing, empty, malformed, or fails validation.
        """
        data = load_yaml_file(path)
        if data is None:
            raise ConfigError(f"{path}: empty config")
        from motools.workflow._code_paths import rebase_code_paths

        # `tasks/my_task.py@my_task` in the file is relative to the file.
        data = rebase_code_paths(cls, data, os.path.dirname(os.path.abspath(path)))
        return cls.from_dict(data, source=str(path))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON schema of this config class."""
        return cls.model_json_schema()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of this config."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """YAML text of this config, sections in declaration order."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
