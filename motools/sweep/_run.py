"""Running a sweep: every point of a spec compiled into one plan, executed once, collated."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from motools.atom._atom import Atom, EvalAtom
from motools.atom._store import AtomStore, get_store
from motools.engine._options import RunOptions, check_force, reject_removed
from motools.engine._preview import StepPlanCounts, preview_plan
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.engine._run import execute_plan
from motools.sweep._collate import PointOutcome, collate
from motools.sweep._context import point_context
from motools.sweep._expand import SweepPoint, expand
from motools.sweep._find import sweep_digest
from motools.sweep._spec import SweepSpec
from motools.sweep.adaptive._spec import ScheduleSpec, SearchSpec
from motools.workflow._config import config_to_dict
from motools.workflow._plan import Plan, compile_plan
from motools.workflow._spec import Workflow, with_resources

if TYPE_CHECKING:
    import pandas as pd

    from motools.sweep.adaptive._plan import AdaptivePlan

RESULTS_FILE = "results.parquet"
# Stored with a sweep run when it starts: each point's overrides and plan nodes, in point order.
POINTS_FILE = "points.json"


@dataclass(frozen=True)
class PointFailure:
    """One point that did not finish: which, where, and why (one line)."""

    index: int
    overrides: dict[str, Any]
    step: str
    error: str


@dataclass
class SweepResult:
    """The result of a sweep: a table with a row per point, and every point's workflow result.

    `summary` is set for an adaptive sweep: the metric, the epoch-units it `trained` against
    the full `grid`'s, and its `best` value at `best_point`.

    Example:
        >>> result.to_pandas()[["submit_training.hyperparameters.learning_rate", "accuracy"]]
        >>> result.failures
    """

    run_id: str
    name: str
    points: list[SweepPoint]
    point_results: list[WorkflowResult]
    table: pa.Table
    store: AtomStore = field(repr=False)
    results_uri: str | None = None
    summary: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when every point succeeded, was cached, or was stopped by the schedule."""
        return all(r.ok for r in self.point_results)

    @property
    def failures(self) -> list[PointFailure]:
        """Points that failed, with the first failing step and its one-line error."""
        out = []
        for point, result in zip(self.points, self.point_results, strict=True):
            failed = [s for s in result.step_states if s.status == "failed"]
            first = failed[0] if failed else next(iter(result.failures), None)
            if first is not None:
                out.append(PointFailure(point.index, point.overrides, first.name, first.error or ""))
        return out

    def to_arrow(self) -> pa.Table:
        """The results table (parameters as dot-path columns, then metrics, then status)."""
        return self.table

    def to_pandas(self) -> pd.DataFrame:
        """The results table as a pandas DataFrame."""
        return self.table.to_pandas()


@dataclass(frozen=True)
class SweepPreview:
    """What a dry run of a sweep found: its points, and per step what is cached and what runs.

    Attributes:
        name: The sweep's name.
        points: Every expanded point (index, overrides, config).
        steps: Per step: points, distinct nodes, deduplicated, cached, to run (for an
            adaptive sweep: of its first rung or round).
        sample_seed: The `sample:` seed, when points were drawn.
        adaptive: An adaptive sweep's checked plan: rungs, and `worst_case()`.
    """

    name: str
    points: list[SweepPoint]
    steps: list[StepPlanCounts]
    sample_seed: int | None = None
    adaptive: AdaptivePlan | None = None


def compile_sweep(
    spec: SweepSpec, workflow: Workflow, base: Mapping[str, Any], source: str,
    options: RunOptions | None = None,
) -> tuple[list[SweepPoint], Plan]:
    """Expand a spec into points and compile them into one deduplicated plan.

    Resources come from `options` (see `sweep_options`), else from the spec.
    """
    points = expand(spec, workflow, base=dict(base), source=source)
    resources = options.resources if options is not None else spec.resources
    plan = compile_plan(with_resources(workflow, resources), [p.config for p in points], {})
    return points, plan


def point_index(points: Sequence[SweepPoint], plan: Plan) -> bytes:
    """The POINTS_FILE of a sweep: each point's overrides and the plan node of each of its steps.

    A run file, not run info: it grows with the sweep (about 400 bytes a point), and run records
    are read whole whenever runs are listed.
    """
    steps = list(plan.points[0]) if plan.points else []
    data = {"steps": steps,
            "points": [{"overrides": p.overrides, "nodes": [nodes[s] for s in steps]}
                       for p, nodes in zip(points, plan.points, strict=True)]}
    return json.dumps(data, default=str, separators=(",", ":")).encode()


def read_point_index(
    store: AtomStore, run_id: str
) -> list[tuple[dict[str, Any], dict[str, str]]] | None:
    """(overrides, step -> plan id) of each point of a sweep run; None if it stored no index."""
    raw = store.get_run_file(run_id, POINTS_FILE)
    if raw is None:
        return None
    data = json.loads(raw)
    steps = data["steps"]
    return [(dict(p["overrides"]), dict(zip(steps, p["nodes"], strict=True)))
            for p in data["points"]]


