"""Running an adaptive sweep: rungs and rounds as a sequence of ordinary cached plans, one run.

Every rung (and every search round) is compiled into a plan of plain workflow configs and executed
like any sweep: cached, deduplicated, fail-soft. Only the driver decides, and it decides from the
results alone (ranked by the metric, ties by point index; rungs synchronous), so running the same
command again after a crash serves every finished rung from the cache and takes the same
decisions. A promoted point's next rung differs from its last only in the resource (`n_epochs`),
so the training backend continues from the cached shorter run instead of starting over.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from motools import __version__
from motools._errors import ConfigError
from motools.atom import Atom, atom_type_of
from motools.atom._store import AtomStore, get_store
from motools.engine._options import RunOptions
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.engine._run import OpenRun, open_run
from motools.sweep._collate import STOPPED, PointOutcome, collate, metric_columns
from motools.sweep._expand import SweepPoint, expand
from motools.sweep._find import sweep_digest
from motools.sweep._run import POINTS_FILE, RESULTS_FILE, SweepResult, outcome
from motools.sweep._spec import SweepSpec
from motools.sweep.adaptive._halving import brackets, promote
from motools.sweep.adaptive._plan import AdaptivePlan, plan_adaptive
from motools.sweep.adaptive._rungs_plot import RUNGS_FILE
from motools.sweep.adaptive._search import Proposer
from motools.workflow import Workflow, compile_plan, with_resources


@dataclass
class Unit:
    """One point of an adaptive sweep and how far it got.

    Attributes:
        index: The point's row in the results table.
        overrides: The swept values (the resource is not among them).
        group: What decisions rank: the point itself, or the search trial it belongs to (a
            trial's points differ only in a grid axis such as the seed).
        round: The search round that proposed it (None without `search:`).
        runs: Per rung it ran: (rung index, point, outcome, workflow result).
        stopped: The schedule did not promote it.
        trained: Epochs its trainings ran, as their models record it (a warm start counts only
            the epochs it added).
    """

    index: int
    overrides: dict[str, Any]
    group: int
    round: int | None = None
    runs: list[tuple[int, SweepPoint, PointOutcome, WorkflowResult]] = field(default_factory=list)
    stopped: bool = False
    trained: int = 0
    nodes: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.runs) and self.runs[-1][2].status == "failed"


@dataclass
class _Sweep:
    """What the rung loop needs, built once per sweep."""

    spec: SweepSpec
    workflow: Workflow
    base: dict[str, Any]
    source: str
    plan: AdaptivePlan
    store: AtomStore
    run: OpenRun
    units: list[Unit] = field(default_factory=list)
    running: set[int] = field(default_factory=set)


def execute_adaptive(
    spec: SweepSpec,
    workflow: Workflow,
    base: Mapping[str, Any],
    options: RunOptions,
    *,
    source: str,
    info: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Run a sweep with a `schedule:` and/or `search:` section under one run record.

    Args:
        spec: The sweep spec (checked by `plan_adaptive`).
        workflow: Its workflow.
        base: The plain base config every point starts from.
        options: How it runs.
        source: What to call the sweep in errors (the file path, or `run_sweep`).
        info: Kept in the run record.

    Returns:
        The SweepResult: a row per point with `rung`/`resource` (schedule) and `round`/`trial`
        (search) columns; `status` is `stopped` for a point the schedule did not promote.
    """
    plan = plan_adaptive(spec, workflow, dict(base), source)
    store = get_store(options.store)
    # `metric` and `mode` at the top: what the report ranks the points by.
    run_info = {"source": source, "workflow": workflow.name, "sweep_digest": sweep_digest(spec),
                "motools_version": __version__, "metric": plan.metric, "mode": plan.mode,
                "adaptive": plan.describe(), **(info or {})}
    with open_run(store, kind="sweep", name=spec.name or workflow.name, options=options,
                  info=run_info) as run:
        sweep = _Sweep(spec, workflow, dict(base), source, plan, store, run)
        if plan.search is None:
            sweep.units = [Unit(p.index, dict(p.overrides), p.index) for p in plan.points]
            _run_rungs(sweep, sweep.units)
        else:
            _run_search(sweep)
        table = _table(sweep, final=True)
        summary = cost_summary(sweep)
        run.record.info["points"] = len(sweep.units)
        run.record.info["adaptive"] = {**plan.describe(), **summary}
        run.save()
        uri = _put_table(store, run.record.id, RESULTS_FILE, table)
        # Each point's steps at its last rung: what `sweep curves` and the report read.
        steps = list(sweep.units[0].nodes) if sweep.units else []
        index = {"steps": steps, "points": [
            {"overrides": u.overrides, "nodes": [u.nodes[s] for s in steps]} for u in sweep.units]}
        store.put_run_file(run.record.id, POINTS_FILE,
                           json.dumps(index, default=str, separators=(",", ":")).encode())
    results = [u.runs[-1][3] for u in sweep.units]
    points = [SweepPoint(u.index, u.overrides, u.runs[-1][1].config) for u in sweep.units]
    return SweepResult(run.record.id, run.record.name, points, results, table, store, uri,
                       summary=summary)


def _run_search(sweep: _Sweep) -> None:
    """Rounds of `batch_size` proposals, each through the rungs; results told in point order."""
    search = sweep.plan.search
    assert search is not None
    proposer = Proposer(search, sweep.source)
    combos = sweep.plan.combos
    asked = 0
    for round_no in range(math.ceil(search.num_samples / search.batch_size)):
        trials = proposer.ask(min(search.batch_size, search.num_samples - asked))
        units: list[Unit] = []
        for t, (_, params) in enumerate(trials):
            for combo in combos:
                units.append(Unit(len(sweep.units) + len(units), {**params, **combo},
                                  group=asked + t, round=round_no))
        asked += len(trials)
        sweep.units.extend(units)
        _run_rungs(sweep, units)
        for t, (trial, _) in enumerate(trials):
            members = [u for u in units if u.group == asked - len(trials) + t]
            steps = _group_steps(sweep, members)
            status = ("failed" if any(u.failed for u in members) or not steps
                      else "pruned" if any(u.stopped for u in members) else "completed")
            proposer.tell(trial, steps, status=status)


def _group_steps(sweep: _Sweep, members: Sequence[Unit]) -> list[tuple[int, float]]:
    """(resource or rung, mean metric) at each rung every member ran with a value."""
    out = []
    rungs = sweep.plan.rungs
    for r in sorted({r for u in members for r, *_ in u.runs}):
        score = _score(sweep, members, r)
        if score is not None:
            resource = rungs[r]
            out.append((resource if resource is not None else r, score))
    return out


def _run_rungs(sweep: _Sweep, units: Sequence[Unit]) -> None:
    """Successive halving of `units` (one bracket per starting rung under HyperBand)."""
    plan = sweep.plan
    groups = sorted({u.group for u in units})
    first = dict(zip(groups, brackets(len(groups), len(plan.rungs), plan.reduction_factor,
                                      plan.hyperband), strict=True))
    scheduled: dict[int, list[Unit]] = {}
    for unit in units:
        scheduled.setdefault(first[unit.group], []).append(unit)
    for r in range(len(plan.rungs)):
        batch = scheduled.get(r, [])
        if not batch:
            continue
        sweep.running = {u.index for u in batch}
        _put_table(sweep.store, sweep.run.record.id, RESULTS_FILE, _table(sweep, final=False))
        _execute_rung(sweep, batch, r)
        sweep.running = set()
        _put_table(sweep.store, sweep.run.record.id, RUNGS_FILE, _rungs_table(sweep))
        if r == len(plan.rungs) - 1:
            continue
        for start in sorted({first[u.group] for u in batch}):  # decisions within each bracket
            bracket = [u for u in batch if first[u.group] == start]
            scores = {g: _score(sweep, [u for u in bracket if u.group == g], r)
                      for g in sorted({u.group for u in bracket})}
            promoted = set(promote(scores, plan.reduction_factor, plan.mode))
            for unit in bracket:
                if unit.group in promoted:
                    scheduled.setdefault(r + 1, []).append(unit)
                elif not unit.failed:
                    unit.stopped = True


def _execute_rung(sweep: _Sweep, batch: Sequence[Unit], r: int) -> None:
    """One plan: every unit of `batch` at rung r's resource value."""
    resource, value = sweep.plan.resource, sweep.plan.rungs[r]
    wanted = [{**u.overrides, resource: value} if resource and value is not None
              else dict(u.overrides) for u in batch]
    bare = sweep.spec.model_copy(update={"grid": {}, "zip": {}, "sample": None, "points": wanted,
                                         "schedule": None, "search": None})
    points = expand(bare, sweep.workflow, base=sweep.base, source=sweep.source)
    options = sweep.run.context.options
    plan = compile_plan(with_resources(sweep.workflow, options.resources),
                        [p.config for p in points], {})
    done = sweep.run.execute(plan)
    info = sweep.run.record.info
    info["nodes"] = info.get("nodes", 0) + len(plan.nodes)
    sweep.run.save()
    for unit, point, mapping in zip(batch, points, plan.points, strict=True):
        states = StepStates(StepState.from_step_run(done[pid]) for pid in mapping.values())
        result = WorkflowResult(sweep.run.record.id, sweep.workflow.name, states, sweep.store)
        own = SweepPoint(unit.index, unit.overrides, point.config)
        unit.runs.append((r, own, outcome(own, result), result))
        unit.nodes = dict(mapping)
        if value is not None:
            unit.trained += _epochs_trained(result, value)
    _check_metric(sweep, [u.runs[-1][2] for u in batch])


def _epochs_trained(result: WorkflowResult, rung_value: int) -> int:
    """Epochs a rung's training ran, as its model atom records them (a warm-started one counts
    only what it added); the rung's whole value where the backend records nothing; 0 when the
    point made no model."""
    for state in result.step_states:
        for atom_id in state.output_atoms.values():
            if atom_type_of(atom_id) == "model":
                info = Atom.load(atom_id, store=result.store).metadata.get("info") or {}
                epochs = info.get("epochs_trained")
                if isinstance(epochs, int) and not isinstance(epochs, bool):
                    return epochs
                return rung_value
    return 0


def _metric_value(o: PointOutcome, metric: str) -> float | None:
    """The value of `metric` in one outcome, named as the results table names it."""
    if o.status == "failed":
        return None
    value = o.train_loss if metric == "train_loss" else None
    for task, values in o.metrics.items():
        if metric in values:
            value = values[metric]
        elif metric.startswith(f"{task}/") and metric[len(task) + 1:] in values:
            value = values[metric[len(task) + 1:]]
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _check_metric(sweep: _Sweep, outcomes: Sequence[PointOutcome]) -> None:
    """Refuse a metric no step produced, once a rung has a point that succeeded."""
    ok = [o for o in outcomes if o.status != "failed"]
    metric = sweep.plan.metric
    if not ok or any(_metric_value(o, metric) is not None for o in ok):
        return
    table = collate(ok)
    shown = ", ".join(metric_columns(table)) or "none"
    raise ConfigError(f"{sweep.source}: {sweep.plan.section}.metric: no step produces "
                      f"{metric!r}; results columns: {shown}")


def _score(sweep: _Sweep, members: Sequence[Unit], r: int) -> float | None:
    """The mean metric of a group's units at rung r; None if one failed or has no value."""
    values = []
    for unit in members:
        run = next((o for rung, _, o, _ in unit.runs if rung == r), None)
        value = _metric_value(run, sweep.plan.metric) if run is not None else None
        if value is None or math.isnan(value):
            return None
        values.append(value)
    return sum(values) / len(values) if values else None


def _columns(sweep: _Sweep, unit: Unit, r: int | None) -> dict[str, int]:
    out: dict[str, int] = {}
    if sweep.plan.resource is not None and r is not None:
        out["rung"] = r
        out["resource"] = int(sweep.plan.rungs[r])  # type: ignore[arg-type]
    if unit.round is not None:
        out["round"], out["trial"] = unit.round, unit.group
    return out


def _row(sweep: _Sweep, unit: Unit, final: bool) -> PointOutcome:
    if not unit.runs:
        return PointOutcome(index=unit.index, overrides=unit.overrides,
                            status="running" if unit.index in sweep.running else "pending",
                            schedule=_columns(sweep, unit, None))
    r, _, last, _ = unit.runs[-1]
    status = last.status
    if unit.stopped:
        status = STOPPED
    elif not final and unit.index in sweep.running:
        status = "running"
    return dataclasses.replace(last, status=status, schedule=_columns(sweep, unit, r))


def _table(sweep: _Sweep, final: bool) -> pa.Table:
    return collate([_row(sweep, u, final) for u in sweep.units])


def _rungs_table(sweep: _Sweep) -> pa.Table:
    return collate([dataclasses.replace(o, index=u.index, schedule=_columns(sweep, u, r))
                    for u in sweep.units for r, _, o, _ in u.runs])


def _put_table(store: AtomStore, run_id: str, name: str, table: pa.Table) -> str:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return store.put_run_file(run_id, name, buffer.getvalue())


def cost_summary(sweep: _Sweep) -> dict[str, Any]:
    """What the adaptive sweep trained against the full grid, and its best point.

    `trained` counts the epochs the sweep's trainings ran, as their models record them: with
    warm starts a point that reached rung r trained rung r's value once; a backend that trains
    from scratch (or records nothing) pays every rung in full. The best is taken among the groups (points, or search trials: the mean over their seeds) that
    got furthest, since a lower rung's number is not comparable with a fully trained one's.
    """
    plan, units = sweep.plan, sweep.units
    out: dict[str, Any] = {"metric": plan.metric, "mode": plan.mode}
    if plan.resource is not None:
        out["trained"] = sum(u.trained for u in units)
        out["grid"] = len(units) * int(plan.rungs[-1])  # type: ignore[arg-type]
    best = None
    for group in sorted({u.group for u in units}):
        members = [u for u in units if u.group == group]
        if any(not u.runs or u.failed for u in members):
            continue
        r = min(u.runs[-1][0] for u in members)
        value = _score(sweep, members, r)
        if value is None:
            continue
        key = (r, value if plan.mode == "max" else -value)
        if best is None or key > best[0]:
            best = (key, members[0].index, value)
    if best is not None:
        out["best_point"], out["best"] = best[1], best[2]
    return out
