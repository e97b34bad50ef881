"""Running a sweep: every point of a spec compiled into one plan, executed once, collated."""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from motools._errors import ConfigError
from motools.atom._atom import Atom, EvalAtom
from motools.atom._store import AtomStore, get_store
from motools.engine._progress import RunObserver
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.engine._run import ExecutorName, execute_plan, get_ledger
from motools.engine._settle import Force, settle_cached
from motools.sweep._collate import PointOutcome, collate
from motools.sweep._context import point_context
from motools.sweep._expand import SweepPoint, expand
from motools.sweep._find import sweep_digest
from motools.sweep._spec import SweepSpec
from motools.workflow._config import config_to_dict
from motools.workflow._plan import Plan, compile_plan
from motools.workflow._spec import Workflow, with_resources

if TYPE_CHECKING:
    import pandas as pd

RESULTS_FILE = "results.parquet"


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

    @property
    def ok(self) -> bool:
        """True when every point succeeded or was cached."""
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
class StepPlanCounts:
    """What a dry run found for one step."""

    step: str
    points: int
    nodes: int
    cached: int
    to_run: int

    @property
    def deduplicated(self) -> int:
        """Point-steps that share a node with another point (computed once for all)."""
        return self.points - self.nodes


def compile_sweep(
    spec: SweepSpec, workflow: Workflow, base: Mapping[str, Any], source: str
) -> tuple[list[SweepPoint], Plan]:
    """Expand a spec into points and compile them into one deduplicated plan."""
    points = expand(spec, workflow, base=dict(base), source=source)
    plan = compile_plan(with_resources(workflow, spec.resources), [p.config for p in points], {})
    return points, plan


def dry_run(
    plan: Plan, points: Sequence[SweepPoint], store: AtomStore, force_rerun: Force = False
) -> list[StepPlanCounts]:
    """Per step: points, unique nodes, cached, to run. Runs and writes nothing."""
    settled, to_run, _ = settle_cached(
        plan, store, get_ledger(store), run_id="dry-run", user=None, force_rerun=force_rerun
    )
    cached = Counter(plan.nodes[sr.plan_id].name for sr in settled if sr.status == "cached")
    running = Counter(node.name for node in to_run)
    nodes = Counter(node.name for node in plan.nodes.values())
    uses = Counter(step for point in plan.points for step in point)
    return [
        StepPlanCounts(step, uses[step], nodes[step], cached[step], running[step])
        for step in plan.workflow.step_names if step in nodes
    ]


def _outcome(point: SweepPoint, result: WorkflowResult) -> PointOutcome:
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
    *,
    store: str | os.PathLike[str] | AtomStore | None = None,
    force_rerun: Force = False,
    no_cache: bool = False,
    executor: ExecutorName = "ray",
    address: str | None = None,
    observe: RunObserver | None = None,
    source: str | None = None,
) -> SweepResult:
    """Execute a compiled sweep, collate its eval results and store the table with the run."""
    st = get_store(store)
    run, done = execute_plan(
        plan, st, kind="sweep", name=spec.name or workflow.name, user=spec.user,
        force_rerun=force_rerun, no_cache=no_cache, executor=executor, address=address,
        observe=observe, max_parallel=spec.max_parallel,
        info={"source": source, "points": len(points), "workflow": workflow.name,
              "sweep_digest": sweep_digest(spec)},
    )
    results = [
        WorkflowResult(run.id, workflow.name,
                       StepStates(StepState.from_step_run(done[pid]) for pid in mapping.values()), st)
        for mapping in plan.points
    ]
    table = collate([_outcome(p, r) for p, r in zip(points, results, strict=True)])
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
    user: str | None = None,
    max_parallel: int | None = None,
    name: str | None = None,
    resources: Mapping[str, Mapping[str, Any]] | None = None,
    force_rerun: bool | Collection[str] = False,
    no_cache: bool = False,
    store: str | os.PathLike[str] | AtomStore | None = None,
    executor: ExecutorName = "ray",
    address: str | None = None,
    observe: RunObserver | None = None,
) -> SweepResult:
    """Run one workflow over a grid of configs, as one deduplicated, cached, fail-soft plan.

    Args:
        workflow: A Workflow, or the name of a registered one.
        base_config: The config every point starts from (a config instance or a dict).
        grid: Dot path -> values; the cartesian product of all axes.
        zip: Dot path -> values; lists of equal length, varied together.
        points: Explicit override dicts (dot path -> value), each one more point.
        user: Recorded as the creator of everything the sweep produces.
        max_parallel: At most this many step tasks in flight at once.
        name: The sweep's name in run records (default: the workflow's name).
        resources: Per-step overrides of `Resources` fields.
        force_rerun: True, or step names whose cache reads are skipped.
        no_cache: Record nothing this sweep computes in the cache.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).
        executor: `ray` (default) or `inline`.
        address: Ray cluster address (default: `RAY_ADDRESS`, else a private local Ray).
        observe: Told the plan, then each step run as it settles (e.g. a ProgressDisplay).

    Returns:
        A SweepResult; failed points are in `.failures`, never raised.

    Example:
        >>> result = run_sweep(train_and_evaluate_workflow, config,
        ...                    grid={"submit_training.hyperparameters.learning_rate": [1e-4, 1e-3]})
        >>> result.to_pandas()
    """
    from motools.registry import resolve
    from motools.sweep._spec import sweep_from_dict

    wf = resolve("workflow", workflow) if isinstance(workflow, str) else workflow
    if base_config is None:
        base: dict[str, Any] = {}
    elif isinstance(base_config, Mapping):
        base = dict(base_config)
    else:
        base = config_to_dict(base_config)
    spec = sweep_from_dict(
        {"name": name or wf.name, "workflow": wf.name, "user": user, "grid": dict(grid or {}),
         "zip": dict(zip or {}), "points": list(points or []), "max_parallel": max_parallel,
         "resources": {k: dict(v) for k, v in (resources or {}).items()}},
        source="run_sweep",
    )
    sweep_points, plan = compile_sweep(spec, wf, base, "run_sweep")
    force: Force = force_rerun if isinstance(force_rerun, bool) else frozenset(force_rerun)
    unknown = sorted(set(force) - set(wf.step_names)) if isinstance(force, frozenset) else []
    if unknown:
        raise ConfigError(f"force_rerun: no step(s) {unknown}; steps: {', '.join(wf.step_names)}")
    return execute_sweep(spec, wf, sweep_points, plan, store=store, force_rerun=force,
                         no_cache=no_cache, executor=executor, address=address, observe=observe)


def sweep_source_dir(path: str | os.PathLike[str]) -> Path:
    """The folder a sweep file's relative `base` is read from."""
    return Path(path).resolve().parent
