"""Settling what needs no execution: cache hits, nodes behind a failure, unresolvable inputs.

Shared by both executors and by `--dry-run`. One batched Ledger lookup per plan level. The pass
is pure: it reads the store and the Ledger and writes nothing; cache entries it finds stale are
returned for the caller to forget (an executor does, a dry run does not).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from motools.atom._store import AtomStore
from motools.engine._access import LedgerApi
from motools.engine._node import one_line
from motools.engine._records import StepRun
from motools.workflow._plan import Plan, PlanNode

# True: skip cache reads for every step; a set of step names: only for those steps.
Force = bool | frozenset[str]


def is_forced(node: PlanNode, force: Force) -> bool:
    """Whether cache reads are skipped for this node (only selected nodes are ever forced)."""
    return node.run and (force is True or (isinstance(force, frozenset) and node.name in force))


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


def blocker(node: PlanNode, runs: Mapping[str, StepRun]) -> StepRun | None:
    """The first upstream run of `node` that did not succeed, or None.

    The one place that decides "upstream did not succeed": the settle pass, a chain task and the
    driver's collect loop all ask it.
    """
    return next(
        (runs[u] for u in node.upstream if u in runs and runs[u].status in ("failed", "skipped")),
        None,
    )


def skipped(node: PlanNode, behind: StepRun, run_id: str, user: str | None,
            key: str | None = None) -> StepRun:
    """The record of a node that did not run because `behind` (its upstream) did not succeed."""
    return marker(node, run_id, user, status="skipped", key=key,
                  error=f"upstream step {behind.step!r} did not succeed")


def cached_run(node: PlanNode, inputs: Mapping[str, str], key: str, outputs: Mapping[str, str],
               run_id: str, user: str | None) -> StepRun:
    """The one way a cache hit becomes a StepRun (from the Ledger or from a store step record)."""
    return marker(node, run_id, user, status="cached", key=key, inputs=dict(inputs),
                  outputs=dict(outputs))


def resolve_level(
    nodes: list[PlanNode],
    done: Mapping[str, StepRun],
    store: AtomStore,
    ledger: LedgerApi,
    *,
    run_id: str,
    user: str | None,
    force_rerun: Force,
) -> tuple[list[StepRun], list[tuple[PlanNode, dict[str, str], str]], list[str]]:
    """Settle what a level can settle without running anything.

    Returns the nodes settled now (cached, skipped behind a failure, or failed to resolve inputs),
    the nodes left to execute as (node, inputs, key), and the stale cache keys found.
    """
    settled: list[StepRun] = []
    pending: list[tuple[PlanNode, dict[str, str], str]] = []
    outputs = {pid: sr.outputs for pid, sr in done.items() if sr.status in ("succeeded", "cached")}
    for node in nodes:
        if (behind := blocker(node, done)) is not None:
            settled.append(skipped(node, behind, run_id, user))
            continue
        try:
            inputs = node.resolve_inputs(outputs)
        except Exception as exc:
            settled.append(marker(node, run_id, user, status="failed", error=one_line(exc)))
            continue
        pending.append((node, inputs, node.cache_key(inputs)))

    lookup = [key for node, _, key in pending if not is_forced(node, force_rerun)]
    hits = ledger.lookup_many(lookup) if lookup else {}
    # A cache entry whose atoms left the store (deleted by hand, gc) is stale: run it again.
    stale = [k for k, outs in hits.items() if not all(store.has_atom(a) for a in outs.values())]
    for k in stale:
        del hits[k]

    to_run: list[tuple[PlanNode, dict[str, str], str]] = []
    for node, inputs, key in pending:
        if key in hits:
            settled.append(cached_run(node, inputs, key, hits[key], run_id, user))
        elif not node.run:
            settled.append(marker(node, run_id, user, status="failed", key=key, inputs=inputs,
                                   error=f"stage {node.name!r} is not selected and has no cached "
                                         "result; include it in the selected stages"))
        else:
            to_run.append((node, inputs, key))
    return settled, to_run, stale


@dataclass
class Settled:
    """What the settle pass found.

    Attributes:
        runs: The step runs of the nodes settled without execution (cached, skipped, failed).
        to_execute: The nodes left to execute, in topological order (those whose key is known
            and missed, and everything behind them).
        known_keys: Plan id -> cache key, for the nodes to execute whose key is known already.
        stale: Cache keys whose atoms left the store: the caller forgets them, or not.
    """

    runs: list[StepRun] = field(default_factory=list)
    to_execute: list[PlanNode] = field(default_factory=list)
    known_keys: dict[str, str] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)


def settle_cached(
    plan: Plan,
    store: AtomStore,
    ledger: LedgerApi,
    *,
    run_id: str,
    user: str | None,
    force_rerun: Force,
) -> Settled:
    """Settle every node that needs no execution, level by level, without running anything.

    Nothing is written, to the Ledger or anywhere: the caller commits the settled runs and
    forgets the stale keys, or (a dry run) does neither.
    """
    done: dict[str, StepRun] = {}
    out = Settled()
    behind: set[str] = set()
    for level in plan.levels():
        ready = [n for n in level if not behind.intersection(n.upstream)]
        settled, to_run, stale = resolve_level(
            ready, done, store, ledger, run_id=run_id, user=user, force_rerun=force_rerun
        )
        done.update((sr.plan_id, sr) for sr in settled)
        out.known_keys.update({n.plan_id: key for n, _, key in to_run})
        out.stale += stale
        for node in [n for n, _, _ in to_run] + [n for n in level if behind.intersection(n.upstream)]:
            behind.add(node.plan_id)
            out.to_execute.append(node)
    out.runs = list(done.values())
    return out
