"""The inline executor: the shared scheduling loop with a submit that runs each chain at once.

Each executed chain is committed as soon as it finishes, so a crash loses at most the chain in
flight.
"""

from __future__ import annotations

from motools.engine._records import StepRun
from motools.engine._run_context import RunContext
from motools.engine._schedule import InlineBackend, schedule
from motools.workflow._plan import Plan


def run_inline(plan: Plan, run: RunContext, *, fuse: bool | None = None) -> dict[str, StepRun]:
    """Execute a plan in-process. Returns plan id -> the node's StepRun."""
    return schedule(plan, run, InlineBackend(run.ledger), fuse=fuse)
