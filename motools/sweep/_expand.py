"""Expand a sweep spec into points: one validated workflow config per combination of its axes.

Points, in order: the cartesian product of the `grid` axes (like `itertools.product`, keys in file
order), each crossed with the rows drawn by `sample` (if any), then each explicit `points` entry;
each of these is crossed with the `zip` rows. A dot path
(`submit_training.hyperparameters.learning_rate`) sets one nested key of a copy of the base config.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motools._errors import ConfigError
from motools.sweep._sample import draw_samples
from motools.sweep._spec import SweepSpec
from motools.workflow import (
    Workflow,
    check_paths,
    config_fields,
    load_yaml_file,
    rebase_code_paths,
    set_paths,
    validate_config,
)

_MAX_LABEL = 80


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep.

    Attributes:
        index: Position in the sweep, from 0.
        overrides: Dot path -> value set on the base config, in axis order (grid keys, then
            sampled keys, then zip keys, then the explicit point's keys).
        config: The validated instance of the workflow's config class.
    """

    index: int
    overrides: dict[str, Any]
    config: Any

    @property
    def label(self) -> str:
        """Short text naming the point's values, e.g. `learning_rate=0.001, seed=1`."""
        return _short(self.overrides)


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_sections(data: Mapping[str, Any], workflow: Workflow, where: str, prefix: str) -> None:
    sections = config_fields(workflow.config_class)
    for key in data:
        if key not in sections:
            allowed = ", ".join(sections)
            raise ConfigError(f"{where}: {prefix}{key}: unknown key; allowed: {allowed}")


def base_config(spec: SweepSpec, workflow: Workflow, *, source_dir: str | Path) -> dict[str, Any]:
    """The plain config every point starts from: `base` with `spec.config` deep-merged over it.

    Args:
        spec: The sweep spec.
        workflow: The workflow the config is for; top-level keys must be its config sections.
        source_dir: The folder `spec.base` is relative to (the sweep file's folder).

    Returns:
        A new dict (dicts merge recursively; any other value replaces the base's).

    Raises:
        ConfigError: The base file is missing, not YAML, not a mapping, or either part has a key
            that is not a section of the workflow's config.
    """
    where = str(spec.source) if spec.source is not None else "sweep"
    data: Any = {}
    if spec.base is not None:
        path = Path(source_dir) / Path(spec.base).expanduser()
        if not path.is_file():
            raise ConfigError(f"{where}: base: config file not found: {path}")
        data = load_yaml_file(path) or {}
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{path}: expected a mapping of step name to step config, got {type(data).__name__}"
            )
        _check_sections(data, workflow, str(path), "")
        # Local code paths (`tasks/my_task.py@my_task`) are relative to the file they are in.
        data = rebase_code_paths(workflow.config_class, data, path.resolve().parent)
    _check_sections(spec.config, workflow, where, "config.")
    inline = rebase_code_paths(workflow.config_class, spec.config, Path(source_dir).resolve())
    return _deep_merge(data, inline)


def point_label(index: int, overrides: Mapping[str, Any]) -> str:
    """How every table, legend and error names a point: `3 (learning_rate=0.001, seed=1)`.

    Each path is shortened to the shortest dotted suffix that tells the point's paths apart.
    """
    shown = _short(overrides)
    return f"{index} ({shown})" if shown else str(index)


def _short(overrides: Mapping[str, Any]) -> str:
    # The shortest dotted suffix that tells the point's paths apart: `learning_rate`, not the
    # whole path, unless two steps share a field name (`submit_training.backend_name`).
    parts = []
    for path, value in overrides.items():
        segments = path.split(".")
        for n in range(1, len(segments) + 1):
            name = ".".join(segments[-n:])
            clash = any(o != path and (o == name or o.endswith("." + name)) for o in overrides)
            if not clash:
                break
        parts.append(f"{name}={value}")
    text = ", ".join(parts)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 3] + "..."


