"""The inline executor: runs a plan in this process, level by level, with the cache.

Each level costs one batched Ledger lookup; each executed node is committed as soon as it finishes,
so a crash loses at most the node in flight.
"""

from __future__ import annotations

from collections.abc import Callable

from motools.atom._store import AtomStore
from motools.engine._ledger import Ledger
from motools.engine._records import StepRun
from motools.engine._settle import Force, is_forced, resolve_level
from motools.engine._single_flight import lease_holder, run_node_once
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
) -> dict[str, StepRun]:
    """Execute a plan in-process. Returns plan id -> the node's StepRun."""
    done: dict[str, StepRun] = {}

    def settle(runs: list[StepRun]) -> None:
        for sr in runs:
            done[sr.plan_id] = sr
            if observe is not None:
                observe(sr)

    for level in plan.levels():
        settled, to_run = resolve_level(
            level, done, store, ledger, run_id=run_id, user=user, force_rerun=force_rerun
        )
        ledger.commit(settled, cache=False)
        settle(settled)
        for node, inputs, key in to_run:
            record = run_node_once(
                node, inputs, key, store, ledger, run_id=run_id, user=user,
                force=is_forced(node, force_rerun), write_cache=not no_cache,
                holder=lease_holder(run_id),
            )
            ledger.commit([record], cache=not no_cache)
            settle([record])
    return done
