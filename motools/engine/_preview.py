"""Dry runs: what a plan would run, found without writing a byte to the store or its Ledger.

The settle pass writes nothing (stale cache entries are reported, not forgotten), so a dry run
reads the Ledger where it is. A cleanly closed Ledger (the usual case: no run is going on) is
opened `immutable`, which creates no `-wal`/`-shm` file and takes no lock; nothing is copied. A
Ledger some process holds open (its `-wal` exists) is read through a throwaway copy of the file
and its WAL: reading it in place would write read marks into its `-shm`. A store without a Ledger
yet is a store with nothing cached: no folder, no file is made for it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from motools.atom._store import AtomStore
from motools.engine._fuse import chains
from motools.engine._ledger import Ledger
from motools.engine._options import Force
from motools.engine._schedule import not_ready
from motools.engine._settle import settle_cached
from motools.workflow._plan import Plan


@dataclass(frozen=True)
class StepPlanCounts:
    """What a dry run found for one step of a plan.

    Attributes:
        step: The step's name.
        points: How many points (configs) use the step.
        nodes: Distinct nodes after deduplication (points with equal inputs share one).
        cached: Nodes served from the cache.
        to_run: Nodes that would execute, including those behind another node that executes.
        failed: Nodes that cannot run (an unselected stage with no cached result, an input
            that does not resolve) or are skipped behind one.
        errors: The one-line reasons of the `failed` nodes, without repeats.
        tasks: Executor tasks that start with this step.
        fused_with: The steps fused after it into those tasks (same task, each step still with
            its own cache key and record; see motools/engine/_fuse.py).
        not_ready: What the configs' `check_ready()` refuses for nodes that would run (a missing
            API key): a real run would stop with it before anything starts.
    """

    step: str
    points: int
    nodes: int
    cached: int
    to_run: int
    failed: int = 0
    errors: tuple[str, ...] = ()
    tasks: int = 0
    fused_with: tuple[str, ...] = ()
    not_ready: tuple[str, ...] = ()

    @property
    def deduplicated(self) -> int:
        """Point-steps that share a node with another point (computed once for all)."""
        return self.points - self.nodes


@contextmanager
def ledger_for_reading(store: AtomStore) -> Iterator[Ledger]:
    """The store's Ledger, read without writing a byte (see the module docstring)."""
    path = store.ledger_path
    if not path.exists():
        yield Ledger(":memory:")  # nothing cached
    elif Path(f"{path}-wal").exists():
        with ledger_snapshot(store) as ledger:
            yield ledger
    else:
        ledger = Ledger.read_only(path)
        try:
            yield ledger
        finally:
            ledger.close()


@contextmanager
def ledger_snapshot(store: AtomStore) -> Iterator[Ledger]:
    """A Ledger over a private copy of the store's Ledger (empty if it has none), then gone."""
    source = store.ledger_path
    with tempfile.TemporaryDirectory(prefix="motools-dry-run-") as tmp:
        copy = Path(tmp) / "ledger.sqlite"
        for suffix in ("", "-wal"):  # the -shm index is rebuilt from the WAL on open
            try:
                shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
            except FileNotFoundError:  # no Ledger yet, or no WAL (cleanly closed): fine
                if suffix == "":
                    break
        ledger = Ledger(copy)
        try:
            yield ledger
        finally:
            ledger.close()


def preview_plan(
    plan: Plan, store: AtomStore, *, force_rerun: Force = False
) -> list[StepPlanCounts]:
    """Per step of `plan`: points, unique nodes, cached, to run. Runs and writes nothing."""
    with ledger_for_reading(store) as index:
        found = settle_cached(plan, store, index, run_id="dry-run", user=None,
                              force_rerun=force_rerun)
    settled, to_run = found.runs, found.to_execute
    cached = Counter(plan.nodes[sr.plan_id].name for sr in settled if sr.status == "cached")
    failed = [(plan.nodes[sr.plan_id].name, sr.error or sr.status)
              for sr in settled if sr.status != "cached"]
    running = Counter(node.name for node in to_run)
    nodes = Counter(node.name for node in plan.nodes.values())
    uses = Counter(step for point in plan.points for step in point)
    shapes = Counter(tuple(n.name for n in chain) for chain in chains(plan, to_run))
    tasks = Counter(names[0] for names in shapes.elements())
    fused = {names[0]: names[1:] for names, _ in reversed(shapes.most_common())}
    refused: dict[str, dict[str, None]] = {}
    for node, exc in not_ready(to_run):
        refused.setdefault(node.name, {})[str(exc)] = None
    return [
        StepPlanCounts(
            step, uses[step], nodes[step], cached[step], running[step],
            failed=sum(1 for name, _ in failed if name == step),
            errors=tuple(dict.fromkeys(error for name, error in failed if name == step)),
            tasks=tasks[step], fused_with=fused.get(step, ()),
            not_ready=tuple(refused.get(step, ())),
        )
        for step in plan.workflow.step_names if step in nodes
    ]
