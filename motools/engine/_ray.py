"""The Ray executor: chains of plan nodes become plain `.remote()` tasks linked by ObjectRefs.

The loop is `_schedule.schedule` (shared with the inline executor); this module is its Ray
backend. Tasks return their StepRuns plus the datasets their last node produced, which travel to
downstream tasks through Ray's object store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from motools.atom._store import AtomStore
from motools.engine._access import start_ledger_actor
from motools.engine._chain import ChainResult, run_chain
from motools.engine._fuse import Chain, task_options
from motools.engine._ray_runtime import check_fits_this_machine, ensure_ray
from motools.engine._records import StepRun
from motools.engine._run_context import RunContext
from motools.engine._schedule import Capabilities, schedule
from motools.workflow._plan import Plan, PlanNode


class RayBackend:
    """Chains as Ray tasks: each task's upstream ObjectRefs are its arguments, so Ray starts it
    when its inputs exist, with no driver round trip. Results are collected with `ray.wait`."""

    capabilities = Capabilities(concurrent=True, queues=True, lends_cpu=True)

    def __init__(self, store: AtomStore, address: str | None) -> None:
        self._store, self._address = store, address

    def start(self, nodes: Sequence[PlanNode]) -> None:
        global _remote_chain
        import ray

        ensure_ray(self._address)
        check_fits_this_machine(nodes)
        if _remote_chain is None:
            _remote_chain = ray.remote(run_chain)
        # Tasks on other nodes of a cluster reach the Ledger through it (`reach_ledger`).
        start_ledger_actor(self._store)

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


_remote_chain: Any = None


def run_ray(plan: Plan, run: RunContext, *, fuse: bool | None = None) -> dict[str, StepRun]:
    """Execute a plan on Ray (`run.options.address`). Returns plan id -> the node's StepRun.

    `fuse` overrides `MOTOOLS_FUSE` (linear chains as one task).
    """
    backend = RayBackend(run.store, run.options.address)
    return schedule(plan, run, backend, fuse=fuse)
