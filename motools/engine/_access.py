"""Reaching a store's Ledger from any process: the driver, a Ray task, a trainer actor, a plugin.

A store has one SQLite Ledger. A process on the machine that holds the file opens it directly
(SQLite in WAL mode serialises writers across processes; a lease round trip costs about 0.3 ms).
A process on another node of a Ray cluster goes through the store's Ledger actor, pinned to the
file's machine (about 3 ms). `reach_ledger` decides which, once per process and store.
"""

from __future__ import annotations

import atexit
import socket
import sys
import threading
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol, cast

from motools import _hashing
from motools.atom._store import AtomStore
from motools.engine._ledger import Ledger
from motools.engine._ray_runtime import RAY_NAMESPACE
from motools.engine._records import StepRun


class LedgerApi(Protocol):
    """What code outside the driver may ask of a Ledger: the cache look-up, commits, leases.

    A `Ledger` is one; so is the proxy of the Ledger actor that `reach_ledger` returns on another
    node of a cluster.
    """

    def lookup_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]: ...
    def commit(self, step_runs: Sequence[StepRun], *, cache: bool = True) -> None: ...
    def claim_many(
        self, keys: Sequence[str], holder: str, ttl: float, take_over: str | None = None
    ) -> dict[str, str]: ...
    def claim_any(self, keys: Sequence[str], holder: str, ttl: float) -> str | None: ...
    def release(self, keys: Sequence[str], holder: str) -> None: ...


_ledgers: dict[Path, Ledger] = {}
_routes: dict[Path, LedgerApi] = {}
_lock = threading.Lock()


def get_ledger(store: AtomStore) -> Ledger:
    """The Ledger of a store, opened from its file (one per process).

    Args:
        store: The store; its Ledger file is created (with the store folder) if missing.
    """
    path = store.ledger_path.resolve()
    with _lock:
        if path not in _ledgers:
            _ledgers[path] = ledger = Ledger(path)
            # Closed at exit, so SQLite folds its WAL into the file and removes it: a dry run
            # then reads the closed file in place (see `_preview`), copying nothing.
            atexit.register(ledger.close)
        return _ledgers[path]


def read_ledger(store: AtomStore) -> Ledger | None:
    """The store's Ledger for a look-up, or None when a local store has none yet.

    Opening a Ledger creates its file (and the store folder): a look-up of something that cannot
    be there must leave the store as it found it, so the caller reports "not found" itself.

    Args:
        store: The store.
    """
    if store.local_root is not None and not store.ledger_path.exists():
        return None
    return get_ledger(store)


def reach_ledger(store: AtomStore) -> LedgerApi:
    """The store's Ledger from this process: its file when it is on this machine, else its actor.

    Decided on the first call in a process and kept: without Ray, or when no run made the store's
    Ledger actor, or when the actor runs on this machine, the file; on any other node of a Ray
    cluster, the actor.

    Args:
        store: The store whose Ledger to reach.
    """
    path = store.ledger_path.resolve()
    with _lock:
        route = _routes.get(path)
    if route is None:
        route = _route(store)
        with _lock:
            route = _routes.setdefault(path, route)
    return route


def _route(store: AtomStore) -> LedgerApi:
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return get_ledger(store)
    name = ledger_actor_name(store)
    try:
        handle = ray.get_actor(name, namespace=RAY_NAMESPACE)
    except ValueError:  # no run made the store's actor: nobody else uses its Ledger through Ray
        return get_ledger(store)
    if ray.get(handle.host.remote()) == socket.gethostname():
        return get_ledger(store)
    return cast(LedgerApi, ActorLedger(name))


class _LedgerActor:
    """The Ledger behind a Ray actor; every method is idempotent (calls may be retried)."""

    def __init__(self, path: str) -> None:
        self._ledger = Ledger(path)

    def host(self) -> str:
        return socket.gethostname()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._ledger, method)(*args, **kwargs)


_handles: dict[str, Any] = {}


class ActorLedger:
    """A picklable proxy forwarding each `LedgerApi` call to the named Ledger actor.

    It pickles as the actor's name alone: each process looks the handle up once, which is much
    cheaper than shipping a handle with every task.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return (ActorLedger, (self._name,))

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        return partial(self._call, method)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import ray

        handle = _handles.get(self._name)
        if handle is None:
            handle = _handles[self._name] = ray.get_actor(self._name, namespace=RAY_NAMESPACE)
        return ray.get(handle.call.remote(method, *args, **kwargs))


def ledger_actor_name(store: AtomStore) -> str:
    """The actor name of a store's Ledger: one per Ledger file."""
    path = str(store.ledger_path.resolve())
    return "ledger-" + _hashing.digest("motools.ledger-actor.v1", path)[:16]


def start_ledger_actor(store: AtomStore) -> None:
    """Create the store's Ledger actor on this node (the file's), unless it exists already."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # The SQLite file lives on the driver's node (the head node on a cluster): pin the actor there.
    here = ray.get_runtime_context().get_node_id()
    name = ledger_actor_name(store)
    _handles[name] = (
        ray.remote(_LedgerActor)
        .options(
            name=name,
            namespace=RAY_NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            max_restarts=-1,
            max_task_retries=-1,
            num_cpus=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False),
        )
        .remote(str(store.ledger_path.resolve()))
    )
