"""The Ray executor: a plan becomes plain `.remote()` tasks chained by ObjectRefs.

The driver settles the cached part of the plan first (one batched Ledger lookup per level, no Ray
needed), then submits every remaining node at once: each task's upstream ObjectRefs are its
arguments, so Ray resolves dependencies with no driver round trip. Tasks return their StepRun plus
the datasets they produced, which travel to downstream tasks through Ray's object store. The driver
collects results with `ray.wait` and commits them to the Ledger actor in batches.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from motools import _hashing
from motools._errors import UserError
from motools.atom._dataset import Dataset
from motools.atom._store import AtomStore
from motools.engine._ledger import Ledger
from motools.engine._node import one_line
from motools.engine._records import StepRun
from motools.engine._settle import Force, is_forced, marker, settle_cached
from motools.engine._single_flight import (
    drop_lease,
    hold_lease,
    lease_holder,
    lease_ttl,
    run_node_once,
)
from motools.workflow._plan import Plan, PlanNode

NAMESPACE = "motools"
_init_lock = threading.Lock()


def ensure_ray(address: str | None = None) -> None:
    """Join the cluster at `address` / `RAY_ADDRESS`, or start a private local Ray.

    Ray started here is quiet (usage stats off, warnings only) and shut down at exit. Inside
    `ray job submit` RAY_ADDRESS is set, so the driver joins that cluster.
    """
    import ray

    with _init_lock:
        if ray.is_initialized():
            return
        target = address or os.environ.get("RAY_ADDRESS") or "local"
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        kwargs: dict[str, Any] = {
            # Quiet: the embedded instance otherwise warns about its own token auth on every start.
            "logging_level": "ERROR" if target == "local" else "WARNING",
            "log_to_driver": os.environ.get("MOTOOLS_RAY_LOGS") == "1",
        }
        if target == "local":
            kwargs["include_dashboard"] = False
        ray.init(address=target, **kwargs)
        if target == "local":
            _embedded.append(True)
            atexit.register(ray.shutdown)


_embedded: list[bool] = []  # non-empty once this process started its own Ray


def check_fits_this_machine(nodes: Sequence[PlanNode]) -> None:
    """On an embedded Ray, refuse steps that ask for more than this machine has.

    Ray would queue such a task forever (it warns once, in a log). A cluster is not checked:
    its autoscaler may add nodes of the kind a step asks for.
    """
    if not _embedded:
        return
    import ray

    have = ray.cluster_resources()
    for node in nodes:
        res = node.step.resources
        for field_name, ray_name in (("num_cpus", "CPU"), ("num_gpus", "GPU"),
                                     ("memory", "memory")):
            asked = getattr(res, field_name) or 0
            if asked > have.get(ray_name, 0):
                raise UserError(
                    f"resources.{node.name}.{field_name}: the step asks for {asked:g} but this "
                    f"machine has {have.get(ray_name, 0):g}; lower it, or run on a Ray cluster "
                    f"that has it (RAY_ADDRESS or `ray job submit`)"
                )


class _LedgerActor:
    """The Ledger behind a Ray actor; every method is idempotent (calls may be retried)."""

    def __init__(self, path: str) -> None:
        self._ledger = Ledger(path)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._ledger, method)(*args, **kwargs)


_handles: dict[str, Any] = {}


class ActorLedger:
    """A picklable proxy with the Ledger's methods, forwarding to the named actor.

    It pickles as the actor's name alone: each process looks the handle up once, which is much
    cheaper than shipping a handle with every task.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return (ActorLedger, (self._name,))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import ray

        handle = _handles.get(self._name)
        if handle is None:
            handle = _handles[self._name] = ray.get_actor(self._name, namespace=NAMESPACE)
        return ray.get(handle.call.remote(method, *args, **kwargs))

    def lookup_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]:
        return dict(self._call("lookup_many", list(keys)))

    def commit(self, step_runs: Sequence[StepRun], *, cache: bool = True) -> None:
        self._call("commit", list(step_runs), cache=cache)

    def claim_many(
        self, keys: Sequence[str], holder: str, ttl: float, take_over: str | None = None
    ) -> dict[str, str]:
        return dict(self._call("claim_many", list(keys), holder, ttl, take_over))

    def claim_any(self, keys: Sequence[str], holder: str, ttl: float) -> str | None:
        result = self._call("claim_any", list(keys), holder, ttl)
        return None if result is None else str(result)

    def release(self, keys: Sequence[str], holder: str) -> None:
        self._call("release", list(keys), holder)


