"""run_workflow: the synchronous front door over the private engine."""

from __future__ import annotations

import getpass
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from motools._errors import AtomNotFoundError, UserError
from motools.atom._atom import Atom
from motools.atom._store import AtomStore, get_store
from motools.engine._inline import run_inline
from motools.engine._ledger import Ledger
from motools.engine._progress import RunObserver
from motools.engine._records import RunRecord
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.workflow._plan import compile_plan, parse_stages
from motools.workflow._spec import Workflow

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
        observe: Told the plan, then each step run as it settles (e.g. a ProgressDisplay).

    Returns:
        A WorkflowResult. A failing step does not raise: it is in `result.failures`, its
        downstream steps are `skipped`; call `result.raise_for_failures()` to raise.

    Raises:
        UserError: invalid config, input atoms, stage names or workflow wiring, before anything runs.
    """
    if executor not in ("ray", "inline"):
        raise UserError(f"unknown executor {executor!r}; available: ray, inline")
    st = get_store(store)
    ids = {k: v.id if isinstance(v, Atom) else v for k, v in input_atoms.items()}
    stages = parse_stages(workflow, selected_stages)
    plan = compile_plan(workflow, [config], ids, stages)
    for name, atom_id in ids.items():
        if not st.has_atom(atom_id):
            raise AtomNotFoundError(f"input atom {name!r} ({atom_id}) is not in store {st.uri}")
    user = user or default_user()
    ledger = get_ledger(st)
    run = RunRecord(kind="workflow", name=workflow.name, command=" ".join(sys.argv), user=user)
    ledger.save_run(run)
    try:
        if observe is not None:
            observe.started(plan)
        options = dict(run_id=run.id, user=user, force_rerun=force_rerun, no_cache=no_cache,
                       observe=observe.settled if observe is not None else None)
        if executor == "ray":
            from motools.engine._ray import run_ray

            done = run_ray(plan, st, ledger, address=address, **options)  # type: ignore[arg-type]
        else:
            done = run_inline(plan, st, ledger, **options)  # type: ignore[arg-type]
    except BaseException:
        run.status, run.ended_at = "interrupted", time.time()
        ledger.save_run(run)
        raise
    states = StepStates(StepState.from_step_run(done[pid]) for pid in plan.points[0].values())
    counts: dict[str, int] = {}
    for state in states:
        counts[state.status] = counts.get(state.status, 0) + 1
    result = WorkflowResult(run_id=run.id, workflow=workflow.name, step_states=states, store=st)
    run.status = "succeeded" if result.ok else "failed"
    run.ended_at, run.counts = time.time(), counts
    ledger.save_run(run)
    return result
