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

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from motools._errors import ConfigError, WorkflowDefinitionError
from motools._hashing import is_secret_name
from motools.sweep._sample import SampleSpec, check_distribution
from motools.sweep.adaptive._spec import ScheduleSpec, SearchSpec
from motools.workflow._config import format_validation_error
from motools.workflow._spec import Resources
from motools.workflow._yaml import load_yaml_file


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
        sample: Random search: `num_samples` points drawn with `seed` from each parameter's
            distribution, crossed with the grid (see `motools.sweep._sample`).
        schedule: Successive halving / HyperBand: points start at the smallest rung of a
            resource (n_epochs) and only the best go on (see `motools.sweep.adaptive`).
        search: Model-based search: Optuna proposes the points, a round at a time.
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
    sample: SampleSpec | None = None
    schedule: ScheduleSpec | None = None
    search: SearchSpec | None = None
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
    _check_resources(spec.resources, source)
    _check_no_secret_axes(spec, source)
    if spec.sample is not None:
        for path, law in spec.sample.params.items():
            check_distribution(law, f"{source}: sample.params.{path}")
    if spec.search is not None:
        for path, law in spec.search.params.items():
            check_distribution(law, f"{source}: search.params.{path}")
    if spec.name is None:
        spec = spec.model_copy(update={"name": Path(source).stem or "sweep"})
    return spec


def _check_no_secret_axes(spec: SweepSpec, source: str) -> None:
    """A swept value is a column of the results table and part of every point's label (printed
    in progress and failure tables): a credential must never be one. Secret-looking keys of a
    sweep *file* are already refused when it is read; this also covers `run_sweep(grid=...)`."""
    axes = [(f"{kind}.{path}", path) for kind, axis in (("grid", spec.grid), ("zip", spec.zip))
            for path in axis]
    axes += [(f"points[{i}].{path}", path) for i, point in enumerate(spec.points) for path in point]
    if spec.sample is not None:
        axes += [(f"sample.params.{path}", path) for path in spec.sample.params]
    if spec.search is not None:
        axes += [(f"search.params.{path}", path) for path in spec.search.params]
    for where, path in axes:
        if any(is_secret_name(part) for part in str(path).split(".")):
            raise ConfigError(
                f"{source}: {where}: looks like a credential; swept values are recorded in the "
                "results table, so pass secrets through environment variables instead"
            )


def _check_resources(resources: Mapping[str, Mapping[str, Any]], source: str) -> None:
    """Each entry must build a valid `Resources`; step names are checked against the workflow later.

    Checked here, with the file's name, because a bad value (`num_cpus: .inf`) would otherwise
    get as far as Ray's task options and fail there, after the run has started.
    """
    allowed = [f.name for f in dataclasses.fields(Resources)]
    for step, fields in resources.items():
        where = f"{source}: resources.{step}"
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(allowed)}")
        for name, value in fields.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where}.{name}: must be a finite number, got {value!r}")
        try:
            Resources(**fields)
        except WorkflowDefinitionError as exc:
            raise ConfigError(f"{where}.{exc}") from None


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
    if spec.base is not None:
        _check_base(spec, str(path))
    return spec


def _check_base(spec: SweepSpec, source: str) -> None:
    """`base` must be a path the OS can look up (whether the file exists is checked at expansion).

    `Path.is_file()` raises, rather than answering False, for a name too long for the file
    system, a NUL byte or `~nosuchuser`; that is bad input too, and must say so in one line.
    """
    assert spec.base is not None
    try:
        (spec.source_dir / Path(spec.base).expanduser()).is_file()
    except (OSError, ValueError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        shown = spec.base if len(spec.base) <= 60 else spec.base[:57] + "..."
        raise ConfigError(f"{source}: base: not a usable path {shown!r} ({reason})") from None