_direct: dict[str, Ledger] = {}


class LeaseAccess:
    """How a task reaches the Ledger for leases: the SQLite file itself when it is on this
    machine (every task of a local run), else the Ledger actor (tasks on other cluster nodes).

    A lease round trip through the actor costs about 3 ms against 0.3 ms on the file; both
    reach the same index, and SQLite in WAL mode serialises writers across processes.
    """

    def __init__(self, actor: ActorLedger, path: str, host: str) -> None:
        self._actor, self._path, self._host = actor, path, host

    def _target(self) -> Any:
        if self._host == socket.gethostname() and os.path.exists(self._path):
            if self._path not in _direct:
                _direct[self._path] = Ledger(self._path)
            return _direct[self._path]
        return self._actor

    def claim_many(
        self, keys: Sequence[str], holder: str, ttl: float, take_over: str | None = None
    ) -> dict[str, str]:
        return dict(self._target().claim_many(keys, holder, ttl, take_over))

    def claim_any(self, keys: Sequence[str], holder: str, ttl: float) -> str | None:
        result = self._target().claim_any(keys, holder, ttl)
        return None if result is None else str(result)

    def release(self, keys: Sequence[str], holder: str) -> None:
        self._target().release(keys, holder)


def ledger_actor_name(store: AtomStore) -> str:
    """The actor name of a store's Ledger: one per Ledger file."""
    path = str(store.ledger_path.resolve())
    return "ledger-" + _hashing.digest("motools.ledger-actor.v1", path)[:16]


