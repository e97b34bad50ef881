"""Fusing linear chains: the plan nodes one task runs, in order.

A node joins the chain of its producer when it is that producer's only consumer and has no other
producer: the usual `submit -> wait -> evaluate` of one sweep point, once the shared upstream is
settled. The point then costs one Ray task, not three, while each step keeps its own cache key,
lease, record and provenance (the task runs them one by one, see `_chain`).

What a chain may hold:

- Steps that ask for GPUs or memory always start their own task (Ray places them).
- A chain's task holds the CPUs its steps ask for, and its steps ask for the same number or for
  none: a `num_cpus: 0` step (one that waits on a remote job) runs inside a CPU task, and if it
  does not return at once the task lends its CPU back to Ray until it does
  (`_chain.run_without_cpu`), so a waiting chain never holds a CPU that a trainer needs.
- A step that asks for a different non-zero number of CPUs starts a new chain.

`MOTOOLS_FUSE=0` turns fusion off (one task per node): cache keys and results are the same.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from motools.workflow._plan import Plan, PlanNode

Chain = tuple[PlanNode, ...]


def fusion_enabled() -> bool:
    """Whether linear chains run as one task (`MOTOOLS_FUSE`, default on)."""
    return os.environ.get("MOTOOLS_FUSE", "1").strip().lower() not in ("0", "false", "no", "off")


def _placed(node: PlanNode) -> bool:
    """Steps that need a GPU or a memory reservation get their own task."""
    res = node.step.resources
    return res.num_gpus > 0 or res.memory is not None


def chain_cpus(chain: Sequence[PlanNode]) -> float:
    """The CPUs a chain's task holds: those of its hungriest step."""
    return max(n.step.resources.num_cpus for n in chain)


def _joins(chain: Sequence[PlanNode], node: PlanNode) -> bool:
    if _placed(chain[0]) or _placed(node):
        return False
    cpus, held = node.step.resources.num_cpus, chain_cpus(chain)
    return cpus == held or cpus == 0 or held == 0


def chains(plan: Plan, nodes: Sequence[PlanNode], fuse: bool | None = None) -> list[Chain]:
    """Group nodes to execute (in topological order) into chains, each one task.

    Args:
        plan: The whole plan (consumers are counted over all of it).
        nodes: The nodes that will execute, producers before consumers.
        fuse: Override `MOTOOLS_FUSE`; False gives one chain per node.
    """
    fuse = fusion_enabled() if fuse is None else fuse
    consumers = plan.downstream() if fuse else {}
    out: list[list[PlanNode]] = []
    by_tail: dict[str, list[PlanNode]] = {}
    for node in nodes:
        chain: list[PlanNode] | None = None
        if fuse and len(node.upstream) == 1:
            producer = node.upstream[0]
            candidate = by_tail.get(producer)
            if (candidate is not None and consumers[producer] == [node.plan_id]
                    and _joins(candidate, node)):
                chain = by_tail.pop(producer)
        if chain is None:
            chain = []
            out.append(chain)
        chain.append(node)
        by_tail[node.plan_id] = chain
    return [tuple(c) for c in out]


def task_options(chain: Chain) -> dict[str, Any]:
    """Ray options of a chain's task: its steps' CPUs, the fewest retries of any."""
    res = chain[0].step.resources  # GPU and memory steps are never fused
    retries = [n.step.resources.max_retries for n in chain]
    finite = [r for r in retries if r >= 0]
    options: dict[str, Any] = {
        "num_cpus": chain_cpus(chain),
        "num_gpus": res.num_gpus,
        # A retried chain re-runs from its first step; steps that finished are served from their
        # store step records, so only the step in flight really runs again.
        "max_retries": min(finite) if finite else -1,
        "retry_exceptions": False,  # user exceptions are retried (if opted in) inside the task
        "name": "motools:" + "+".join(n.name for n in chain),
    }
    if res.memory is not None:
        options["memory"] = res.memory
    return options

