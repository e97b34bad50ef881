"""Leases in the Ledger: who holds a key, for how long, and one thread per process renewing them.

A lease carries an expiry that a heartbeat renews while its holder works, so a lease whose holder
died (a killed driver takes its tasks with it) expires and is taken over. Single flight leases
step keys with them; concurrency-group permits and plugins' locks (the OpenAI job limit) are
leases held with `lease`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from motools._process_folders import pid_alive
from motools.engine._access import LedgerApi


def lease_holder(run_id: str) -> str:
    """`run@host:pid` of the driver, so a rerun on the same host can tell a dead holder."""
    return f"{run_id}@{socket.gethostname()}:{os.getpid()}"


# A task computing a key leases it as `<driver holder>#exec`. A bare `<driver holder>` is a
# driver's reservation for a task still queued in Ray. Only the first is worth waiting for: a task
# that waited on a reservation would hold the CPU slot the reserved task needs to start, and two
# drivers sharing a busy cluster would wait on each other forever (each one's queued tasks
# reserved, each one's running tasks waiting).
EXECUTING = "#exec"


def executing_holder(holder: str) -> str:
    """The lease holder of a task that is computing a key for the driver `holder`."""
    return holder if holder.endswith(EXECUTING) else holder + EXECUTING


def dead_local_holder(holder: str) -> bool:
    """Whether `holder` names a process of this machine that no longer exists."""
    _, _, where = holder.removesuffix(EXECUTING).rpartition("@")
    host, _, pid = where.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def lease_ttl() -> float:
    """Seconds a lease lives without renewal (`MOTOOLS_LEASE_TTL`, default 60)."""
    return float(os.environ.get("MOTOOLS_LEASE_TTL", "60"))


def poll_seconds() -> float:
    """How long a waiter sleeps between two tries of a lease held by someone else."""
    return min(1.0, lease_ttl() / 10)


class _Renewer:
    """One daemon thread per process renews every lease this process holds, every TTL / 3."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], LedgerApi] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, ledger: LedgerApi, key: str, holder: str) -> None:
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
                by_holder: dict[str, tuple[LedgerApi, list[str]]] = {}
                for (key, holder), ledger in self._held.items():
                    by_holder.setdefault(holder, (ledger, []))[1].append(key)
            for holder, (ledger, keys) in by_holder.items():
                try:
                    ledger.claim_many(keys, holder, lease_ttl())
                except Exception:  # a restarting Ledger actor: try again next beat
                    pass


_renewer = _Renewer()


def hold_lease(ledger: LedgerApi, key: str, holder: str) -> None:
    """Keep renewing a lease from this process until `drop_lease`."""
    _renewer.hold(ledger, key, holder)


def drop_lease(key: str, holder: str) -> None:
    """Stop renewing a lease (the Ledger commit of its step run releases it)."""
    _renewer.drop(key, holder)


@contextmanager
def renewed(ledger: LedgerApi, key: str, holder: str, *, release: bool) -> Iterator[None]:
    """Keep a lease `holder` already holds alive while the block runs; give it back at the end
    if `release` (a step key is not: the Ledger commit of its step run releases it, in the
    same batch that records the result, which saves a round trip per step)."""
    _renewer.hold(ledger, key, holder)
    try:
        yield
    finally:
        _renewer.drop(key, holder)
        if release:
            ledger.release([key], holder)


@contextmanager
def lease(ledger: LedgerApi, keys: str | Sequence[str], holder: str, *,
          poll: float | None = None) -> Iterator[str]:
    """Hold a lease while the block runs: wait for it, keep it renewed, give it back at the end.

    The lease is in the store's Ledger, so it excludes every process of every driver and node
    using the store; if its holder's process dies, it expires after `lease_ttl()` seconds.

    Args:
        ledger: The Ledger, from `reach_ledger(store)`.
        keys: The key to lease, or several: then any one of them (one of K permits).
        holder: Who holds it; unique per process (and per thread, if threads compete).
        poll: Seconds between two tries while another holder has it (default: TTL / 10, at most
            1 s).

    Yields:
        The key held.

    Example:
        >>> with lease(reach_ledger(store), "openai:submit-lock", holder):
        ...     submit_one_job()
    """
    choices = [keys] if isinstance(keys, str) else list(keys)
    while (key := ledger.claim_any(choices, holder, lease_ttl())) is None:
        time.sleep(poll_seconds() if poll is None else poll)
    with renewed(ledger, key, holder, release=True):
        yield key
