"""Selecting run records by kind, name, user and status (what `motools runs list` filters by)."""

from __future__ import annotations

import fnmatch
from typing import get_args

from motools._errors import UserError
from motools.engine._ledger import Ledger
from motools.engine._records import RunRecord, RunStatus

RUN_KINDS = ("workflow", "sweep")
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)


def select_runs(
    ledger: Ledger,
    *,
    kind: str | None = None,
    name: str | None = None,
    user: str | None = None,
    status: str | None = None,
    limit: int | None = 50,
) -> list[RunRecord]:
    """The newest runs that match every filter given, newest first.

    Args:
        ledger: The store's Ledger.
        kind: `workflow` or `sweep`.
        name: The run's name, or a shell pattern (`hello-*`).
        user: Who ran it.
        status: `running`, `succeeded`, `failed` or `interrupted`, as observed now (a run whose
            driver died on this host reads `interrupted`).
        limit: At most this many runs; None for all.

    Returns:
        The matching run records.

    Raises:
        UserError: An unknown kind or status (the message lists the allowed values).
    """
    if kind is not None and kind not in RUN_KINDS:
        raise UserError(f"--kind: unknown run kind {kind!r}; allowed: {', '.join(RUN_KINDS)}")
    if status is not None and status not in RUN_STATUSES:
        raise UserError(
            f"--status: unknown run status {status!r}; allowed: {', '.join(RUN_STATUSES)}"
        )
    if limit is not None and limit < 0:
        raise UserError(f"--limit: must be 0 or more, got {limit}")
    out: list[RunRecord] = []
    filtered = any(v is not None for v in (kind, name, user, status))
    # Unfiltered, only `limit` records are read; filtered, the runs table is scanned (it holds
    # one small record per command anyone ran, so a scan stays cheap).
    for run in ledger.list_runs(None if filtered else limit):
        if limit is not None and len(out) >= limit:
            break
        if kind is not None and run.kind != kind:
            continue
        if name is not None and not fnmatch.fnmatchcase(run.name, name):
            continue
        if user is not None and run.user != user:
            continue
        if status is not None and run.observed_status() != status:
            continue
        out.append(run)
    return out
