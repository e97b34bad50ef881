"""The inline executor: runs a plan in this process, level by level, with the cache.

Each level costs one batched Ledger lookup; each executed node is committed as soon as it finishes,
so a crash loses at most the node in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from motools.atom._store import AtomStore
from motools.engine._ledger import Ledger
from motools.engine._node import one_line
from motools.engine._records import StepRun
from motools.engine._single_flight import lease_holder, run_node_once
from motools.workflow._plan import Plan, PlanNode

Observer = Callable[[StepRun], None]


def marker(node: PlanNode, run_id: str, user: str | None, **fields: object) -> StepRun:
    now = time.time()
    base: dict[str, object] = {
        "run_id": run_id,
        "plan_id": node.plan_id,
        "step": node.name,
        "version": node.version,
        "config": node.config_data,
        "user": user,
        "started_at": now,
        "ended_at": now,
    }
    base.update(fields)
    return StepRun.model_validate(base)


def resolve_level(
    nodes: list[PlanNode],
    done: Mapping[str, StepRun],
    store: AtomStore,
    ledger: Ledger,
    *,
    run_id: str,
    user: str | None,
    force_rerun: bool,
) -> tuple[list[StepRun], list[tuple[PlanNode, dict[str, str], str]]]:
    """Settle what a level can settle without running anything.

    Returns the nodes settled now (cached, skipped behind a failure, or failed to resolve inputs)
    and the nodes left to execute as (node, inputs, key).
    """
    settled: list[StepRun] = []
    pending: list[tuple[PlanNode, dict[str, str], str]] = []
    outputs = {pid: sr.outputs for pid, sr in done.items() if sr.status in ("succeeded", "cached")}
    for node in nodes:
        blocked = [done[u] for u in node.upstream if done[u].status in ("failed", "skipped")]
        if blocked:
            settled.append(marker(node, run_id, user, status="skipped",
                                   error=f"upstream step {blocked[0].step!r} did not succeed"))
            continue
        try:
            inputs = node.resolve_inputs(outputs)
        except Exception as exc:
            settled.append(marker(node, run_id, user, status="failed", error=one_line(exc)))
            continue
        pending.append((node, inputs, node.cache_key(inputs)))

    lookup = [key for node, _, key in pending if not (force_rerun and node.run)]
    hits = ledger.lookup_many(lookup) if lookup else {}
    # A cache entry whose atoms left the store (deleted by hand, gc) is stale: run it again.
    stale = [k for k, outs in hits.items() if not all(store.has_atom(a) for a in outs.values())]
    if stale:
        ledger.forget(stale)
        for k in stale:
            del hits[k]

    to_run: list[tuple[PlanNode, dict[str, str], str]] = []
    for node, inputs, key in pending:
        if key in hits:
            settled.append(marker(node, run_id, user, status="cached", key=key, inputs=inputs,
                                   outputs=hits[key]))
        elif not node.run:
            settled.append(marker(node, run_id, user, status="failed", key=key, inputs=inputs,
                                   error=f"stage {node.name!r} is not selected and has no cached "
                                         "result; include it in the selected stages"))
        else:
            to_run.append((node, inputs, key))
    return settled, to_run


def run_inline(
    plan: Plan,
    store: AtomStore,
    ledger: Ledger,
    *,
    run_id: str,
    user: str | None,
    force_rerun: bool = False,
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
                force=force_rerun, write_cache=not no_cache, holder=lease_holder(run_id),
            )
            ledger.commit([record], cache=not no_cache)
            settle([record])
    return done
