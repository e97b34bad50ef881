"""The dry run of an adaptive sweep: its first rung (or round) as a plan, and its worst case."""

from __future__ import annotations

from typing import Any

from motools.engine._options import RunOptions
from motools.sweep._expand import SweepPoint, expand
from motools.sweep._spec import SweepSpec
from motools.sweep.adaptive._plan import AdaptivePlan, plan_adaptive
from motools.sweep.adaptive._search import Proposer
from motools.workflow._plan import Plan, compile_plan
from motools.workflow._spec import Workflow, with_resources


def first_plan(
    spec: SweepSpec, workflow: Workflow, base: dict[str, Any], source: str,
    options: RunOptions,
) -> tuple[AdaptivePlan, list[SweepPoint], Plan]:
    """The checked adaptive plan, and the points and plan of the first rung (or round).

    A search's first round is asked of a fresh study, exactly as the run will ask it.
    """
    adaptive = plan_adaptive(spec, workflow, base, source)
    if adaptive.search is None:
        wanted = [dict(p.overrides) for p in adaptive.points]
    else:
        trials = Proposer(adaptive.search, source).ask(
            min(adaptive.search.batch_size, adaptive.search.num_samples))
        wanted = [{**params, **combo} for _, params in trials for combo in adaptive.combos]
    first = adaptive.rungs[0]
    if adaptive.resource is not None and first is not None:
        wanted = [{**w, adaptive.resource: first} for w in wanted]
    bare = spec.model_copy(update={"grid": {}, "zip": {}, "sample": None, "points": wanted,
                                   "schedule": None, "search": None})
    points = expand(bare, workflow, base=base, source=source)
    plan = compile_plan(with_resources(workflow, options.resources), [p.config for p in points], {})
    return adaptive, points, plan
