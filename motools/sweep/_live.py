"""Live results: the points of a sweep that have finished, while it runs or after it stopped.

A sweep run records at its start each point's overrides and the plan node that runs each of its
steps (run info `sweep_points`). The Ledger commits every node's step run as it settles, so a
point whose steps have all settled is collated from those step runs exactly as the final
collation collates it; the other points are `pending` (no step settled yet) or `running` (some
did), or `interrupted` when the run is no longer running. Read-only, and cheap: one Ledger query
and, per finished point, the atoms the final collation reads too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from motools.atom._store import AtomStore
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.sweep._collate import PointOutcome, collate
from motools.sweep._expand import SweepPoint
from motools.sweep._run import POINTS_INFO, outcome

if TYPE_CHECKING:
    from motools.engine import RunRecord

UNFINISHED = ("pending", "running", "interrupted")


def live_results(store: AtomStore, run: RunRecord) -> pa.Table | None:
    """The results table of a sweep run that has not written one: finished points and the rest.

    Args:
        store: The store the run is in.
        run: A sweep run record.

    Returns:
        A table with the final collation's columns, a row per point; unfinished points have
        status `pending`, `running` or `interrupted` and no metrics. None for a run that did not
        record its points (made before this was recorded).
    """
    from motools.engine import get_ledger

    entries = run.info.get(POINTS_INFO)
    if not isinstance(entries, list):
        return None
    settled = {sr.plan_id: sr for sr in get_ledger(store).step_runs_of(run.id)}  # last one wins
    live = run.observed_status() == "running"
    workflow = str(run.info.get("workflow", run.name))
    outcomes = []
    for index, entry in enumerate(entries):
        overrides, nodes = dict(entry["overrides"]), dict(entry["nodes"])
        done = [settled[pid] for pid in nodes.values() if pid in settled]
        if len(done) == len(nodes):
            states = StepStates(StepState.from_step_run(sr) for sr in done)
            result = WorkflowResult(run.id, workflow, states, store)
            outcomes.append(outcome(SweepPoint(index, overrides, None), result))
        else:
            status = ("running" if done else "pending") if live else "interrupted"
            outcomes.append(PointOutcome(index=index, overrides=overrides, status=status))
    return collate(outcomes)


def point_counts(table: pa.Table) -> dict[str, int]:
    """How many points of a results table have each status."""
    counts: dict[str, int] = {}
    for status in table.column("status").to_pylist():
        counts[status] = counts.get(status, 0) + 1
    return counts
