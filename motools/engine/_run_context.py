"""RunContext: one run as the executors see it, built once by `execute_plan`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from motools.engine._options import RunOptions

if TYPE_CHECKING:
    from motools.atom._store import AtomStore
    from motools.engine._ledger import Ledger


@dataclass(frozen=True)
class RunContext:
    """The caller's options, and what they resolved to on the driver for this run.

    Attributes:
        options: The `RunOptions` the front door was given, unchanged.
        store: The store `options.store` names.
        ledger: The store's Ledger in this process.
        run_id: The id of the run record everything is recorded under.
        user: Who the run is recorded for (`options.user`, else the default user).
    """

    options: RunOptions
    store: AtomStore
    ledger: Ledger
    run_id: str
    user: str
