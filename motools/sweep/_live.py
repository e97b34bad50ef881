"""Live results: the points of a sweep that have finished, while it runs or after it stopped.

A sweep run stores at its start each point's overrides and the plan node that runs each of its
steps (the run file `points.json`). The Ledger commits every node's step run as it settles, so a
point whose steps have all settled is collated from those step runs exactly as the final
collation collates it; the other points are `pending` (no step settled yet) or `running` (some
did), or `interrupted` when the run is no longer running. Read-only, and cheap: one Ledger query
one run file and, per finished point, the atoms the final collation reads too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from motools.atom._store import AtomStore
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.sweep._collate import PointOutcome, collate
from motools.sweep._expand import SweepPoint
from motools.sweep._run import outcome, read_point_index

if TYPE_CHECKING:
    from motools.engine import RunRecord


def live_results(store: AtomStore, run: RunRecord) -> pa.Table | None:
    """The results table of a sweep run that has not written one: finished points and the rest.

    Args:
        store: The store the run is in.
        run: A sweep run record.

    Returns:
        A table with the final collation's columns, a row per point; unfinished points have
        status `pending`, `running` or `interrupted` and no metrics. None for a run that did not
        store its points (made before they were stored).
    """
    from motools.engine import get_ledger

    entries = read_point_index(store, run.id)
    if entries is None:
        return None
    settled = {sr.plan_id: sr for sr in get_ledger(store).step_runs_of(run.id)}  # last one wins
    live = run.observed_status() == "running"
    workflow = str(run.info.get("workflow", run.name))
    outcomes = []
    for index, entry in enumerate(entries):
        done = [settled[pid] for pid in entry.nodes.values() if pid in settled]
        if len(done) == len(entry.nodes):
            states = StepStates(StepState.from_step_run(sr) for sr in done)
            result = WorkflowResult(run.id, workflow, states, store)
            outcomes.append(outcome(SweepPoint(index, entry.overrides, None), result,
                                    entry.defaults))
        else:
            status = ("running" if done else "pending") if live else "interrupted"
            outcomes.append(PointOutcome(index=index, overrides=entry.overrides, status=status,
                                         defaults=entry.defaults))
    return collate(outcomes)



def run_results(store: AtomStore, run: RunRecord) -> tuple[pa.Table, bool] | None:
    """A sweep run's results as every reader shows them: (table, final).

    The table the run stored, else the live one collated from the points settled so far; None
    when the run has neither yet. Final only for a run that ended normally: an adaptive sweep
    stores its table after each rung, so a running or interrupted one's table is not final.
    """
    from motools.sweep._run import load_results

    table = load_results(store, run.id)
    if table is not None:
        return table, run.observed_status() in ("succeeded", "failed")
    live = live_results(store, run)
    return None if live is None else (live, False)
