"""The scheduling loop both executors share.

1. Settle the cached part of the plan in this process (one batched Ledger lookup per level, no Ray
   needed): a fully cached plan submits nothing. Then ask the configs of the nodes left to execute
   whether this machine can run them (`check_ready`: an API key, an SDK).
2. Group the rest into chains (`_fuse`), one task each, and submit them in topological order; a
   task's upstream tasks are its arguments. The Ray backend submits everything at once (Ray chains
   the tasks through ObjectRefs); the inline backend's submit runs the chain at once.
3. Collect finished tasks in batches, commit each batch to the Ledger in one call, tell the
   observer, submit more (when `max_parallel` holds some back).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from motools._errors import UserError
from motools.atom._store import AtomStore
from motools.engine._chain import ChainContext, ChainResult, run_chain
from motools.engine._fuse import Chain, chains
from motools.engine._ledger import Ledger
from motools.engine._node import one_line
from motools.engine._records import StepRun
from motools.engine._run_context import RunContext
from motools.engine._settle import blocker, marker, settle_cached, skipped
from motools.engine._single_flight import (
    LeaseLedger,
    drop_lease,
    hold_lease,
    lease_holder,
    lease_ttl,
)
from motools.engine._workspace import remove_stale_workspaces
from motools.workflow._plan import Plan, PlanNode

class Backend(Protocol):
    """Where chains run. `submit` returns a handle; `inputs` is what a downstream chain gets."""

    on_ray: bool
    reserve_keys: bool  # lease known keys up front: tasks may sit in a queue for a while

    def start(self, nodes: Sequence[PlanNode]) -> LeaseLedger: ...
    def submit(self, chain: Chain, args: tuple[Any, ...], inputs: list[Any]) -> Any: ...
    def as_input(self, handle: Any) -> Any: ...
    def wait(self, handles: list[Any]) -> list[Any]: ...
    def results(self, handles: list[Any]) -> list[ChainResult | Exception]: ...
    def commit(self, step_runs: list[StepRun], *, cache: bool) -> None: ...


class _Done:
    __slots__ = ("value", "error")

    def __init__(self, value: ChainResult | None, error: BaseException | None) -> None:
        self.value, self.error = value, error


class InlineBackend:
    """Runs each chain in this process the moment it is submitted."""

    on_ray = False
    reserve_keys = False

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def start(self, nodes: Sequence[PlanNode]) -> LeaseLedger:
        return self._ledger

    def submit(self, chain: Chain, args: tuple[Any, ...], inputs: list[Any]) -> _Done:
        try:
            return _Done(run_chain(chain, *args, *inputs), None)
        except Exception as exc:  # a bug below the step boundary: the chain fails, the run goes on
            return _Done(None, exc)

    def as_input(self, handle: _Done) -> Any:
        return handle.value

    def wait(self, handles: list[_Done]) -> list[_Done]:
        return handles

    def results(self, handles: list[_Done]) -> list[ChainResult | Exception]:
        return [h.value if h.error is None else h.error for h in handles]  # type: ignore[misc]

    def commit(self, step_runs: list[StepRun], *, cache: bool) -> None:
        self._ledger.commit(step_runs, cache=cache)


def check_ready(nodes: Sequence[PlanNode]) -> None:
    """Ask the config of every node about to execute whether this machine can run it.

    A config may define `check_ready()` (e.g. "is OPENAI_API_KEY set?"); it is asked here, on the
    driver, after the cached part of the plan is settled and before anything is submitted, so a
    fully cached rerun or a dry run never needs what only execution needs.

    Raises:
        UserError: The first refusal, prefixed with the step's name (one line, exit code 2).
    """
    for node, exc in not_ready(nodes):
        raise type(exc)(f"{node.name}: {exc}") from None


def not_ready(nodes: Sequence[PlanNode]) -> Iterator[tuple[PlanNode, UserError]]:
    """Each node whose config's `check_ready()` refuses, with the refusal (each config once)."""
    asked: set[int] = set()
    for node in nodes:
        check = getattr(node.config, "check_ready", None)
        if check is None or id(node.config) in asked:
            continue
        asked.add(id(node.config))
        try:
            check()
        except UserError as exc:
            yield node, exc