def swept_paths(spec: SweepSpec) -> list[tuple[str, str]]:
    """(dot path, YAML path) of every value the sweep varies."""
    named = [(k, f"{kind}.{k}") for kind, axis in (("grid", spec.grid), ("zip", spec.zip))
             for k in axis]
    if spec.sample is not None:
        named += [(k, f"sample.params.{k}") for k in spec.sample.params]
    named += [(k, f"points[{i}].{k}") for i, point in enumerate(spec.points) for k in point]
    return named


def _check(spec: SweepSpec, workflow: Workflow, source: str) -> None:
    cls = workflow.config_class
    for kind, axis in (("grid", spec.grid), ("zip", spec.zip)):
        for key, values in axis.items():
            check_paths(cls, [(key, f"{kind}.{key}")], source=source)
            if not values:
                raise ConfigError(f"{source}: {kind}.{key}: empty list")
    sampled = [(k, f"sample.params.{k}") for k in spec.sample.params] if spec.sample is not None else []
    for named in sampled:
        check_paths(cls, [named], source=source)
    lengths = {key: len(values) for key, values in spec.zip.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{key} has {n}" for key, n in lengths.items())
        raise ConfigError(f"{source}: zip: lists differ in length: {shown}")
    zipped = [(k, f"zip.{k}") for k in spec.zip]
    check_paths(cls, [*((k, f"grid.{k}") for k in spec.grid), *sampled, *zipped], source=source)
    for i, point in enumerate(spec.points):
        if not isinstance(point, Mapping):
            raise ConfigError(f"{source}: points[{i}]: expected a mapping of dot path to value")
        # A point stands apart from the grid (it may set a grid path) but is crossed with zip.
        check_paths(cls, [*zipped, *((k, f"points[{i}].{k}") for k in point)], source=source)


def expand(
    spec: SweepSpec, workflow: Workflow, *, base: Mapping[str, Any], source: str = "sweep"
) -> list[SweepPoint]:
    """Every point of a sweep, each with its validated workflow config. Deterministic.

    Args:
        spec: The sweep spec.
        workflow: The workflow the points run; its config class validates each point.
        base: The plain config every point starts from (see `base_config`).
        source: What to call the sweep in error messages (usually the file path).

    Returns:
        The points in order: grid product x sampled rows x zip rows, then each explicit point x
        zip rows.
        A spec with no axes and no points gives one point: the base config.

    Raises:
        ConfigError: An unknown dot path, an empty axis, zip lists of unequal length, a bad
            `sample` distribution, a path set twice, a point that is not a mapping, or a
            point whose config does not validate
            (one line, naming the YAML path or the point and the config field).
    """
    _check(spec, workflow, source)
    zip_rows: list[dict[str, Any]] = [
        dict(zip(spec.zip, row, strict=True)) for row in zip(*spec.zip.values(), strict=True)
    ] or [{}]
    # With explicit points and no grid (nor sample), the empty grid product (the bare base) is no
    # point.
    searched = bool(spec.grid) or spec.sample is not None
    combos = itertools.product(*spec.grid.values()) if searched or not spec.points else []
    samples = draw_samples(spec.sample, source) if spec.sample is not None else [{}]
    heads = [{**dict(zip(spec.grid, combo, strict=True)), **row}
             for combo in combos for row in samples]
    n_grid = len(heads)
    heads += [dict(point) for point in spec.points]

    points: list[SweepPoint] = []
    for h, head in enumerate(heads):
        for row in zip_rows:
            # Axis order for the overrides: grid keys, then zip keys, then an explicit point's.
            overrides = {**head, **row} if h < n_grid else {**row, **head}
            i = len(points)
            label = f"{source} point {point_label(i, overrides)}"
            # Swept local code paths are relative to the sweep file (base values are absolute).
            data = set_paths(base, overrides, where=label, config_class=workflow.config_class,
                             folder=spec.source_dir.resolve())
            config = validate_config(workflow.config_class, data, source=label)
            points.append(SweepPoint(index=i, overrides=overrides, config=config))
    return points
