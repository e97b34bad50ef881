"""Single flight: one execution per cache key across concurrent drivers, and concurrency groups.

Before executing, a node leases its key in the Ledger (`_leases`); a second driver that reaches the
same key waits for the first one's result instead of computing it again. Concurrency-group permits
are leases too: a group of limit K is K slot keys, and a task runs only while it holds one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from motools.atom._store import AtomStore
from motools.engine._access import LedgerApi
from motools.engine._leases import (
    EXECUTING,
    dead_local_holder,
    executing_holder,
    lease,
    lease_ttl,
    poll_seconds,
    renewed,
)
from motools.engine._node import execute_node
from motools.engine._records import StepRun
from motools.engine._settle import cached_run
from motools.workflow._plan import PlanNode

log = logging.getLogger("motools")


def _cached(node: PlanNode, inputs: Mapping[str, str], key: str, store: AtomStore,
            run_id: str, user: str | None) -> StepRun | None:
    record = store.get_step_record(key)
    if record is None or not all(store.has_atom(a) for a in record.get("outputs", {}).values()):
        return None
    return cached_run(node, inputs, key, record["outputs"], run_id, user)


def run_node_once(
    node: PlanNode,
    inputs: Mapping[str, str],
    key: str,
    store: AtomStore,
    ledger: LedgerApi,
    *,
    run_id: str,
    user: str | None,
    force: bool = False,
    write_cache: bool = True,
    preloaded: Mapping[str, Any] | None = None,
    datasets_out: dict[str, Any] | None = None,
    known_atoms: dict[str, Any] | None = None,
    holder: str | None = None,
    claimed: bool = False,
) -> StepRun:
    """Execute a node unless another driver has finished (or is finishing) the same key.

    `claimed` says the driver reserved the key for this task; the task takes the reservation
    over like any other (see `executing_holder`), so it changes nothing here.
    """
    if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
        return hit
    ttl = lease_ttl()
    mine = executing_holder(holder or run_id)
    take_over: str | None = None
    waited = False
    while (owner := ledger.claim_many([key], mine, ttl, take_over)[key]) != mine:
        if not owner.endswith(EXECUTING) or dead_local_holder(owner):
            # A reservation (this driver's or another's) for a task that has not started, or
            # the lease of a driver killed on this machine: nobody is computing the key, so
            # taking it over duplicates nothing and no one waits out a TTL.
            take_over = owner
            continue
        if not waited:
            log.warning("step %s: waiting for %s, which is computing the same key", node.name, owner)
            waited = True
        time.sleep(poll_seconds())
        if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
            return hit
    with renewed(ledger, key, mine, release=False):
        # The key may have been finished between our check and our claim.
        if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
            return hit
        group = node.step.resources.concurrency_group
        if group is not None:
            limit = node.step.resources.concurrency_limit or 1
            slots = [f"group:{group}:{i}" for i in range(limit)]
            with lease(ledger, slots, f"{run_id}/{node.plan_id[:16]}"):
                return _execute(node, inputs, key, store, run_id=run_id, user=user,
                                write_cache=write_cache, preloaded=preloaded,
                                datasets_out=datasets_out, known_atoms=known_atoms)
        return _execute(node, inputs, key, store, run_id=run_id, user=user,
                        write_cache=write_cache, preloaded=preloaded, datasets_out=datasets_out,
                        known_atoms=known_atoms)


def _execute(node: PlanNode, *args: Any, **kwargs: Any) -> StepRun:
    """execute_node, retried on a step exception only when the step opts in."""
    res = node.step.resources
    attempts = 1 + (res.max_retries if res.retry_exceptions else 0)
    for _ in range(attempts):
        record = execute_node(node, *args, **kwargs)
        if record.status == "succeeded":
            break
    return record
