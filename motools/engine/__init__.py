"""The engine: executors, run options, the Ledger (cache index + provenance log), run records.

`run_workflow` and `dry_run_workflow` are imported from `motools.workflow`; `RunOptions` from here.

Plugins (training backends, eval providers) reach the engine through `reach_ledger` (the store's
Ledger from any process), `lease` (a lock or permit held across every process using a store),
`ensure_ray` and `RAY_NAMESPACE` (where motools' named actors live).
"""

from motools.engine._access import get_ledger, reach_ledger, read_ledger
from motools.engine._leases import lease
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
from motools.engine._ray_runtime import RAY_NAMESPACE, ensure_ray
from motools.engine._records import RunRecord, StepRun
from motools.engine._result import StepState, WorkflowResult
from motools.engine._run_query import select_runs

__all__ = [
    "RAY_NAMESPACE",
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
    "ensure_ray",
    "explain_cache",
    "get_ledger",
    "lease",
    "pin_atom",
    "reach_ledger",
    "read_ledger",
    "rebuild_index",
    "select_runs",
    "unpin_atom",
    "verify_store",
]