def sweep_options(spec: SweepSpec, options: RunOptions | None) -> RunOptions:
    """The spec's `user`, `max_parallel` and `resources` under what `options` sets itself.

    A field `options` leaves at its default takes the spec's value; per-step resources merge
    field by field, the options' fields winning.
    """
    opts = options or RunOptions()
    resources = {step: dict(fields) for step, fields in spec.resources.items()}
    for step, fields in opts.resources.items():
        resources[step] = {**resources.get(step, {}), **fields}
    return opts.with_(
        user=opts.user if opts.user is not None else spec.user,
        max_parallel=opts.max_parallel if opts.max_parallel is not None else spec.max_parallel,
        resources=resources,
    )


def outcome(point: SweepPoint, result: WorkflowResult) -> PointOutcome:
    """What one point's workflow result says: its status, metrics and context columns."""
    metrics: dict[str, dict[str, Any]] = {}
    eval_atom = eval_backend = None
    for state in result.step_states:
        for atom_id in state.output_atoms.values():
            if atom_id.startswith("eval-"):
                atom = Atom.load(atom_id, store=result.store)
                if isinstance(atom, EvalAtom):
                    evaluated = atom.load()
                    metrics.update(evaluated.metrics)
                    eval_atom, eval_backend = atom_id, evaluated.backend
    statuses = {s.status for s in result.step_states}
    failed = next((s for s in result.step_states if s.status == "failed"), None)
    if failed is None and "skipped" in statuses:
        failed = next(s for s in result.step_states if s.status == "skipped")
    if failed is not None:
        status = "failed"
    else:
        status = "cached" if statuses == {"cached"} else "succeeded"
    return PointOutcome(
        index=point.index, overrides=dict(point.overrides), status=status,
        error=failed.error if failed else None, failed_step=failed.name if failed else None,
        metrics=metrics, eval_atom=eval_atom, **point_context(result, eval_backend),
    )


def execute_sweep(
    spec: SweepSpec,
    workflow: Workflow,
    points: list[SweepPoint],
    plan: Plan,
    options: RunOptions,
    *,
    source: str | None = None,
    overrides: Sequence[str] = (),
) -> SweepResult:
    """Execute a compiled sweep, collate its eval results and store the table with the run.

    Each point's overrides and plan nodes are stored with the run before it starts (POINTS_FILE),
    so the points that have finished can be collated while it runs (`motools.sweep._live`).
    """
    st = get_store(options.store)
    info: dict[str, Any] = {"source": source, "points": len(points), "workflow": workflow.name,
                            "sweep_digest": sweep_digest(spec)}
    if overrides:
        info["overrides"] = list(overrides)
    run, done = execute_plan(
        plan, st, kind="sweep", name=spec.name or workflow.name, options=options, info=info,
        run_files={POINTS_FILE: point_index(points, plan)},
    )
    results = [
        WorkflowResult(
            run.id, workflow.name,
            StepStates(StepState.from_step_run(done[pid]) for pid in mapping.values()), st,
        )
        for mapping in plan.points
    ]
    table = collate([outcome(p, r) for p, r in zip(points, results, strict=True)])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    uri = st.put_run_file(run.id, RESULTS_FILE, buffer.getvalue())
    return SweepResult(run.id, run.name, points, results, table, st, uri)


def load_results(store: AtomStore, run_id: str) -> pa.Table | None:
    """The collated results table of a sweep run, or None if it has none (yet)."""
    data = store.get_run_file(run_id, RESULTS_FILE)
    return None if data is None else pq.read_table(pa.BufferReader(data))


def run_sweep(
    workflow: Workflow | str,
    base_config: Any = None,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    zip: Mapping[str, Sequence[Any]] | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
    sample: Mapping[str, Any] | None = None,
    schedule: Mapping[str, Any] | ScheduleSpec | None = None,
    search: Mapping[str, Any] | SearchSpec | None = None,
    name: str | None = None,
    options: RunOptions | None = None,
    **removed: Any,
) -> SweepResult:
    """Run one workflow over a grid of configs, as one deduplicated, cached, fail-soft plan.

    What the sweep varies are the axes; how it runs (executor, store, user, `max_parallel`,
    per-step `resources`, cache policy, observer) is one `RunOptions`.

    Args:
        workflow: A Workflow, or the name of a registered one.
        base_config: The config every point starts from (a config instance or a dict).
        grid: Dot path -> values; the cartesian product of all axes.
        zip: Dot path -> values; lists of equal length, varied together.
        points: Explicit override dicts (dot path -> value), each one more point.
        sample: Random search, as a sweep file's `sample:` section: `{"num_samples": 8,
            "seed": 0, "params": {dot path: {"loguniform": [1e-5, 1e-2]}, ...}}`; the drawn
            points are crossed with the grid.
        schedule: Successive halving, as a sweep file's `schedule:` section: `{"metric":
            "accuracy", "resource": "submit_training.hyperparameters.n_epochs", "rungs": [1, 3,
            9]}`; every point starts at the first rung and only the best go on.
        search: Model-based search with Optuna, as a sweep file's `search:` section:
            `{"algorithm": "tpe", "metric": "accuracy", "num_samples": 16, "batch_size": 4,
            "params": {...}}`; each proposal is crossed with the grid (e.g. seeds).
        name: The sweep's name in run records (default: the workflow's name).
        options: How the sweep runs.

    Returns:
        A SweepResult; failed points are in `.failures`, never raised. An adaptive sweep's
        table has `rung`/`resource` (and `round`/`trial`) columns, and its `summary` says what
        it trained against the full grid.

    Raises:
        UserError: invalid axes, configs or options, before anything runs.
        ArgumentError: a keyword that now belongs in `options` (the message shows where).

    Example:
        >>> result = run_sweep(train_and_evaluate_workflow, config,
        ...                    grid={"submit_training.hyperparameters.learning_rate": [1e-4, 1e-3]},
        ...                    options=RunOptions(max_parallel=4))
        >>> result.to_pandas()
    """
    reject_removed("run_sweep", removed)
    opts = options or RunOptions()
    spec, wf, base = _spec_of_call(workflow, base_config, grid, zip, points, sample, schedule,
                                   search, name, opts)
    if spec.schedule is not None or spec.search is not None:
        from motools.sweep.adaptive._driver import execute_adaptive

        return execute_adaptive(spec, wf, base, opts, source="run_sweep")
    sweep_points, plan = compile_sweep(spec, wf, base, "run_sweep", opts)
    return execute_sweep(spec, wf, sweep_points, plan, opts)