def get_ledger_actor(store: AtomStore) -> ActorLedger:
    """The store's Ledger actor (created on this node if it does not exist yet)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # The SQLite file lives on the driver's node (the head node on a cluster): pin the actor there.
    here = ray.get_runtime_context().get_node_id()
    name = ledger_actor_name(store)
    _handles[name] = (
        ray.remote(_LedgerActor)
        .options(
            name=name,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            max_restarts=-1,
            max_task_retries=-1,
            num_cpus=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False),
        )
        .remote(str(store.ledger_path.resolve()))
    )
    return ActorLedger(name)


@dataclass
class NodeResult:
    """What a node task returns: its StepRun and the datasets it produced (by output name)."""

    step_run: StepRun
    datasets: dict[str, Dataset] = field(default_factory=dict)


@dataclass(frozen=True)
class _TaskContext:
    store: AtomStore
    leases: LeaseAccess
    run_id: str
    user: str | None
    force: Force
    write_cache: bool
    holder: str


def _node_task(
    node: PlanNode,
    ctx: _TaskContext,
    claimed: bool,
    settled: dict[str, StepRun],
    upstream_ids: list[str],
    *upstream: NodeResult,
) -> NodeResult:
    results = dict(zip(upstream_ids, upstream, strict=True))
    runs = {**settled, **{pid: r.step_run for pid, r in results.items()}}
    blocked = [runs[u] for u in node.upstream if runs[u].status in ("failed", "skipped")]
    if blocked:
        return NodeResult(marker(node, ctx.run_id, ctx.user, status="skipped",
                                 error=f"upstream step {blocked[0].step!r} did not succeed"))
    outputs = {pid: sr.outputs for pid, sr in runs.items()}
    try:
        inputs = node.resolve_inputs(outputs)
    except Exception as exc:
        return NodeResult(marker(node, ctx.run_id, ctx.user, status="failed", error=one_line(exc)))
    preloaded: dict[str, Dataset] = {}
    for name, source in node.inputs.items():
        for pid in source.producers:
            if pid in results and name in results[pid].datasets:
                preloaded[name] = results[pid].datasets[name]
                break
    produced: dict[str, Dataset] = {}
    step_run = run_node_once(
        node, inputs, node.cache_key(inputs), ctx.store, ctx.leases,
        run_id=ctx.run_id, user=ctx.user, force=is_forced(node, ctx.force),
        write_cache=ctx.write_cache,
        preloaded=preloaded, datasets_out=produced, holder=ctx.holder, claimed=claimed,
    )
    return NodeResult(step_run, produced if step_run.status == "succeeded" else {})


_remote_task: Any = None


def _task_options(node: PlanNode) -> dict[str, Any]:
    res = node.step.resources
    options: dict[str, Any] = {
        "num_cpus": res.num_cpus,
        "num_gpus": res.num_gpus,
        "max_retries": res.max_retries,
        "retry_exceptions": False,  # user exceptions are retried (if opted in) inside the task
        "name": f"motools:{node.name}",
    }
    if res.memory is not None:
        options["memory"] = res.memory
    return options


def run_ray(
    plan: Plan,
    store: AtomStore,
    ledger: Ledger,
    *,
    run_id: str,
    user: str | None,
    force_rerun: Force = False,
    no_cache: bool = False,
    observe: Callable[[StepRun], None] | None = None,
    address: str | None = None,
    max_parallel: int | None = None,
) -> dict[str, StepRun]:
    """Execute a plan on Ray. Returns plan id -> the node's StepRun.

    `max_parallel` caps how many step tasks are submitted and unfinished at any moment.
    """
    done: dict[str, StepRun] = {}

    def settle(runs: Sequence[StepRun]) -> None:
        for sr in runs:
            done[sr.plan_id] = sr
            if observe is not None:
                observe(sr)

    # 1. The cached part, in this process: a fully cached plan never starts Ray.
    settled, to_submit, known_keys = settle_cached(
        plan, store, ledger, run_id=run_id, user=user, force_rerun=force_rerun
    )
    ledger.commit(settled, cache=False)
    settle(settled)
    if not to_submit:
        return done

    # 2. Everything else becomes one graph of tasks, submitted at once.
    import ray

    global _remote_task
    ensure_ray(address)
    check_fits_this_machine(to_submit)
    if _remote_task is None:
        _remote_task = ray.remote(_node_task)
    actor = get_ledger_actor(store)
    leases = LeaseAccess(actor, str(ledger.path.resolve()), socket.gethostname())
    ctx = _TaskContext(store, leases, run_id, user, force_rerun, not no_cache,
                       lease_holder(run_id))
    # Keys known now are leased in one batch; the tasks behind them lease their own.
    owners = ledger.claim_many(list(known_keys.values()), ctx.holder, lease_ttl())
    claimed = {pid for pid, key in known_keys.items() if owners[key] == ctx.holder}
    for pid in claimed:  # queued tasks may wait longer than a TTL: the driver keeps them alive
        hold_lease(ledger, known_keys[pid], ctx.holder)
    order = {node.plan_id: i for i, node in enumerate(to_submit)}
    queue = deque(sorted(to_submit, key=lambda n: (n.level, order[n.plan_id])))
    # Consumers not yet submitted, per node: a result is released once nobody needs its ref.
    waiting_consumers = Counter(u for n in to_submit for u in n.upstream)
    refs: dict[str, Any] = {}
    pending: dict[Any, str] = {}

    def submit_ready() -> None:
        # Without max_parallel everything is submitted at once and Ray chains the tasks itself;
        # with it, at most that many are in flight and the rest wait here.
        while queue and (max_parallel is None or len(pending) < max_parallel):
            node = queue.popleft()
            upstream_ids = [u for u in node.upstream if u in refs]
            settled_up = {u: done[u] for u in node.upstream if u in done and u not in refs}
            ref = _remote_task.options(**_task_options(node)).remote(
                node, ctx, node.plan_id in claimed, settled_up, upstream_ids,
                *[refs[u] for u in upstream_ids]
            )
            refs[node.plan_id] = ref
            pending[ref] = node.plan_id
            for u in node.upstream:
                waiting_consumers[u] -= 1
                if waiting_consumers[u] <= 0 and u in done:
                    refs.pop(u, None)

    # 3. Collect in batches: one Ledger commit per batch of finished tasks.
    submit_ready()
    while pending:
        ready_refs, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.2)
        batch: list[StepRun] = []
        for ref in ready_refs:
            pid = pending.pop(ref)
            node = plan.nodes[pid]
            try:
                batch.append(ray.get(ref).step_run)
            except Exception as exc:  # the worker died past its retries, or Ray itself failed
                bad = [u for u in node.upstream if u in done and done[u].status in ("failed", "skipped")]
                status = "skipped" if bad else "failed"
                error = f"upstream step {done[bad[0]].step!r} did not succeed" if bad else one_line(exc)
                # The key (when known up front) releases the node's lease with the commit.
                batch.append(marker(node, run_id, user, status=status, error=error,
                                    key=known_keys.get(pid)))
            done[pid] = batch[-1]
            if waiting_consumers[pid] <= 0:
                refs.pop(pid, None)
            if pid in claimed:
                drop_lease(known_keys[pid], ctx.holder)
        if batch:
            actor.commit(batch, cache=not no_cache)
            for sr in batch:
                if observe is not None:
                    observe(sr)
        submit_ready()
    return done
