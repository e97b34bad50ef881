"""run_workflow: the synchronous front door over the private engine."""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from motools._errors import AtomNotFoundError
from motools.atom._atom import Atom
from motools.atom._store import AtomStore, get_store
from motools.engine._access import get_ledger
from motools.engine._inline import run_inline
from motools.engine._options import RunOptions, options_with_user, reject_removed
from motools.engine._preview import StepPlanCounts, preview_plan
from motools.engine._records import RunRecord, StepRun
from motools.engine._result import StepState, StepStates, WorkflowResult
from motools.engine._run_context import RunContext
from motools.workflow._plan import Plan, compile_plan, parse_stages
from motools.workflow._spec import Workflow, with_resources


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
    options: RunOptions | None = None,
    **removed: Any,
) -> WorkflowResult:
    """Run a workflow with caching and provenance, and wait for it.

    How it runs (executor, store, cache policy, cluster, observer) is one `RunOptions`.

    Args:
        workflow: The workflow to run.
        input_atoms: Input name -> atom id (or Atom) for the workflow's inputs.
        config: The workflow config (an instance of `workflow.config_class`, or a dict).
        user: Recorded as the creator of everything this run produces (default:
            `options.user`, else `MOTOOLS_USER`, else the login name).
        selected_stages: Run only these steps (`"a,b"`, `"a:c"`, or a list); the steps they
            depend on must then be cached.
        options: How the run executes.

    Returns:
        A WorkflowResult. A failing step does not raise: it is in `result.failures`, its
        downstream steps are `skipped`; call `result.raise_for_failures()` to raise.

    Raises:
        UserError: invalid config, input atoms, stage names or workflow wiring, before anything
            runs.
        ArgumentError: a keyword that now belongs in `options` (the message shows where), or a
            `user` that disagrees with `options.user`.

    Example:
        >>> result = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={},
        ...                       config=config, user="alice")
        >>> result = run_workflow(workflow=wf, input_atoms={}, config=config,
        ...                       options=RunOptions(executor="inline", no_cache=True))
    """
    reject_removed("run_workflow", removed)
    opts = options_with_user("run_workflow", options, user)
    plan, st = _compile_workflow(workflow, input_atoms, config, selected_stages, opts)
    run, done = execute_plan(plan, st, kind="workflow", name=workflow.name, options=opts)
    states = StepStates(StepState.from_step_run(done[pid]) for pid in plan.points[0].values())
    return WorkflowResult(run_id=run.id, workflow=workflow.name, step_states=states, store=st)


def dry_run_workflow(
    workflow: Workflow,
    input_atoms: Mapping[str, str | Atom],
    config: Any,
    *,
    selected_stages: str | Sequence[str] | None = None,
    options: RunOptions | None = None,
) -> list[StepPlanCounts]:
    """What `run_workflow` with these arguments would do, per step; runs and writes nothing.

    Reads the store and its Ledger only, writing nothing: a store that does not exist yet is not
    created, a used one is left byte for byte as it was.

    Args:
        workflow: The workflow.
        input_atoms: Input name -> atom id (or Atom).
        config: The workflow config.
        selected_stages: As for `run_workflow`.
        options: Where to look (`store`) and the cache policy (`force_rerun`, `resources`).

    Returns:
        One StepPlanCounts per step: cached, to run, or failed with its reason.
    """
    opts = options or RunOptions()
    plan, st = _compile_workflow(workflow, input_atoms, config, selected_stages, opts)
    return preview_plan(plan, st, force_rerun=opts.force_rerun)


def _compile_workflow(
    workflow: Workflow,
    input_atoms: Mapping[str, str | Atom],
    config: Any,
    selected_stages: str | Sequence[str] | None,
    options: RunOptions,
) -> tuple[Plan, AtomStore]:
    """Validate everything on the driver and compile one point; nothing is written."""
    from motools.engine._options import check_force

    st = get_store(options.store)
    ids = {k: v.id if isinstance(v, Atom) else v for k, v in input_atoms.items()}
    stages = parse_stages(workflow, selected_stages)
    check_force(options.force_rerun, workflow.step_names)
    plan = compile_plan(with_resources(workflow, options.resources), [config], ids, stages)
    for name, atom_id in ids.items():
        if not st.has_atom(atom_id):
            raise AtomNotFoundError(f"input atom {name!r} ({atom_id}) is not in store {st.uri}")
    return plan, st


def execute_plan(
    plan: Plan,
    store: AtomStore,
    *,
    kind: Literal["workflow", "sweep"],
    name: str,
    options: RunOptions | None = None,
    info: Mapping[str, Any] | None = None,
    run_files: Mapping[str, bytes] | None = None,
) -> tuple[RunRecord, dict[str, StepRun]]:
    """Execute a compiled plan under a new run record; returns the record and each node's run.

    `options.resources` were applied when the plan was compiled; `info` is kept in the run record;
    `run_files` (name -> bytes) are stored with the run (`store.put_run_file`) before any step
    runs, for readers that follow the run while it executes (a sweep's point index).
    """
    with open_run(store, kind=kind, name=name, options=options,
                  info={"nodes": len(plan.nodes), **(info or {})}) as run:
        for file_name, data in (run_files or {}).items():
            store.put_run_file(run.record.id, file_name, data)
        done = run.execute(plan)
    return run.record, done


class OpenRun:
    """A run record that plans execute under, one after another (`open_run`).

    An adaptive sweep executes one plan per rung or round, all recorded under one run.
    """

    def __init__(self, record: RunRecord, context: RunContext) -> None:
        self.record = record
        self.context = context
        self.counts: Counter[str] = Counter()

    def execute(self, plan: Plan) -> dict[str, StepRun]:
        """Execute one plan under this run; returns plan id -> the node's StepRun."""
        observe = self.context.options.observe
        if observe is not None:
            observe.started(plan)
        if self.context.options.executor == "ray":
            from motools.engine._ray import run_ray

            done = run_ray(plan, self.context)
        else:
            done = run_inline(plan, self.context)
        self.counts.update(sr.status for sr in done.values())
        return done

    def save(self) -> None:
        """Store the record again (after a change to its `info`)."""
        self.context.ledger.save_run(self.record)


@contextmanager
def open_run(
    store: AtomStore,
    *,
    kind: Literal["workflow", "sweep"],
    name: str,
    options: RunOptions | None = None,
    info: Mapping[str, Any] | None = None,
) -> Iterator[OpenRun]:
    """A new run record, saved at once, then closed with the counts of every plan executed.

    The run ends `interrupted` when the block raises, else `failed` when a step failed or was
    skipped, else `succeeded`.
    """
    opts = options or RunOptions()
    ledger = get_ledger(store)
    user = opts.user or default_user()
    record = RunRecord(kind=kind, name=name, command=" ".join(sys.argv), user=user,
                       info=dict(info or {}))
    ledger.save_run(record)
    run = OpenRun(record, RunContext(opts, store, ledger, record.id, user))
    try:
        yield run
    except BaseException:
        record.status, record.ended_at = "interrupted", time.time()
        ledger.save_run(record)
        raise
    record.counts = dict(run.counts)
    record.status = "failed" if {"failed", "skipped"} & set(record.counts) else "succeeded"
    record.ended_at = time.time()
    ledger.save_run(record)
