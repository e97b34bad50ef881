"""Sweep scale: train_and_evaluate on the dummy backends over N points, cold then fully cached.

Each run is a whole fresh process (`motools sweep run`), as a user runs it. Prints wall time, the
driver's peak RSS and the peak RSS of the whole process tree (driver + Ray), and time per point,
so growth with N can be read off directly. Targets on 2 cores: fully cached rerun of 1,000 points
under 2 s (and no Ray started), 10,000 points cold under 90 s with all processes together under
4 GiB. For the cold runs against the Ray floor of the same shape, see cold_start.py.

    python benchmarks/sweep_scale.py               # N = 100, 1000
    python benchmarks/sweep_scale.py 100 1000 10000
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil  # a dependency of Ray

REPO = Path(__file__).resolve().parents[1]


def write_sweep(folder: Path, n: int) -> Path:
    path = folder / f"bench_{n}.yaml"
    path.write_text(
        f"name: bench-{n}\n"
        "workflow: train_and_evaluate\n"
        f"base: {REPO / 'configs' / 'hello_world.yaml'}\n"
        "grid:\n"
        f"  submit_training.hyperparameters.seed: {list(range(n))}\n"
    )
    return path


def run(sweep: Path, store: Path) -> tuple[float, float, float, int]:
    """(wall seconds, driver peak RSS GiB, tree peak RSS GiB, exit code) of one CLI run."""
    env = {**os.environ, "MOTOOLS_STORE": str(store)}
    exe = shutil.which("motools") or sys.exit("install motools first (pip install -e .)")
    t = time.perf_counter()
    proc = subprocess.Popen([exe, "sweep", "run", str(sweep)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = psutil.Process(proc.pid)
    peaks = {"driver": 0, "tree": 0}

    def sample() -> None:
        while proc.poll() is None:
            try:
                procs = [driver, *driver.children(recursive=True)]
                rss = [p.memory_info().rss for p in procs if p.is_running()]
                peaks["driver"] = max(peaks["driver"], rss[0])
                peaks["tree"] = max(peaks["tree"], sum(rss))
            except psutil.Error:
                pass
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    took = time.perf_counter() - t
    sampler.join()
    return took, peaks["driver"] / 2**30, peaks["tree"] / 2**30, code


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            store = Path(tmp) / f"store-{n}"
            sweep = write_sweep(Path(tmp), n)
            cold = run(sweep, store)
            cached = run(sweep, store)
            print(
                f"N={n:>6}: cold {cold[0]:7.2f}s ({1000 * cold[0] / n:6.1f} ms/point, "
                f"driver {cold[1]:.2f} GiB, all {cold[2]:.2f} GiB, exit {cold[3]}) | "
                f"cached {cached[0]:6.2f}s (driver {cached[1]:.2f} GiB, exit {cached[3]})",
                flush=True,
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
