"""The Ray executor: chains of plan nodes become plain `.remote()` tasks linked by ObjectRefs.

The loop is `_schedule.schedule` (shared with the inline executor); this module is its Ray
backend. Tasks return their StepRuns plus the datasets their last node produced, which travel to
downstream tasks through Ray's object store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from motools.atom._store import AtomStore
from motools.engine._access import LedgerApi, start_ledger_actor
from motools.engine._chain import ChainResult, run_chain
from motools.engine._fuse import Chain, task_options
from motools.engine._ledger import Ledger
from motools.engine._ray_runtime import check_fits_this_machine, ensure_ray
from motools.engine._records import StepRun
from motools.engine._run_context import RunContext
from motools.engine._schedule import schedule
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


def run_ray(plan: Plan, run: RunContext, *, fuse: bool | None = None) -> dict[str, StepRun]:
    """Execute a plan on Ray (`run.options.address`). Returns plan id -> the node's StepRun.

    `fuse` overrides `MOTOOLS_FUSE` (linear chains as one task).
    """
    backend = RayBackend(run.store, run.ledger, run.options.address)
    return schedule(plan, run, backend, fuse=fuse)
