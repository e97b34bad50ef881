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
RETRY_START, RETRY_MAX = 1.0, 60.0


def max_open_jobs() -> int:
    """The limit: `MOTOOLS_OPENAI_MAX_OPEN_JOBS`, default `DEFAULT_MAX_OPEN`."""
    raw = os.environ.get(MAX_OPEN_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_OPEN
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"{MAX_OPEN_VAR}={raw!r}: expected a whole number >= 1")
    return int(raw)


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
def open_job_slot(store: AtomStore, client: Any, what: str) -> Iterator[None]:
    """Block until the store has fewer than the limit of open jobs; hold the lock meanwhile.

    Create the job inside the block and record it before leaving: the next submit counts it.
    """
    from motools.engine import lease, reach_ledger

    limit = max_open_jobs()
    ledger = reach_ledger(store)
    holder = f"openai-submit@{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:" \
             f"{uuid.uuid4().hex[:8]}"
    delay, told = RETRY_START, False
    while True:
        with lease(ledger, LOCK_KEY, holder, poll=0.2):
            if count_open(store, client) < limit:
                yield
                return
        if not told:
            log.warning("%s: %d OpenAI fine-tuning jobs of this store are open (the limit, "
                        "%s); waiting for one to finish", what, limit, MAX_OPEN_VAR)
            told = True
        time.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)
