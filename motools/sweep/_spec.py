"""The sweep spec: one YAML file that names a workflow, a base config and the axes to vary.

Example sweep file:

    name: hello-world-lr
    workflow: train_and_evaluate
    base: hello_world.yaml          # relative to this file's folder
    grid:
      submit_training.hyperparameters.learning_rate: [1.0e-5, 1.0e-4, 1.0e-3]

Loading checks only the shape of the file; whether the dot paths and values fit the workflow's
config is checked when the spec is expanded into points (`motools.sweep._expand`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from motools._errors import ConfigError
from motools.workflow._config import format_validation_error, load_yaml_file


def _point_mapping(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("expected a mapping of dot path to value")
    return value


class SweepSpec(BaseModel):
    """A parsed, shape-checked sweep file.

    Attributes:
        name: The sweep's name; defaults to the file name without its suffix.
        workflow: A registered workflow name.
        user: Who runs the sweep; None lets the caller fill in `$USER`.
        base: A workflow config file, relative to the sweep file's folder.
        config: Inline config, deep-merged over `base`.
        grid: Dot path -> values; the cartesian product of all axes, in key order.
        zip: Dot path -> values; lists of equal length, varied together.
        points: Explicit points, each a mapping of dot path -> value.
        max_parallel: At most this many step tasks run at once; None for no cap.
        resources: Step name -> Resources field -> value (execution options only).
        source: The file the spec was loaded from (None when built from a dict). It is not a
            key of the file: the loader sets it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1)
    workflow: str = Field(min_length=1)
    user: str | None = None
    base: str | None = Field(default=None, min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    zip: dict[str, list[Any]] = Field(default_factory=dict)
    points: list[Annotated[dict[str, Any], BeforeValidator(_point_mapping)]] = Field(
        default_factory=list
    )
    max_parallel: int | None = Field(default=None, ge=1, strict=True)
    resources: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # A private attribute, so a `source:` key in the file is an unknown key, not an override.
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The sweep file this spec was loaded from, or None."""
        return self._source

    @property
    def source_dir(self) -> Path:
        """The folder `base` is relative to: the sweep file's folder, else the working directory."""
        return self._source.parent if self._source is not None else Path.cwd()


def sweep_from_dict(data: Any, *, source: str = "sweep") -> SweepSpec:
    """Validate plain data (as parsed from a sweep YAML file) into a SweepSpec.

    Args:
        data: A mapping with the sweep keys (`workflow` is required).
        source: What to call the data in error messages; `name` defaults to its stem.

    Returns:
        The spec, with `name` filled in.

    Raises:
        ConfigError: Not a mapping, an unknown key, or a value of the wrong type (one line,
            naming the key path, e.g. `sweep: max_parallel: Input should be ...`).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping of sweep keys (workflow, grid, ...), "
            f"got {type(data).__name__}"
        )
    try:
        spec = SweepSpec.model_validate(data)
    except pydantic.ValidationError as err:
        raise ConfigError(f"{source}: {format_validation_error(err, model=SweepSpec)}") from None
    if spec.name is None:
        spec = spec.model_copy(update={"name": Path(source).stem or "sweep"})
    return spec


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a sweep YAML file into a SweepSpec (shape only; see `expand` for the config checks).

    Args:
        path: The sweep file. `base` inside it is relative to the file's folder.

    Returns:
        The spec, with `name` defaulting to the file name without suffix and `source` set to
        `path`.

    Raises:
        ConfigError: The file is missing, not YAML, empty, not a mapping, or has unknown keys or
            wrong types (one line naming the file and the key path).
    """
    data = load_yaml_file(path)
    if data is None:
        raise ConfigError(f"{path}: empty sweep file; it needs at least `workflow: NAME`")
    spec = sweep_from_dict(data, source=str(path))
    spec._source = Path(path)
    return spec
