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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from motools._process_folders import pid_alive
from motools.atom._store import AtomStore
from motools.engine._node import execute_node
from motools.engine._records import StepRun
from motools.engine._settle import cached_run
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


# A task computing a key leases it as `<driver holder>#exec`. A bare `<driver holder>` is a
# driver's reservation for a task still queued in Ray. Only the first is worth waiting for: a task
# that waited on a reservation would hold the CPU slot the reserved task needs to start, and two
# drivers sharing a busy cluster would wait on each other forever (each one's queued tasks
# reserved, each one's running tasks waiting).
_EXECUTING = "#exec"


def executing_holder(holder: str) -> str:
    """The lease holder of a task that is computing a key for the driver `holder`."""
    return holder if holder.endswith(_EXECUTING) else holder + _EXECUTING


def _dead_local_holder(holder: str) -> bool:
    _, _, where = holder.removesuffix(_EXECUTING).rpartition("@")
    host, _, pid = where.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def lease_ttl() -> float:
    """Seconds a lease lives without renewal (`MOTOOLS_LEASE_TTL`, default 60)."""
    return float(os.environ.get("MOTOOLS_LEASE_TTL", "60"))


def _poll_seconds() -> float:
    return min(1.0, lease_ttl() / 10)


class _Renewer:
    """One daemon thread per process renews every lease this process holds, every TTL / 3."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], LeaseLedger] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, ledger: LeaseLedger, key: str, holder: str) -> None:
        with self._lock:
            self._held[(key, holder)] = ledger
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="motools-leases",
                                                daemon=True)
                self._thread.start()

    def drop(self, key: str, holder: str) -> None:
        with self._lock:
            self._held.pop((key, holder), None)

    def _run(self) -> None:
        while True:
            time.sleep(lease_ttl() / 3)
            with self._lock:
                by_holder: dict[str, tuple[LeaseLedger, list[str]]] = {}
                for (key, holder), ledger in self._held.items():
                    by_holder.setdefault(holder, (ledger, []))[1].append(key)
            for holder, (ledger, keys) in by_holder.items():
                try:
                    ledger.claim_many(keys, holder, lease_ttl())
                except Exception:  # a restarting Ledger actor: try again next beat
                    pass


_renewer = _Renewer()


def hold_lease(ledger: LeaseLedger, key: str, holder: str) -> None:
    """Keep renewing a lease from this process until `drop_lease`."""
    _renewer.hold(ledger, key, holder)


def drop_lease(key: str, holder: str) -> None:
    """Stop renewing a lease (the Ledger commit of its step run releases it)."""
    _renewer.drop(key, holder)


@contextmanager
def _heartbeat(ledger: LeaseLedger, key: str, holder: str, *, release: bool) -> Iterator[None]:
    """Keep a lease alive while the block runs; give it back at the end if `release`.

    Step keys are not released here: the Ledger commit of the step run releases them, in the
    same batch that records the result, which saves a round trip per step.
    """
    _renewer.hold(ledger, key, holder)
    try:
        yield
    finally:
        _renewer.drop(key, holder)
        if release:
            ledger.release([key], holder)


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
    ledger: LeaseLedger,
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
        if not owner.endswith(_EXECUTING) or _dead_local_holder(owner):
            # A reservation (this driver's or another's) for a task that has not started, or
            # the lease of a driver killed on this machine: nobody is computing the key, so
            # taking it over duplicates nothing and no one waits out a TTL.
            take_over = owner
            continue
        if not waited:
            log.warning("step %s: waiting for %s, which is computing the same key", node.name, owner)
            waited = True
        time.sleep(_poll_seconds())
        if not force and (hit := _cached(node, inputs, key, store, run_id, user)):
            return hit
    with _heartbeat(ledger, key, mine, release=False):
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
            with _heartbeat(ledger, slot, permit_holder, release=True):
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
