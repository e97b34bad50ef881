"""Running one chain of plan nodes: what an executor's task does (a Ray task, or inline).

Each node of the chain runs through single flight (`run_node_once`) with its own key, lease,
record and provenance; a node whose upstream did not succeed is skipped, so a failure in the middle
of a chain returns the earlier nodes' results and skips the later ones. Datasets a node produced
are handed to the next node in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from motools.atom._dataset import Dataset
from motools.atom._store import AtomRecord, AtomStore
from motools.engine._access import reach_ledger
from motools.engine._fuse import Chain, chain_cpus
from motools.engine._node import one_line
from motools.engine._options import RunOptions
from motools.engine._ray_runtime import RAY_NAMESPACE
from motools.engine._records import StepRun
from motools.engine._settle import blocker, is_forced, marker, skipped
from motools.engine._single_flight import run_node_once
from motools.workflow._plan import PlanNode

# How long a CPU task runs a `num_cpus: 0` step while still holding its CPU. Past it the task
# lends the CPU back to Ray until the step returns.
_GRACE_SECONDS = 0.2


@dataclass
class ChainResult:
    """What a chain's task returns: each node's StepRun (chain order) and the datasets its last
    node produced (by output name), which travel to the consumers of that node."""

    step_runs: list[StepRun]
    datasets: dict[str, Dataset] = field(default_factory=dict)

    @property
    def tail(self) -> StepRun:
        """The StepRun of the chain's last node (the one other tasks consume)."""
        return self.step_runs[-1]


@dataclass(frozen=True)
class ChainContext:
    """What every task of one run shares (pickled once per task)."""

    store: AtomStore
    run_id: str
    user: str | None
    options: RunOptions
    holder: str
    lends_cpu: bool = False


_running: ChainContext | None = None


def running_context() -> ChainContext | None:
    """The context of the chain this process is running now, None outside one (for tests)."""
    return _running


def run_chain(
    chain: Chain,
    ctx: ChainContext,
    claimed: frozenset[str],
    settled: Mapping[str, StepRun],
    upstream_ids: list[str],
    *upstream: ChainResult,
) -> ChainResult:
    """Run the nodes of a chain in order.

    Args:
        chain: The nodes, each the only consumer of the one before.
        ctx: The run's shared context.
        claimed: Plan ids whose keys the driver reserved for this task.
        settled: Upstream runs already settled when the task was submitted (by plan id).
        upstream_ids: The plan ids of the chains' tails that `upstream` holds, in order.
        upstream: Results of the upstream tasks (Ray resolves ObjectRefs to these).
    """
    global _running
    _running = ctx
    runs: dict[str, StepRun] = dict(settled)
    datasets: dict[str, Mapping[str, Dataset]] = {}
    for pid, result in zip(upstream_ids, upstream, strict=True):
        runs[pid] = result.tail
        datasets[pid] = result.datasets
    cpus = chain_cpus(chain)
    out: list[StepRun] = []
    known_atoms: dict[str, AtomRecord] = {}  # what this task stored: not read back from the store
    for node in chain:
        lend_cpu = ctx.lends_cpu and node.step.resources.num_cpus < cpus
        step_run, produced = _run_node(node, ctx, node.plan_id in claimed, runs, datasets,
                                       known_atoms, lend_cpu)
        runs[node.plan_id] = step_run
        datasets[node.plan_id] = produced
        out.append(step_run)
    return ChainResult(out, dict(datasets[chain[-1].plan_id]))


def _run_node(
    node: PlanNode,
    ctx: ChainContext,
    claimed: bool,
    runs: Mapping[str, StepRun],
    datasets: Mapping[str, Mapping[str, Dataset]],
    known_atoms: dict[str, AtomRecord],
    lend_cpu: bool,
) -> tuple[StepRun, dict[str, Dataset]]:
    if (behind := blocker(node, runs)) is not None:
        return skipped(node, behind, ctx.run_id, ctx.user), {}
    try:
        inputs = node.resolve_inputs({pid: sr.outputs for pid, sr in runs.items()})
    except Exception as exc:
        return marker(node, ctx.run_id, ctx.user, status="failed", error=one_line(exc)), {}
    preloaded: dict[str, Dataset] = {}
    for name, source in node.inputs.items():
        for pid in source.producers:
            if name in datasets.get(pid, {}):
                preloaded[name] = datasets[pid][name]
                break
    produced: dict[str, Dataset] = {}

    def call() -> StepRun:
        return run_node_once(
            node, inputs, node.cache_key(inputs), ctx.store, reach_ledger(ctx.store),
            run_id=ctx.run_id, user=ctx.user, force=is_forced(node, ctx.options.force_rerun),
            write_cache=not ctx.options.no_cache, preloaded=preloaded, datasets_out=produced,
            known_atoms=known_atoms, holder=ctx.holder, claimed=claimed,
        )

    step_run = run_without_cpu(call) if lend_cpu else call()
    return step_run, produced if step_run.status == "succeeded" else {}


def run_without_cpu(call: Callable[[], StepRun]) -> StepRun:
    """Run a `num_cpus: 0` step inside a Ray task that holds a CPU, without keeping the CPU while
    the step waits.

    The step runs on a thread. If it returns within a short grace period (the common case: the
    job it waits on is done), nothing else happens. Otherwise the task's main thread blocks in
    `ray.get` on a short sleep of a CPU-less actor, over and over until the step returns: Ray
    lends the CPU of a task blocked in `ray.get` to other tasks and actors (a trainer, say), which
    is what stops a sweep of waiting chains from starving the trainers they wait on.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the task's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="motools-step", daemon=True)
    thread.start()
    thread.join(_GRACE_SECONDS)
    if thread.is_alive():
        import ray

        pause = _pause_actor()
        delay = 0.05
        while thread.is_alive():
            ray.get(pause.sleep.remote(delay))
            delay = min(1.0, delay * 2)
    thread.join()
    if "error" in box:
        raise box["error"]
    step_run: StepRun = box["value"]
    return step_run


class _Pause:
    """A CPU-less async actor whose only method sleeps: something to block `ray.get` on."""

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)


_pause: dict[str, Any] = {}


def _pause_actor() -> Any:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    if node not in _pause:
        _pause[node] = (
            ray.remote(_Pause)
            .options(
                name=f"pause-{node[:16]}", namespace=RAY_NAMESPACE, get_if_exists=True,
                lifetime="detached", num_cpus=0, max_concurrency=10_000, max_restarts=-1,
                max_task_retries=-1,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=True),
            )
            .remote()
        )
    return _pause[node]
