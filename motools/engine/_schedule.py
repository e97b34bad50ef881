"""The Scheduler both executors share, in named phases.

1. **settle cached**: settle what needs no execution in this process (one batched Ledger lookup
   per level, no Ray needed), forget the stale cache entries the pass found, and record the
   settled runs; a fully cached plan submits nothing. The configs of the nodes left to execute are
   asked whether this machine can run them (`check_ready`: an API key, an SDK).
2. **reserve**: on a backend whose tasks may queue, lease the keys already known in one batch.
3. **submit ready**: group the rest into chains (`_fuse`), one task each, and submit them in
   topological order, at most `max_parallel` unfinished at once; a task's upstream tasks are its
   arguments, so the Ray backend submits everything at once and Ray chains the tasks.
4. **collect**: take the finished tasks (in submission order), turn a dead task into failed and
   skipped records.
5. **record**: commit each batch to the driver's Ledger in one call and tell the observer.

The backend only starts, submits, waits and collects; every record goes through the driver's
Ledger.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from motools._errors import UserError
from motools.engine._chain import ChainContext, ChainResult, run_chain
from motools.engine._fuse import Chain, chains
from motools.engine._leases import drop_lease, hold_lease, lease_holder, lease_ttl
from motools.engine._node import one_line
from motools.engine._records import StepRun
from motools.engine._run_context import RunContext
from motools.engine._settle import blocker, marker, settle_cached, skipped
from motools.engine._workspace import remove_stale_workspaces
from motools.workflow._plan import Plan, PlanNode


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the Scheduler drives it accordingly.

    Attributes:
        concurrent: Chains run at the same time (`max_parallel` caps how many). Otherwise a
            chain finishes inside `submit`, and is recorded before the next one starts.
        queues: A submitted chain may wait in a queue: the driver reserves the keys it knows
            up front, so that another driver does not start them meanwhile.
        lends_cpu: A task may lend its CPU while one of its `num_cpus: 0` steps waits.
    """

    concurrent: bool
    queues: bool
    lends_cpu: bool


class Backend(Protocol):
    """Where chains run. `submit` returns a handle; `as_input` is what a downstream chain gets."""

    capabilities: Capabilities

    def start(self, nodes: Sequence[PlanNode]) -> None: ...
    def submit(self, chain: Chain, args: tuple[Any, ...], inputs: list[Any]) -> Any: ...
    def as_input(self, handle: Any) -> Any: ...
    def wait(self, handles: list[Any]) -> list[Any]: ...
    def results(self, handles: list[Any]) -> list[ChainResult | Exception]: ...


class _Done:
    __slots__ = ("value", "error")

    def __init__(self, value: ChainResult | None, error: BaseException | None) -> None:
        self.value, self.error = value, error


class InlineBackend:
    """Runs each chain in this process the moment it is submitted."""

    capabilities = Capabilities(concurrent=False, queues=False, lends_cpu=False)

    def start(self, nodes: Sequence[PlanNode]) -> None:
        pass

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