def schedule(
    plan: Plan, run: RunContext, backend: Backend, *, fuse: bool | None = None
) -> dict[str, StepRun]:
    """Execute a plan on a backend. Returns plan id -> the node's StepRun.

    `run.options.max_parallel` caps how many tasks are submitted and unfinished at any moment;
    `fuse` overrides `MOTOOLS_FUSE`.
    """
    options, store, ledger, run_id, user = run.options, run.store, run.ledger, run.run_id, run.user
    observe = options.observe.settled if options.observe is not None else None
    done: dict[str, StepRun] = {}

    def settle(runs: Sequence[StepRun]) -> None:
        for sr in runs:
            done[sr.plan_id] = sr
            if observe is not None:
                observe(sr)

    settled, to_execute, known_keys = settle_cached(
        plan, store, ledger, run_id=run_id, user=user, force_rerun=options.force_rerun
    )
    # Before any step run is recorded or shown: a refused run executed nothing (its run record,
    # saved when it started, ends `interrupted`).
    check_ready(to_execute)
    ledger.commit(settled, cache=False)
    settle(settled)
    if not to_execute:
        return done

    remove_stale_workspaces()  # of processes killed on this machine by earlier runs
    leases = backend.start(to_execute)
    ctx = ChainContext(store, leases, run_id, user, options, lease_holder(run_id),
                       on_ray=backend.on_ray)
    claimed: set[str] = set()
    if backend.reserve_keys and known_keys:
        # Keys known now are reserved in one batch; the tasks behind them lease their own.
        owners = ledger.claim_many(list(known_keys.values()), ctx.holder, lease_ttl())
        claimed = {pid for pid, key in known_keys.items() if owners[key] == ctx.holder}
        for pid in claimed:  # queued tasks may wait longer than a TTL: the driver renews them
            hold_lease(ledger, known_keys[pid], ctx.holder)

    queue = deque(chains(plan, to_execute, fuse))
    order = {c[-1].plan_id: i for i, c in enumerate(queue)}
    # Consumers not yet submitted, per chain tail: a result is released once nobody needs it.
    waiting = Counter(u for c in queue for u in c[0].upstream)
    handles: dict[str, Any] = {}  # chain tail -> handle, while a consumer may still need it
    pending: dict[Any, Chain] = {}  # handle -> its chain
    limit = options.max_parallel if backend.on_ray else 1  # inline: commit after every chain

    def submit_ready() -> None:
        while queue and (limit is None or len(pending) < limit):
            chain = queue.popleft()
            first = chain[0]
            via = [u for u in first.upstream if u in handles]
            given = {u: done[u] for u in first.upstream if u in done and u not in handles}
            mine = frozenset(n.plan_id for n in chain if n.plan_id in claimed)
            handle = backend.submit(chain, (ctx, mine, given, via),
                                    [backend.as_input(handles[u]) for u in via])
            handles[chain[-1].plan_id] = handle
            pending[handle] = chain
            for u in first.upstream:
                waiting[u] -= 1
                if waiting[u] <= 0 and u in done:
                    handles.pop(u, None)

    def failed_chain(chain: Chain, exc: BaseException) -> list[StepRun]:
        """Records for a chain whose task died (past its retries) or could not run."""
        out: list[StepRun] = []
        for node in chain:
            behind = blocker(node, done) or (out[-1] if out else None)
            key = known_keys.get(node.plan_id)  # releases a reserved lease with the commit
            if behind is not None:
                out.append(skipped(node, behind, run_id, user, key=key))
            else:
                out.append(marker(node, run_id, user, status="failed", error=one_line(exc),
                                  key=key))
        return out

    submit_ready()
    while pending:
        # In submission order: a chain's upstream is settled before its own failure is read.
        ready = sorted(backend.wait(list(pending)), key=lambda h: order[pending[h][-1].plan_id])
        batch: list[StepRun] = []
        for handle, outcome in zip(ready, backend.results(ready), strict=True):
            chain = pending.pop(handle)
            tail = chain[-1].plan_id
            if isinstance(outcome, ChainResult):
                runs = outcome.step_runs
            else:  # the worker died past its retries, or Ray itself failed
                runs = failed_chain(chain, outcome)
                handles.pop(tail, None)  # consumers not yet submitted read `done` instead
            for sr in runs:
                done[sr.plan_id] = sr
                if sr.plan_id in claimed:
                    drop_lease(known_keys[sr.plan_id], ctx.holder)
            batch.extend(runs)
            if waiting[tail] <= 0:
                handles.pop(tail, None)
        if batch:
            backend.commit(batch, cache=not options.no_cache)
            if observe is not None:
                for sr in batch:
                    observe(sr)
        submit_ready()
    return done
