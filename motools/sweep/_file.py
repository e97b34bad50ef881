"""Sweep files: load, validate, compile and run (or dry-run) a sweep YAML as the CLI does."""

from __future__ import annotations

import os
from pathlib import Path

from motools._errors import ConfigError, UnknownNameError
from motools.atom._store import get_store
from motools.engine._options import RunOptions, check_force
from motools.engine._preview import preview_plan
from motools.sweep._expand import SweepPoint, base_config
from motools.sweep._run import (
    SweepPreview,
    SweepResult,
    compile_sweep,
    execute_sweep,
    sweep_options,
)
from motools.sweep._spec import SweepSpec, load_sweep
from motools.workflow._plan import Plan
from motools.workflow._spec import Workflow


def _compile_file(
    path: str | os.PathLike[str], options: RunOptions | None
) -> tuple[SweepSpec, Workflow, list[SweepPoint], Plan, RunOptions]:
    """Everything a sweep file says, validated on this machine before anything runs."""
    from motools.registry import resolve

    spec = load_sweep(path)
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
    points, plan = compile_sweep(spec, workflow, base, str(path), opts)
    return spec, workflow, points, plan, opts


def run_sweep_file(
    path: str | os.PathLike[str], *, options: RunOptions | None = None
) -> SweepResult:
    """Run the sweep a YAML file describes (what `motools sweep run FILE` does).

    The file's `user`, `max_parallel` and `resources` apply where `options` leaves the field
    at its default.

    Args:
        path: The sweep file; its `base` is relative to its folder.
        options: How to run it (executor, store, cache policy, ...).

    Returns:
        A SweepResult; failed points are in `.failures`, never raised.

    Raises:
        UserError: the file, its workflow, its configs or `options` are invalid (one line naming
            the file and key), before anything runs.

    Example:
        >>> options = RunOptions(executor="inline")
        >>> result = run_sweep_file("sweeps/hello_world.yaml", options=options)
        >>> result.to_pandas()
    """
    spec, workflow, points, plan, opts = _compile_file(path, options)
    return execute_sweep(spec, workflow, points, plan, opts, source=str(Path(path).resolve()))


def dry_run_sweep_file(
    path: str | os.PathLike[str], *, options: RunOptions | None = None
) -> SweepPreview:
    """What `run_sweep_file` would do, per step; runs and writes nothing.

    The store is only read (its Ledger through a copy): a store that does not exist is not
    created, and a used one is left byte for byte as it was.

    Args:
        path: The sweep file.
        options: Where to look (`store`) and the cache policy (`force_rerun`).

    Returns:
        A SweepPreview: the expanded points and, per step, nodes, cached and to run.
    """
    spec, workflow, points, plan, opts = _compile_file(path, options)
    steps = preview_plan(plan, get_store(opts.store), force_rerun=opts.force_rerun)
    seed = spec.sample.seed if spec.sample is not None else None
    return SweepPreview(spec.name or workflow.name, points, steps, seed)
