"""run_workflow: the synchronous front door over the private engine."""

from __future__ import annotations

import getpass
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from motools._errors import AtomNotFoundError, UserError
from motools.atom._atom import Atom
from motools.atom._store import AtomStore, get_store
from motools.engine._inline import run_inline
from motools.engine._ledger import Ledger
from motools.engine._progress import RunObserver
from motools.engine._records import RunRecord, StepRun
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.engine._settle import Force
from motools.workflow._plan import Plan, compile_plan, parse_stages
from motools.workflow._spec import Workflow, with_resources

ExecutorName = Literal["ray", "inline"]

_ledgers: dict[Path, Ledger] = {}
_ledgers_lock = threading.Lock()


def get_ledger(store: AtomStore) -> Ledger:
    """The Ledger of a store, one per process."""
    path = store.ledger_path.resolve()
    with _ledgers_lock:
        if path not in _ledgers:
            _ledgers[path] = Ledger(path)
        return _ledgers[path]


def default_user() -> str:
    """`$MOTOOLS_USER`, else the login name."""
    try:
        return os.environ.get("MOTOOLS_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def run_workflow(
    workflow: Workflow,
    input_atoms: Mapping[str, str | Atom],
    config: Any,
    user: str | None = None,
    *,
    selected_stages: str | Sequence[str] | None = None,
    force_rerun: bool = False,
    no_cache: bool = False,
    store: str | os.PathLike[str] | AtomStore | None = None,
    executor: ExecutorName = "ray",
    address: str | None = None,
    resources: Mapping[str, Mapping[str, Any]] | None = None,
    observe: RunObserver | None = None,
) -> WorkflowResult:
    """Run a workflow with caching and provenance, and wait for it.

    Args:
        workflow: The workflow to run.
        input_atoms: Input name -> atom id (or Atom) for the workflow's inputs.
        config: The workflow config (an instance of `workflow.config_class`, or a dict).
        user: Recorded as the creator of everything this run produces (default: login name).
        selected_stages: Run only these steps (`"a,b"`, `"a:c"`, or a list); the steps they
            depend on must then be cached.
        force_rerun: Skip cache reads: execute every selected step even if cached.
        no_cache: Skip cache writes: nothing this run computes is served from cache later.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).
        executor: `ray` (default) runs steps as Ray tasks, on a private local Ray or the cluster
            at `address` / `RAY_ADDRESS`; `inline` runs them one by one in this process.
        address: Ray cluster address (default: `RAY_ADDRESS`, else a private local Ray).
        resources: Per-step overrides of `Resources` fields, e.g.
            `{"submit_training": {"concurrency_limit": 4}}`. They never change a cache key.
        observe: Told the plan, then each step run as it settles (e.g. a ProgressDisplay).

    Returns:
        A WorkflowResult. A failing step does not raise: it is in `result.failures`, its
        downstream steps are `skipped`; call `result.raise_for_failures()` to raise.

    Raises:
        UserError: invalid config, input atoms, stage names or workflow wiring, before anything runs.
    """
    st = get_store(store)
    ids = {k: v.id if isinstance(v, Atom) else v for k, v in input_atoms.items()}
    stages = parse_stages(workflow, selected_stages)
    plan = compile_plan(with_resources(workflow, resources), [config], ids, stages)
    for name, atom_id in ids.items():
        if not st.has_atom(atom_id):
            raise AtomNotFoundError(f"input atom {name!r} ({atom_id}) is not in store {st.uri}")
    run, done = execute_plan(
        plan, st, kind="workflow", name=workflow.name, user=user, force_rerun=force_rerun,
        no_cache=no_cache, executor=executor, address=address, observe=observe,
    )
    states = StepStates(StepState.from_step_run(done[pid]) for pid in plan.points[0].values())
    return WorkflowResult(run_id=run.id, workflow=workflow.name, step_states=states, store=st)


def execute_plan(
    plan: Plan,
    store: AtomStore,
    *,
    kind: Literal["workflow", "sweep"],
    name: str,
    user: str | None,
    force_rerun: Force = False,
    no_cache: bool = False,
    executor: ExecutorName = "ray",
    address: str | None = None,
    observe: RunObserver | None = None,
    max_parallel: int | None = None,
    info: Mapping[str, Any] | None = None,
) -> tuple[RunRecord, dict[str, StepRun]]:
    """Execute a compiled plan under a new run record; returns the record and each node's run.

    `force_rerun` is True (every step) or a set of step names; `info` is kept in the run record.
    """
    if executor not in ("ray", "inline"):
        raise UserError(f"unknown executor {executor!r}; available: ray, inline")
    ledger = get_ledger(store)
    run = RunRecord(kind=kind, name=name, command=" ".join(sys.argv), user=user or default_user(),
                    info={"nodes": len(plan.nodes), **(info or {})})
    ledger.save_run(run)
    try:
        if observe is not None:
            observe.started(plan)
        options = dict(run_id=run.id, user=run.user, force_rerun=force_rerun, no_cache=no_cache,
                       observe=observe.settled if observe is not None else None)
        if executor == "ray":
            from motools.engine._ray import run_ray

            done = run_ray(plan, store, ledger, address=address, max_parallel=max_parallel,
                           **options)  # type: ignore[arg-type]
        else:
            done = run_inline(plan, store, ledger, **options)  # type: ignore[arg-type]
    except BaseException:
        run.status, run.ended_at = "interrupted", time.time()
        ledger.save_run(run)
        raise
    run.counts = dict(Counter(sr.status for sr in done.values()))
    run.status = "failed" if {"failed", "skipped"} & set(run.counts) else "succeeded"
    run.ended_at = time.time()
    ledger.save_run(run)
    return run, done
