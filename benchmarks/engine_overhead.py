"""Engine overhead: N independent 4-step chains of no-op steps vs N x 4 chained empty Ray tasks.

Both run in this process on the same local Ray, in three alternating rounds. Prints wall times and
each round's ratio, then the median ratio (target: motools within 2x of bare Ray), then a fully
cached rerun in-process and as a whole fresh process (target: N = 1000 under 2 s, no Ray
started).

    python benchmarks/engine_overhead.py            # N = 100 and 1000
    python benchmarks/engine_overhead.py 100 300
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from motools.atom import get_store  # noqa: E402
from motools.engine import RunOptions  # noqa: E402
from motools.engine._run import execute_plan  # noqa: E402
from motools.workflow import AtomConstructor, Step, Workflow, compile_plan  # noqa: E402


@dataclass
class Seed:
    seed: int = 0


def _noop(i: int):  # type: ignore[no-untyped-def]
    """Step i of a chain: consumes o{i-1}, produces o{i}, a metadata-only atom."""

    def step(config: Seed, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
        upstream = sorted(a.id for a in input_atoms.values())
        return [AtomConstructor(name=f"o{i}", path=None, type="blob",
                                metadata={"seed": config.seed, "up": upstream})]

    step.__name__ = step.__qualname__ = f"noop{i}"
    return step


# Module-level names, so Ray workers import the steps by reference.
noop0, noop1, noop2, noop3 = (_noop(i) for i in range(4))


def _step(i: int) -> Step:
    return Step(name=f"s{i}", function=globals()[f"noop{i}"], config_class=Seed,
                input_atom_types={f"o{i - 1}": "blob"} if i else {},
                output_atom_types={f"o{i}": "blob"})


@dataclass
class ChainConfig:
    s0: Seed
    s1: Seed
    s2: Seed
    s3: Seed


WORKFLOW = Workflow(name="chain4", input_atom_types={}, steps=[_step(i) for i in range(4)],
                    config_class=ChainConfig)


def configs(n: int) -> list[dict]:
    return [{f"s{i}": {"seed": k} for i in range(4)} for k in range(n)]


def run_motools(n: int, store_root: str) -> float:
    t = time.perf_counter()
    plan = compile_plan(WORKFLOW, configs(n), {})
    run, done = execute_plan(plan, get_store(store_root), kind="sweep", name="bench",
                             options=RunOptions(user="bench"))
    took = time.perf_counter() - t
    assert run.status == "succeeded", run.counts
    return took


def run_bare(n: int) -> float:
    import ray

    @ray.remote
    def empty(*args):  # type: ignore[no-untyped-def]
        return None

    t = time.perf_counter()
    tails = []
    for _ in range(n):
        ref = empty.remote()
        for _ in range(3):
            ref = empty.remote(ref)
        tails.append(ref)
    ray.get(tails)
    return time.perf_counter() - t


CACHED_CHILD = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {here!r})
import engine_overhead as b
from motools.atom import get_store
from motools.engine import RunOptions
from motools.engine._run import execute_plan
from motools.workflow import compile_plan
plan = compile_plan(b.WORKFLOW, b.configs({n}), {{}})
run, done = execute_plan(plan, get_store({store!r}), kind="sweep", name="bench",
                         options=RunOptions(user="bench"))
print(run.counts, "ray" in sys.modules, round(time.perf_counter() - t, 3))
"""


def main(sizes: list[int], repeat: int = 3) -> None:
    from motools.engine import ensure_ray

    t = time.perf_counter()
    ensure_ray()
    print(f"ray start: {time.perf_counter() - t:.2f}s")
    run_bare(10)  # warm the worker pool for both contenders
    for n in sizes:
        # Alternating rounds, median ratio: on 2 shared cores one round can be 30% off either way.
        ratios, bare, mot = [], 0.0, 0.0
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                bare = run_bare(n)
                mot = run_motools(n, os.path.join(tmp, "store"))
                ratios.append(mot / bare)
                print(f"N={n:>5}: bare ray {bare:6.2f}s ({4 * n / bare:5.0f} tasks/s) | motools "
                      f"cold {mot:6.2f}s | ratio {mot / bare:4.2f}x")
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "store")
            run_motools(n, store)
            t = time.perf_counter()
            plan = compile_plan(WORKFLOW, configs(n), {})
            execute_plan(plan, get_store(store), kind="sweep", name="bench",
                         options=RunOptions(user="bench"))
            cached_in_process = time.perf_counter() - t
            t = time.perf_counter()
            child = subprocess.run(
                [sys.executable, "-c", CACHED_CHILD.format(here=str(Path(__file__).parent), n=n,
                                                          store=store)],
                capture_output=True, text=True, check=True,
            )
            cached_process = time.perf_counter() - t
        print(
            f"N={n:>5}: median ratio {statistics.median(ratios):4.2f}x over {repeat} rounds "
            f"(target <= 2x) | cached in-process {cached_in_process:5.2f}s | cached whole process "
            f"{cached_process:5.2f}s (target < 2 s at N=1000) [{child.stdout.strip()}]"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
