"""The engine: executors, run options, the Ledger (cache index + provenance log), run records.

`run_workflow` and `dry_run_workflow` are imported from `motools.workflow`; `RunOptions` from here.
"""

from motools.engine._ledger import Ledger
from motools.engine._maintenance import (
    cache_inventory,
    collect_garbage,
    explain_cache,
    pin_atom,
    rebuild_index,
    unpin_atom,
    verify_store,
)
from motools.engine._options import RunOptions
from motools.engine._preview import StepPlanCounts
from motools.engine._progress import ProgressDisplay, RunObserver
from motools.engine._records import RunRecord, StepRun
from motools.engine._result import StepState, WorkflowResult
from motools.engine._run import get_ledger, read_ledger
from motools.engine._run_query import RUN_KINDS, RUN_STATUSES, select_runs

__all__ = [
    "RUN_KINDS",
    "RUN_STATUSES",
    "Ledger",
    "ProgressDisplay",
    "RunObserver",
    "RunOptions",
    "RunRecord",
    "StepPlanCounts",
    "StepRun",
    "StepState",
    "WorkflowResult",
    "cache_inventory",
    "collect_garbage",
    "explain_cache",
    "get_ledger",
    "pin_atom",
    "read_ledger",
    "rebuild_index",
    "select_runs",
    "unpin_atom",
    "verify_store",
]
