"""Checking an adaptive sweep against its workflow, before anything runs, and what it may cost."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from motools._errors import ConfigError
from motools.sweep._collate import CONTEXT_COLUMNS, OVERRIDES_COLUMN, STATUS_COLUMNS, TASK_COLUMN
from motools.sweep._expand import SweepPoint, expand, swept_paths
from motools.sweep._spec import SweepSpec
from motools.sweep.adaptive._halving import brackets, worst_case
from motools.sweep.adaptive._search import distributions
from motools.sweep.adaptive._spec import Mode, SearchSpec, check_schedule_shape
from motools.workflow import Workflow, check_paths, paths_overlap, set_paths, validate_config

_NOT_METRICS = frozenset({"point", OVERRIDES_COLUMN, TASK_COLUMN, *CONTEXT_COLUMNS,
                          *STATUS_COLUMNS, "rung", "resource", "round", "trial"})


@dataclass(frozen=True)
class AdaptivePlan:
    """What an adaptive sweep will do, checked.

    Attributes:
        section: `schedule` or `search`: where the metric was given (for error messages).
        metric: The results column decisions rank by.
        mode: `max` or `min`.
        resource: The dot path the rungs set; None without `schedule:`.
        rungs: Each rung's resource value; `[None]` (one rung, the config as it is) without
            `schedule:`.
        reduction_factor: A rung keeps ceil(n / reduction_factor) of n.
        hyperband: Points split into brackets starting at successive rungs.
        points: Without `search:`, the sweep's points (its axes expanded).
        combos: With `search:`, the grid/zip rows each proposal is crossed with.
        search: The `search:` section, if any.
    """

    section: str
    metric: str
    mode: Mode
    resource: str | None
    rungs: list[int | None]
    reduction_factor: int
    hyperband: bool
    points: list[SweepPoint] = field(default_factory=list)
    combos: list[dict[str, Any]] = field(default_factory=list)
    search: SearchSpec | None = None

    def describe(self) -> dict[str, Any]:
        """The plan as plain data, kept in the run record."""
        out: dict[str, Any] = {"metric": self.metric, "mode": self.mode}
        if self.resource is not None:
            out.update(resource=self.resource, rungs=list(self.rungs),
                       reduction_factor=self.reduction_factor, hyperband=self.hyperband)
        if self.search is not None:
            out.update(algorithm=self.search.algorithm, num_samples=self.search.num_samples,
                       batch_size=self.search.batch_size, seed=self.search.seed)
        return out

    def worst_case(self) -> tuple[list[int], int, int]:
        """(points each rung may run, resource total at most, the full grid's total).

        Totals are in resource units (epochs) with warm starts: a promoted point trains only
        the difference to its previous rung. Without `schedule:` the totals are point counts.
        """
        if self.search is None:
            groups = [len(self.points)]
        else:
            batch, total = self.search.batch_size, self.search.num_samples
            groups = [min(batch, total - k * batch) for k in range(math.ceil(total / batch))]
        per_unit = 1 if self.search is None else len(self.combos)
        rungs = [r if r is not None else 1 for r in self.rungs]
        per_rung, total_units = [0] * len(rungs), 0
        for n in groups:
            first = brackets(n, len(rungs), self.reduction_factor, self.hyperband)
            counts, trained = worst_case(n, rungs, self.reduction_factor, first)
            per_rung = [a + b * per_unit for a, b in zip(per_rung, counts, strict=True)]
            total_units += trained * per_unit
        grid = sum(groups) * per_unit * rungs[-1]
        return per_rung, total_units, grid


def plan_adaptive(
    spec: SweepSpec, workflow: Workflow, base: dict[str, Any], source: str
) -> AdaptivePlan:
    """Check the `schedule:` and `search:` sections against the workflow and expand the axes.

    Raises:
        ConfigError: (one line, naming the YAML path) a resource path that is not a whole-number
            config field or is also swept; rungs that do not increase; a metric that is a
            parameter or a status column; schedule and search disagreeing on the metric or
            mode; `search:` with `sample:` or `points:`; a search parameter also on the grid.
    """
    schedule, search = spec.schedule, spec.search
    assert schedule is not None or search is not None
    section = "schedule" if schedule is not None else "search"
    metric = schedule.metric if schedule is not None else search.metric  # type: ignore[union-attr]
    mode = schedule.mode if schedule is not None else search.mode  # type: ignore[union-attr]
    if schedule is not None and search is not None and (
            (schedule.metric, schedule.mode) != (search.metric, search.mode)):
        raise ConfigError(f"{source}: search.metric/mode: {search.metric} ({search.mode}) differs "
                          f"from schedule's {schedule.metric} ({schedule.mode}); give one")
    params = {*(search.params if search is not None else ()),
              *(path for path, _ in swept_paths(spec))}
    if metric in _NOT_METRICS or metric in params:
        raise ConfigError(f"{source}: {section}.metric: {metric!r} is not a metric column; give an "
                          "eval metric (e.g. accuracy) or train_loss")
    rungs: list[int | None] = [None]
    if schedule is not None:
        check_schedule_shape(schedule, source)
        rungs = list(schedule.rung_values())
        _check_resource(spec, workflow, base, source, schedule.resource, rungs)
    points: list[SweepPoint] = []
    combos: list[dict[str, Any]] = []
    bare = spec.model_copy(update={"schedule": None, "search": None})
    if search is None:
        points = expand(bare, workflow, base=base, source=source)
    else:
        _check_search(spec, workflow, search, source)
        rows = expand(bare, workflow, base=base, source=source)
        combos = [dict(p.overrides) for p in rows]
    return AdaptivePlan(
        section=section, metric=metric, mode=mode,
        resource=schedule.resource if schedule is not None else None, rungs=rungs,
        reduction_factor=schedule.reduction_factor if schedule is not None else 3,
        hyperband=schedule is not None and schedule.kind == "hyperband",
        points=points, combos=combos, search=search)


def _check_resource(spec: SweepSpec, workflow: Workflow, base: dict[str, Any], source: str,
                    path: str, rungs: list[int | None]) -> None:
    where = f"{source}: schedule.resource"
    check_paths(workflow.config_class, [(path, "schedule.resource")], source=source)
    axes = list(swept_paths(spec))
    if spec.search is not None:
        axes += [(p, f"search.params.{p}") for p in spec.search.params]
    for axis, axis_where in axes:
        if paths_overlap(path, axis):
            raise ConfigError(f"{where}: {path} is also swept ({axis_where}); the schedule sets "
                              "it at each rung, so take it off the axes")

    def validates(value: Any) -> bool:
        data = set_paths(base, {path: value}, where=where)
        try:
            validate_config(workflow.config_class, data, source=where)
        except ConfigError:
            return False
        return True

    if validates(1.5) or not all(validates(r) for r in rungs):
        raise ConfigError(f"{where}: {path} is not a positive whole-number config field "
                          f"(it must take each rung value {rungs} and refuse 1.5)")


def _check_search(spec: SweepSpec, workflow: Workflow, search: SearchSpec, source: str) -> None:
    if spec.sample is not None:
        raise ConfigError(f"{source}: search: and sample: both draw points; give one")
    if spec.points:
        raise ConfigError(f"{source}: search: cannot be combined with explicit points:")
    axes = list(swept_paths(spec))
    for path in search.params:
        where = f"{source}: search.params.{path}"
        check_paths(workflow.config_class, [(path, f"search.params.{path}")], source=source)
        for axis, axis_where in axes:
            if paths_overlap(path, axis):
                raise ConfigError(f"{where}: also swept ({axis_where}); sweep it in one place")
    distributions(search, source)
