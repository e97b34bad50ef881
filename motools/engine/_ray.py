"""The Ray executor: chains of plan nodes become plain `.remote()` tasks linked by ObjectRefs.

The loop is `_schedule.schedule` (shared with the inline executor); this module is its Ray
backend, plus Ray's start-up, the Ledger actor and how tasks reach the Ledger for leases. Tasks
return their StepRuns plus the datasets their last node produced, which travel to downstream tasks
through Ray's object store.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

from motools import _hashing
from motools._errors import UserError
from motools.atom._store import AtomStore
from motools.engine._chain import ChainResult, run_chain
from motools.engine._fuse import Chain, task_options
from motools.engine._ledger import Ledger
from motools.engine._records import StepRun
from motools.engine._schedule import schedule
from motools.engine._run_context import RunContext
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
        if self._path in _direct:
            return _direct[self._path]
        if self._host == socket.gethostname() and os.path.exists(self._path):
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


class RayBackend:
    """Chains as Ray tasks: each task's upstream ObjectRefs are its arguments, so Ray starts it
    when its inputs exist, with no driver round trip. Results are collected with `ray.wait` and
    committed to the Ledger actor in batches."""

    on_ray = True
    reserve_keys = True

    def __init__(self, store: AtomStore, ledger: Ledger, address: str | None) -> None:
        self._store, self._ledger, self._address = store, ledger, address
        self._actor: ActorLedger | None = None

    def start(self, nodes: Sequence[PlanNode]) -> LeaseAccess:
        global _remote_chain
        import ray

        ensure_ray(self._address)
        check_fits_this_machine(nodes)
        if _remote_chain is None:
            _remote_chain = ray.remote(run_chain)
        self._actor = get_ledger_actor(self._store)
        return LeaseAccess(self._actor, str(self._ledger.path.resolve()), socket.gethostname())

    def submit(self, chain: Chain, args: tuple[Any, ...], inputs: list[Any]) -> Any:
        return _remote_chain.options(**task_options(chain)).remote(chain, *args, *inputs)

    def as_input(self, handle: Any) -> Any:
        return handle

    def wait(self, handles: list[Any]) -> list[Any]:
        import ray

        ready, _ = ray.wait(handles, num_returns=len(handles), timeout=0.2)
        return list(ready)

    def results(self, handles: list[Any]) -> list[ChainResult | Exception]:
        import ray

        try:  # one call for the whole batch
            return list(ray.get(handles))
        except Exception:  # some task failed: ask each one
            out: list[ChainResult | Exception] = []
            for handle in handles:
                try:
                    out.append(ray.get(handle))
                except Exception as exc:
                    out.append(exc)
            return out

    def commit(self, step_runs: list[StepRun], *, cache: bool) -> None:
        assert self._actor is not None
        self._actor.commit(step_runs, cache=cache)


_remote_chain: Any = None


def run_ray(plan: Plan, run: RunContext, *, fuse: bool | None = None) -> dict[str, StepRun]:
    """Execute a plan on Ray (`run.options.address`). Returns plan id -> the node's StepRun.

    `fuse` overrides `MOTOOLS_FUSE` (linear chains as one task).
    """
    backend = RayBackend(run.store, run.ledger, run.options.address)
    return schedule(plan, run, backend, fuse=fuse)
