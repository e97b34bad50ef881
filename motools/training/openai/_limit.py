"""At most `MOTOOLS_OPENAI_MAX_OPEN_JOBS` unfinished OpenAI fine-tuning jobs per store.

OpenAI caps how many fine-tuning jobs an organization may have running, and a sweep submits
every point at once. A concurrency group on the submit step would not help: submitting returns
at once, so a permit held while submitting bounds nothing. What is bounded instead is what the
store knows to be open: before it creates a job, a submit takes the store's OpenAI submit lock (a
lease in the store's Ledger, so it holds across every driver and node using the store), counts
the jobs the store's records last saw unfinished (asking OpenAI for their status now, so a job
that ended while nobody watched frees its place), and creates its job only below the limit.
Otherwise it lets the lock go, says so once, and tries again with back-off.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from motools._errors import UserError
from motools.atom._store import AtomStore
from motools.training.openai._records import TERMINAL, unfinished_jobs

log = logging.getLogger("motools")

MAX_OPEN_VAR = "MOTOOLS_OPENAI_MAX_OPEN_JOBS"
DEFAULT_MAX_OPEN = 4
LOCK_KEY = "openai:submit-lock"
LOCK_TTL = 60.0
RETRY_START, RETRY_MAX = 1.0, 60.0


def max_open_jobs() -> int:
    """The limit: `MOTOOLS_OPENAI_MAX_OPEN_JOBS`, default `DEFAULT_MAX_OPEN`."""
    raw = os.environ.get(MAX_OPEN_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_OPEN
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"{MAX_OPEN_VAR}={raw!r}: expected a whole number >= 1")
    return int(raw)


def _lease_ledger(store: AtomStore) -> Any:
    """The store's Ledger for leases: its SQLite file when it is on this machine, else (a task
    on another node of a Ray cluster) the store's Ledger actor. The engine reaches it the same
    way (`motools.engine._ray.LeaseAccess`)."""
    from motools.engine import get_ledger

    ray = sys.modules.get("ray")
    if store.ledger_path.resolve().exists() or ray is None or not ray.is_initialized():
        return get_ledger(store)
    from motools.engine._ray import NAMESPACE, ActorLedger, ledger_actor_name

    name = ledger_actor_name(store)
    try:
        ray.get_actor(name, namespace=NAMESPACE)
    except ValueError:  # no run made the store's actor: a direct call on a store still empty
        return get_ledger(store)
    return ActorLedger(name)


def count_open(store: AtomStore, client: Any) -> int:
    """Jobs of this store that OpenAI says are unfinished right now."""
    import openai

    n = 0
    for job_id in unfinished_jobs(store):
        try:
            status = client.fine_tuning.jobs.retrieve(job_id).status
        except openai.NotFoundError:  # made on another server or organization: not ours to count
            continue
        except openai.APIError:  # cannot tell: count it, the limit is a promise
            status = "unknown"
        n += status not in TERMINAL
    return n


@contextmanager
def _locked(ledger: Any, holder: str) -> Iterator[None]:
    from motools.engine._single_flight import drop_lease, hold_lease

    while ledger.claim_many([LOCK_KEY], holder, LOCK_TTL)[LOCK_KEY] != holder:
        time.sleep(0.2)
    hold_lease(ledger, LOCK_KEY, holder)  # renewed while held; expires if this process dies
    try:
        yield
    finally:
        drop_lease(LOCK_KEY, holder)
        ledger.release([LOCK_KEY], holder)


@contextmanager
def open_job_slot(store: AtomStore, client: Any, what: str) -> Iterator[None]:
    """Block until the store has fewer than the limit of open jobs; hold the lock meanwhile.

    Create the job inside the block and record it before leaving: the next submit counts it.
    """
    limit = max_open_jobs()
    ledger = _lease_ledger(store)
    holder = f"openai-submit@{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:" \
             f"{uuid.uuid4().hex[:8]}"
    delay, told = RETRY_START, False
    while True:
        with _locked(ledger, holder):
            if count_open(store, client) < limit:
                yield
                return
        if not told:
            log.warning("%s: %d OpenAI fine-tuning jobs of this store are open (the limit, "
                        "%s); waiting for one to finish", what, limit, MAX_OPEN_VAR)
            told = True
        time.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)
