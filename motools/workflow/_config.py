"""Workflow configs: YAML loading, validation with one-line errors, and dict/schema conversion.

A workflow config has one section per step name. It is usually a `WorkflowConfig` (pydantic)
subclass, but any pydantic model or stdlib dataclass works through the free functions
(`validate_config`, `config_to_dict`, ...). Everywhere, unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import types
import typing
from collections.abc import Mapping
from typing import Any

import pydantic
import pydantic_core
import yaml
from pydantic import BaseModel, ConfigDict

from motools._errors import ConfigError, UserError
from motools.workflow._yaml import _join_path, _one_line

_MAX_ERRORS = 5
_MAX_REPR = 60


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


@functools.lru_cache(maxsize=512)
def _field_types(cls: type[Any]) -> dict[str, tuple[str, Any]]:
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


def field_metadata(cls: type[Any], name: str) -> list[Any]:
    """The `Annotated` metadata of one field of a model or dataclass."""
    if issubclass(cls, BaseModel):
        info = cls.model_fields.get(name)
        return list(info.metadata) if info is not None else []
    # A class is hashable; mypy does not see `type[Any]` as Hashable (python/mypy#11470).
    tp = _field_types(cls).get(name, (None, None))[1]  # type: ignore[arg-type]
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
        return _adapter(config_class).validate_python(data)
    except pydantic.ValidationError as err:
        raise ConfigError(f"{source}: {format_validation_error(err, model=config_class)}") from err
    except _InitError as err:  # pydantic runs WorkflowConfig's own __init__ when validating
        raise ConfigError(f"{source}: {err.detail}") from None
    except UserError as err:  # a validator's own one-line refusal: say which file or point
        raise type(err)(f"{source}: {err}") from None


def _adapter(config_class: Any) -> pydantic.TypeAdapter[Any]:
    """The class's pydantic validator, built once: building one costs about 1 ms, validating
    with it microseconds, and a sweep validates one config per point."""
    try:
        return _cached_adapter(config_class)
    except TypeError:  # an unhashable type annotation
        return pydantic.TypeAdapter(config_class)


@functools.lru_cache(maxsize=512)
def _cached_adapter(config_class: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(config_class)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain JSON-able dict of a pydantic model or dataclass config (nested ones too)."""
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json")
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        plain: dict[str, Any] = pydantic_core.to_jsonable_python(config)
        return plain
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
        config: typing.Self = validate_config(cls, data, source=source)
        return config

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> typing.Self:
        """Load and validate a YAML config file.

        Raises:
            ConfigError: The file is missing, empty, malformed, or fails validation.
        """
        from motools.workflow._config_file import load_config_file

        config: typing.Self = load_config_file(cls, path)
        return config

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
