"""The inline executor: the shared scheduling loop with a submit that runs each chain at once.

Each executed chain is committed as soon as it finishes, so a crash loses at most the chain in
flight.
"""

from __future__ import annotations

from collections.abc import Callable

from motools.atom._store import AtomStore
from motools.engine._ledger import Ledger
from motools.engine._records import StepRun
from motools.engine._schedule import InlineBackend, schedule
from motools.engine._settle import Force
from motools.workflow._plan import Plan

Observer = Callable[[StepRun], None]


def run_inline(
    plan: Plan,
    store: AtomStore,
    ledger: Ledger,
    *,
    run_id: str,
    user: str | None,
    force_rerun: Force = False,
    no_cache: bool = False,
    observe: Observer | None = None,
    fuse: bool | None = None,
) -> dict[str, StepRun]:
    """Execute a plan in-process. Returns plan id -> the node's StepRun."""
    return schedule(plan, store, ledger, InlineBackend(ledger), run_id=run_id, user=user,
                    force_rerun=force_rerun, no_cache=no_cache, observe=observe, fuse=fuse)