def dry_run_sweep(
    workflow: Workflow | str,
    base_config: Any = None,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    zip: Mapping[str, Sequence[Any]] | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
    sample: Mapping[str, Any] | None = None,
    schedule: Mapping[str, Any] | ScheduleSpec | None = None,
    search: Mapping[str, Any] | SearchSpec | None = None,
    name: str | None = None,
    options: RunOptions | None = None,
) -> SweepPreview:
    """What `run_sweep` with these arguments would do, per step; runs and writes nothing.

    The store is only read (its Ledger through a copy): a store that does not exist is not
    created, and a used one is left byte for byte as it was. For an adaptive sweep the steps
    are those of its first rung (or round), and `adaptive` holds the rungs and the worst case.

    Returns:
        A SweepPreview: the expanded points and, per step, nodes, cached and to run.
    """
    opts = options or RunOptions()
    spec, wf, base = _spec_of_call(workflow, base_config, grid, zip, points, sample, schedule,
                                   search, name, opts)
    return preview_sweep(spec, wf, base, "run_sweep", opts)


def preview_sweep(
    spec: SweepSpec, workflow: Workflow, base: Mapping[str, Any], source: str,
    options: RunOptions,
) -> SweepPreview:
    """The dry run of a checked spec (see `dry_run_sweep`)."""
    adaptive = None
    if spec.schedule is not None or spec.search is not None:
        from motools.sweep.adaptive._preview import first_plan

        adaptive, sweep_points, plan = first_plan(spec, workflow, dict(base), source, options)
    else:
        sweep_points, plan = compile_sweep(spec, workflow, base, source, options)
    steps = preview_plan(plan, get_store(options.store), force_rerun=options.force_rerun)
    seed = spec.sample.seed if spec.sample is not None else None
    return SweepPreview(spec.name or workflow.name, sweep_points, steps, seed, adaptive)


def _spec_of_call(
    workflow: Workflow | str,
    base_config: Any,
    grid: Mapping[str, Sequence[Any]] | None,
    zip: Mapping[str, Sequence[Any]] | None,
    points: Sequence[Mapping[str, Any]] | None,
    sample: Mapping[str, Any] | None,
    schedule: Mapping[str, Any] | ScheduleSpec | None,
    search: Mapping[str, Any] | SearchSpec | None,
    name: str | None,
    options: RunOptions,
) -> tuple[SweepSpec, Workflow, dict[str, Any]]:
    """A sweep given as Python arguments, validated (nothing is run or written)."""
    from motools.registry import resolve
    from motools.sweep._spec import sweep_from_dict

    wf = resolve("workflow", workflow) if isinstance(workflow, str) else workflow
    if base_config is None:
        base: dict[str, Any] = {}
    elif isinstance(base_config, Mapping):
        base = dict(base_config)
    else:
        base = config_to_dict(base_config)
    sections = {key: value.model_dump() if isinstance(value, BaseModel) else dict(value)
                for key, value in (("sample", sample), ("schedule", schedule), ("search", search))
                if value is not None}
    spec = sweep_from_dict(
        {"name": name or wf.name, "workflow": wf.name, "user": options.user,
         "grid": dict(grid or {}), "zip": dict(zip or {}), "points": list(points or []),
         **sections, "max_parallel": options.max_parallel,
         "resources": {k: dict(v) for k, v in options.resources.items()}},
        source="run_sweep",
    )
    check_force(options.force_rerun, wf.step_names)
    return spec, wf, base


def sweep_source_dir(path: str | os.PathLike[str]) -> Path:
    """The folder a sweep file's relative `base` is read from."""
    return Path(path).resolve().parent
