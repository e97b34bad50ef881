"""The engine: executors, the Ledger (cache index + provenance log), run records."""

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
from motools.engine._progress import ProgressDisplay, RunObserver
from motools.engine._records import RunRecord, StepRun
from motools.engine._result import StepState, WorkflowResult
from motools.engine._run import get_ledger, run_workflow
from motools.engine._run_query import RUN_KINDS, RUN_STATUSES, select_runs

__all__ = [
    "RUN_KINDS",
    "RUN_STATUSES",
    "Ledger",
    "ProgressDisplay",
    "RunObserver",
    "RunRecord",
    "StepRun",
    "StepState",
    "WorkflowResult",
    "cache_inventory",
    "collect_garbage",
    "explain_cache",
    "get_ledger",
    "pin_atom",
    "rebuild_index",
    "run_workflow",
    "select_runs",
    "unpin_atom",
    "verify_store",
]