class Scheduler:
    """Executes one plan on one backend, phase by phase (see the module docstring).

    Args:
        plan: The compiled plan.
        run: The run it executes under (options, store, the driver's Ledger, run id, user).
        backend: Where the chains run.
        fuse: Overrides `MOTOOLS_FUSE` (linear chains as one task).
    """

    def __init__(self, plan: Plan, run: RunContext, backend: Backend, *,
                 fuse: bool | None = None) -> None:
        self.plan, self.run, self.backend, self.fuse = plan, run, backend, fuse
        self.done: dict[str, StepRun] = {}  # plan id -> its run, as each one settles
        self.known_keys: dict[str, str] = {}  # plan id -> key, for nodes whose key was known
        self.claimed: set[str] = set()  # plan ids whose keys this driver reserved
        self.queue: deque[Chain] = deque()
        self.pending: dict[Any, Chain] = {}  # handle -> its chain, until collected
        self.handles: dict[str, Any] = {}  # chain tail -> handle, while a consumer needs it
        self.waiting: Counter[str] = Counter()  # chain tail -> consumers not yet submitted
        self.order: dict[str, int] = {}  # chain tail -> submission order
        self.ctx: ChainContext | None = None
        caps = backend.capabilities
        self.limit = run.options.max_parallel if caps.concurrent else 1

    def execute(self) -> dict[str, StepRun]:
        """Run every phase to the end. Returns plan id -> the node's StepRun."""
        to_execute = self.settle_cached()
        if not to_execute:
            return self.done
        self.start(to_execute)
        self.reserve()
        self.submit_ready()
        while self.pending:
            self.record(self.collect(), cache=not self.run.options.no_cache)
            self.submit_ready()
        return self.done

    def settle_cached(self) -> list[PlanNode]:
        """Settle and record what needs no execution; returns the nodes left to execute."""
        run = self.run
        found = settle_cached(self.plan, run.store, run.ledger, run_id=run.run_id, user=run.user,
                              force_rerun=run.options.force_rerun)
        # Before any step run is recorded or shown: a refused run executed nothing (its run
        # record, saved when it started, ends `interrupted`).
        check_ready(found.to_execute)
        if found.stale:  # cache entries whose atoms left the store (deleted by hand, gc)
            run.ledger.forget(found.stale)
        for sr in found.runs:
            self.done[sr.plan_id] = sr
        self.record(found.runs, cache=False)
        self.known_keys = found.known_keys
        return found.to_execute

    def start(self, to_execute: list[PlanNode]) -> None:
        """Start the backend and lay out the chains to submit."""
        run = self.run
        remove_stale_workspaces()  # of processes killed on this machine by earlier runs
        self.backend.start(to_execute)
        self.ctx = ChainContext(run.store, run.run_id, run.user, run.options,
                                lease_holder(run.run_id),
                                lends_cpu=self.backend.capabilities.lends_cpu)
        self.queue = deque(chains(self.plan, to_execute, self.fuse))
        self.order = {c[-1].plan_id: i for i, c in enumerate(self.queue)}
        self.waiting = Counter(u for c in self.queue for u in c[0].upstream)

    def reserve(self) -> None:
        """Lease the known keys in one batch, when queued tasks could otherwise be raced."""
        if not (self.backend.capabilities.queues and self.known_keys):
            return
        ledger, holder = self.run.ledger, self._ctx.holder
        # The tasks behind these keys lease their own; reserved ones they take over.
        owners = ledger.claim_many(list(self.known_keys.values()), holder, lease_ttl())
        self.claimed = {pid for pid, key in self.known_keys.items() if owners[key] == holder}
        for pid in self.claimed:  # queued tasks may wait longer than a TTL: the driver renews
            hold_lease(ledger, self.known_keys[pid], holder)

    def submit_ready(self) -> None:
        """Submit chains in order while fewer than the limit are unfinished."""
        while self.queue and (self.limit is None or len(self.pending) < self.limit):
            chain = self.queue.popleft()
            first = chain[0]
            via = [u for u in first.upstream if u in self.handles]
            given = {u: self.done[u] for u in first.upstream
                     if u in self.done and u not in self.handles}
            mine = frozenset(n.plan_id for n in chain if n.plan_id in self.claimed)
            handle = self.backend.submit(chain, (self._ctx, mine, given, via),
                                         [self.backend.as_input(self.handles[u]) for u in via])
            self.handles[chain[-1].plan_id] = handle
            self.pending[handle] = chain
            for u in first.upstream:
                self.waiting[u] -= 1
                if self.waiting[u] <= 0 and u in self.done:
                    self.handles.pop(u, None)

    def collect(self) -> list[StepRun]:
        """The step runs of the tasks that finished (waiting for at least one)."""
        # In submission order: a chain's upstream is settled before its own failure is read.
        ready = sorted(self.backend.wait(list(self.pending)),
                       key=lambda h: self.order[self.pending[h][-1].plan_id])
        batch: list[StepRun] = []
        for handle, outcome in zip(ready, self.backend.results(ready), strict=True):
            chain = self.pending.pop(handle)
            tail = chain[-1].plan_id
            if isinstance(outcome, ChainResult):
                runs = outcome.step_runs
            else:  # the worker died past its retries, or Ray itself failed
                runs = self._failed_chain(chain, outcome)
                self.handles.pop(tail, None)  # consumers not yet submitted read `done` instead
            for sr in runs:
                self.done[sr.plan_id] = sr
                if sr.plan_id in self.claimed:
                    drop_lease(self.known_keys[sr.plan_id], self._ctx.holder)
            batch.extend(runs)
            if self.waiting[tail] <= 0:
                self.handles.pop(tail, None)
        return batch

    def record(self, runs: Sequence[StepRun], *, cache: bool) -> None:
        """Commit a batch to the driver's Ledger in one call (ending its leases), then tell the
        observer."""
        if not runs:
            return
        self.run.ledger.commit(runs, cache=cache)
        observer = self.run.options.observe
        if observer is not None:
            for sr in runs:
                observer.settled(sr)

    @property
    def _ctx(self) -> ChainContext:
        assert self.ctx is not None, "start() comes first"
        return self.ctx

    def _failed_chain(self, chain: Chain, exc: BaseException) -> list[StepRun]:
        """Records for a chain whose task died (past its retries) or could not run."""
        run_id, user = self.run.run_id, self.run.user
        out: list[StepRun] = []
        for node in chain:
            behind = blocker(node, self.done) or (out[-1] if out else None)
            key = self.known_keys.get(node.plan_id)  # releases a reserved lease with the commit
            if behind is not None:
                out.append(skipped(node, behind, run_id, user, key=key))
            else:
                out.append(marker(node, run_id, user, status="failed", error=one_line(exc),
                                  key=key))
        return out


def schedule(
    plan: Plan, run: RunContext, backend: Backend, *, fuse: bool | None = None
) -> dict[str, StepRun]:
    """Execute a plan on a backend (a `Scheduler`). Returns plan id -> the node's StepRun."""
    return Scheduler(plan, run, backend, fuse=fuse).execute()
