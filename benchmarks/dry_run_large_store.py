"""Dry run of a sweep against a large store: 5,000 points x 2 steps = 10,000 cached step runs.

The dry run answers "what would this sweep run?" from the store and its Ledger, writing nothing.
It used to read the Ledger through a private copy of the SQLite file (so that the settle pass
could forget stale cache entries harmlessly); it now reads the Ledger in place, read-only. Prints
the Ledger's size, the wall time of the dry run (median of 5) and how many bytes it copied.

    python benchmarks/dry_run_large_store.py                 # a fresh store in a temp folder
    python benchmarks/dry_run_large_store.py --store DIR     # reuse (and fill once) DIR

Filling the store executes the 10,000 steps inline once (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from motools.atom import get_store
from motools.engine import RunOptions
from motools.sweep import dry_run_sweep, run_sweep
from motools.workflow import AtomConstructor, Step, Workflow

POINTS = 5_000


@dataclasses.dataclass
class MakeConfig:
    seed: int = 0


@dataclasses.dataclass
class ScoreConfig:
    scale: int = 1


@dataclasses.dataclass
class BenchConfig:
    make: MakeConfig
    score: ScoreConfig


def make(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    path = temp_workspace / "rows.jsonl"
    path.write_text(json.dumps({"seed": config.seed}) + "\n")
    return [AtomConstructor(name="rows", path=path, type="dataset")]


def score(config, input_atoms, temp_workspace):  # type: ignore[no-untyped-def]
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"bench": {"value": config.scale}}}))
    return [AtomConstructor(name="score", path=path, type="eval")]


WORKFLOW = Workflow(
    name="dry_run_bench",
    input_atom_types={},
    steps=[
        Step(name="make", function=make, input_atom_types={}, config_class=MakeConfig,
             output_atom_types={"rows": "dataset"}),
        Step(name="score", function=score, input_atom_types={"rows": "dataset"},
             config_class=ScoreConfig),
    ],
    config_class=BenchConfig,
)
BASE = {"make": {"seed": 0}, "score": {"scale": 1}}
GRID = {"make.seed": list(range(POINTS))}


def copied_bytes_during(call) -> tuple[object, int]:  # type: ignore[no-untyped-def]
    """Run `call`, counting the bytes shutil copies meanwhile (the old dry run's Ledger copy)."""
    copied = [0]
    real = shutil.copyfile

    def counting(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        copied[0] += Path(src).stat().st_size
        return real(src, dst, *args, **kwargs)

    shutil.copyfile = counting  # type: ignore[assignment]
    try:
        return call(), copied[0]
    finally:
        shutil.copyfile = real  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args()
    root = args.store or Path(tempfile.mkdtemp(prefix="motools-dry-run-bench-"))
    store = get_store(root)
    options = RunOptions(executor="inline", store=store, user="bench")
    if not store.ledger_path.exists():
        t = time.perf_counter()
        result = run_sweep(WORKFLOW, BASE, grid=GRID, options=options)
        assert result.ok
        print(f"filled the store: {2 * POINTS} step runs in {time.perf_counter() - t:.1f} s")
    size = sum(p.stat().st_size for p in root.glob("ledger.sqlite*"))
    times, copied = [], 0
    for _ in range(5):
        t = time.perf_counter()
        preview, copied = copied_bytes_during(
            lambda: dry_run_sweep(WORKFLOW, BASE, grid=GRID, options=options))
        times.append(time.perf_counter() - t)
    cached = sum(s.cached for s in preview.steps)  # type: ignore[attr-defined]
    print(f"store: {root}  ledger: {size / 2**20:.1f} MiB  cached step runs found: {cached}")
    print(f"dry run of {POINTS} points: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f} s); bytes copied per dry run: {copied:,}")


if __name__ == "__main__":
    main()
