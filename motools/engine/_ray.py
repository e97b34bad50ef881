"""The Ray executor: chains of plan nodes become plain `.remote()` tasks linked by ObjectRefs.

The loop is `_schedule.schedule` (shared with the inline executor); this module is its Ray
backend. Tasks return their StepRuns plus the datasets their last node produced, which travel to
downstream tasks through Ray's object store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from motools.atom._store import AtomStore
from motools.engine._access import LedgerApi, start_ledger_actor
from motools.engine._chain import ChainResult, run_chain
from motools.engine._fuse import Chain, task_options
from motools.engine._ledger import Ledger
from motools.engine._ray_runtime import check_fits_this_machine, ensure_ray
from motools.engine._records import StepRun
from motools.engine._schedule import schedule
from motools.engine._settle import Force
from motools.workflow._plan import Plan, PlanNode


class RayBackend:
    """Chains as Ray tasks: each task's upstream ObjectRefs are its arguments, so Ray starts it
    when its inputs exist, with no driver round trip. Results are collected with `ray.wait` and
    committed to the Ledger actor in batches."""

    on_ray = True
    reserve_keys = True

    def __init__(self, store: AtomStore, ledger: Ledger, address: str | None) -> None:
        self._store, self._ledger, self._address = store, ledger, address
        self._actor: LedgerApi | None = None

    def start(self, nodes: Sequence[PlanNode]) -> None:
        global _remote_chain
        import ray

        ensure_ray(self._address)
        check_fits_this_machine(nodes)
        if _remote_chain is None:
            _remote_chain = ray.remote(run_chain)
        self._actor = start_ledger_actor(self._store)

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
    fuse: bool | None = None,
) -> dict[str, StepRun]:
    """Execute a plan on Ray. Returns plan id -> the node's StepRun.

    `max_parallel` caps how many tasks are submitted and unfinished at any moment; `fuse`
    overrides `MOTOOLS_FUSE` (linear chains as one task).
    """
    return schedule(plan, store, ledger, RayBackend(store, ledger, address), run_id=run_id,
                    user=user, force_rerun=force_rerun, no_cache=no_cache, observe=observe,
                    max_parallel=max_parallel, fuse=fuse)
