"""Single flight: one execution per cache key across concurrent drivers, and concurrency groups.

Before executing, a node leases its key in the Ledger; a second driver that reaches the same key
waits for the first one's result instead of computing it again. Leases carry an expiry that a
heartbeat renews while the step runs, so a lease whose holder died (a killed driver takes its tasks
with it) expires and is taken over. Concurrency-group permits are leases too: a group of limit K is
K slot keys, and a task runs only while it holds one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from motools.atom._store import AtomStore
from motools.engine._node import execute_node
from motools.engine._records import StepRun
from motools.workflow._plan import PlanNode

log = logging.getLogger("motools")


class LeaseLedger(Protocol):
    """The part of the Ledger API single flight needs (a Ledger or the actor's proxy)."""

    def claim_many(
        self, keys: Sequence[str], holder: str, ttl: float, take_over: str | None = None
    ) -> dict[str, str]: ...
    def claim_any(self, keys: Sequence[str], holder: str, ttl: float) -> str | None: ...
    def release(self, keys: Sequence[str], holder: str) -> None: ...


def lease_holder(run_id: str) -> str:
    """`run@host:pid` of the driver, so a rerun on the same host can tell a dead holder."""
    return f"{run_id}@{socket.gethostname()}:{os.getpid()}"


def _dead_local_holder(holder: str) -> bool:
    _, _, where = holder.rpartition("@")
    host, _, pid = where.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_ttl() -> float:
    """Seconds a lease lives without renewal (`MOTOOLS_LEASE_TTL`, default 60)."""
    return float(os.environ.get("MOTOOLS_LEASE_TTL", "60"))


def _poll_seconds() -> float:
    return min(1.0, lease_ttl() / 10)


@contextmanager
def _heartbeat(ledger: LeaseLedger, keys: list[str], holder: str) -> Iterator[None]:
    """Renew leases every third of their TTL until the block ends, then release them."""
    stop = threading.Event()
    ttl = lease_ttl()

    def renew() -> None:
        while not stop.wait(ttl / 3):
            try:
                ledger.claim_many(keys, holder, ttl)
            except Exception:  # a restarting Ledger actor: try again next beat
                pass

    thread = threading.Thread(target=renew, name="motools-lease-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        ledger.release(keys, holder)


def _cached(node: PlanNode, inputs: Mapping[str, str], key: str, store: AtomStore,
            run_id: str, user: str | None) -> StepRun | None:
    record = store.get_step_record(key)
    if record is None or not all(store.has_atom(a) for a in record.get("outputs", {}).values()):
        return None
    now = time.time()
    return StepRun(
        run_id=run_id, plan_id=node.plan_id, key=key, step=node.name, version=node.version,
        config=node.config_data, inputs=dict(inputs), outputs=record["outputs"],
        status="cached", user=user, started_at=now, ended_at=now,
    )


def run_node_once(
    node: PlanNode,
    inputs: Mapping[str, str],
    key: str,
    store: AtomStore,
    ledger: LeaseLedger,
    *,
    run_id: str,
    user: str | None,
    force: bool = False,
    write_cache: bool = True,
    preloaded: Mapping[str, Any] | None = None,
    datasets_out: dict[str, Any] | None = None,
    holder: str | None = None,
) -> StepRun:
    """Execute a node unless another driver has finished (or is finishing) the same key."""
    if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
        return hit
    ttl = lease_ttl()
    holder = holder or run_id
    waited = False
    while (owner := ledger.claim_many([key], holder, ttl)[key]) != holder:
        if _dead_local_holder(owner):
            # The driver that held it was killed on this machine: no need to wait for expiry.
            ledger.claim_many([key], holder, ttl, take_over=owner)
            continue
        if not waited:
            log.warning("step %s: waiting for %s, which is computing the same key", node.name, owner)
            waited = True
        time.sleep(_poll_seconds())
        if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
            return hit
    with _heartbeat(ledger, [key], holder):
        # The key may have been finished between our check and our claim.
        if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
            return hit
        group = node.step.resources.concurrency_group
        if group is not None:
            limit = node.step.resources.concurrency_limit or 1
            slots = [f"group:{group}:{i}" for i in range(limit)]
            permit_holder = f"{run_id}/{node.plan_id[:16]}"
            while (slot := ledger.claim_any(slots, permit_holder, ttl)) is None:
                time.sleep(_poll_seconds())
            with _heartbeat(ledger, [slot], permit_holder):
                return _execute(node, inputs, key, store, run_id=run_id, user=user,
                                write_cache=write_cache, preloaded=preloaded,
                                datasets_out=datasets_out)
        return _execute(node, inputs, key, store, run_id=run_id, user=user,
                        write_cache=write_cache, preloaded=preloaded, datasets_out=datasets_out)


def _execute(node: PlanNode, *args: Any, **kwargs: Any) -> StepRun:
    """execute_node, retried on a step exception only when the step opts in."""
    res = node.step.resources
    attempts = 1 + (res.max_retries if res.retry_exceptions else 0)
    for _ in range(attempts):
        record = execute_node(node, *args, **kwargs)
        if record.status == "succeeded":
            break
    return record
