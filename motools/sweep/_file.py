"""Sweep files: load, validate, compile and run (or dry-run) a sweep YAML as the CLI does."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from motools._errors import ConfigError, UnknownNameError
from motools.engine._options import RunOptions, check_force
from motools.sweep._expand import _overlaps, base_config, swept_paths
from motools.sweep._overrides import apply_overrides, parse_override
from motools.sweep._run import (
    SweepPreview,
    SweepResult,
    compile_sweep,
    execute_sweep,
    preview_sweep,
    sweep_options,
)
from motools.sweep._spec import SweepSpec, load_sweep
from motools.workflow._spec import Workflow


def override_base(
    spec: SweepSpec, workflow: Workflow, base: dict[str, Any], overrides: Sequence[str]
) -> dict[str, Any]:
    """The base config with `--set PATH=VALUE` overrides applied, before the axes.

    An override changes every point; a path the sweep varies (or a section holding one) is
    refused, since the axis would overwrite it in every point. Local code paths in an override
    are relative to the working directory.

    Raises:
        ConfigError: A malformed override, an unknown path, or a swept path (one line).
    """
    from motools.workflow._code_paths import rebase_code_paths

    data = apply_overrides(base, overrides, config_class=workflow.config_class)
    swept = swept_paths(spec)
    for text in overrides:
        path, _ = parse_override(text)
        for axis_path, where in swept:
            if _overlaps(path, axis_path):
                raise ConfigError(f"--set {path}: the sweep varies it ({where}); change the "
                                  "axis in the sweep file instead")
    return rebase_code_paths(workflow.config_class, data, Path.cwd())


def _load_file(
    path: str | os.PathLike[str], options: RunOptions | None,
    overrides: Sequence[str] = (), name: str | None = None,
) -> tuple[SweepSpec, Workflow, dict[str, Any], RunOptions]:
    """Everything a sweep file says, validated on this machine before anything runs."""
    from motools.registry import resolve

    spec = load_sweep(path)
    if name is not None:
        if not name.strip():
            raise ConfigError("--name: must not be empty")
        spec = spec.model_copy(update={"name": name})
    try:
        workflow = resolve("workflow", spec.workflow)
    except UnknownNameError as exc:
        raise UnknownNameError(f"{path}: workflow: {exc}") from None
    unknown = sorted(set(spec.resources) - set(workflow.step_names))
    if unknown:
        raise ConfigError(
            f"{path}: resources: no step(s) {unknown} in workflow {spec.workflow!r}; "
            f"steps: {', '.join(workflow.step_names)}"
        )
    opts = sweep_options(spec, options)
    check_force(opts.force_rerun, workflow.step_names)
    base = base_config(spec, workflow, source_dir=Path(path).resolve().parent)
    if overrides:
        base = override_base(spec, workflow, base, overrides)
    return spec, workflow, base, opts


def run_sweep_file(
    path: str | os.PathLike[str],
    *,
    options: RunOptions | None = None,
    overrides: Sequence[str] = (),
    name: str | None = None,
) -> SweepResult:
    """Run the sweep a YAML file describes (what `motools sweep run FILE` does).

    The file's `user`, `max_parallel` and `resources` apply where `options` leaves the field
    unset. A file with a `schedule:` or `search:` section runs as an adaptive sweep.

    Args:
        path: The sweep file; its `base` is relative to its folder.
        options: How to run it (executor, store, cache policy, ...).
        overrides: `PATH=VALUE` strings (`--set`), YAML-typed, applied in order to the base
            config (`base` merged with `config`), so to every point, before the axes. A path
            the sweep varies is refused. They are recorded in the run's info.
        name: The sweep's name in the run record, instead of the file's `name`.

    Returns:
        A SweepResult; failed points are in `.failures`, never raised.

    Raises:
        UserError: the file, its workflow, its configs, an override or `options` are invalid
            (one line naming the file and key, or the override's path), before anything runs.

    Example:
        >>> options = RunOptions(executor="inline")
        >>> result = run_sweep_file("sweeps/hello_world.yaml", options=options,
        ...                         overrides=["prepare_dataset.loader_kwargs.num_samples=20"])
        >>> result.to_pandas()
    """
    spec, workflow, base, opts = _load_file(path, options, overrides, name)
    source = str(Path(path).resolve())
    if spec.schedule is not None or spec.search is not None:
        from motools.sweep.adaptive._driver import execute_adaptive

        info = {"overrides": list(overrides)} if overrides else None
        return execute_adaptive(spec, workflow, base, opts, source=source, info=info)
    points, plan = compile_sweep(spec, workflow, base, str(path), opts)
    return execute_sweep(spec, workflow, points, plan, opts, source=source, overrides=overrides)


def dry_run_sweep_file(
    path: str | os.PathLike[str],
    *,
    options: RunOptions | None = None,
    overrides: Sequence[str] = (),
    name: str | None = None,
) -> SweepPreview:
    """What `run_sweep_file` would do, per step; runs and writes nothing.

    The store is only read (its Ledger through a copy): a store that does not exist is not
    created, and a used one is left byte for byte as it was.

    Args:
        path: The sweep file.
        options: Where to look (`store`) and the cache policy (`force_rerun`).
        overrides: `PATH=VALUE` strings, as for `run_sweep_file`.
        name: The sweep's name, as for `run_sweep_file`.

    Returns:
        A SweepPreview: the expanded points and, per step, nodes, cached and to run (for an
        adaptive sweep: of its first rung or round, with the rungs in `adaptive`).
    """
    spec, workflow, base, opts = _load_file(path, options, overrides, name)
    return preview_sweep(spec, workflow, base, str(path), opts)
