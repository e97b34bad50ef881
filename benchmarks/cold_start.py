"""Whole-process cold runs: motools' dummy sweep against the Ray floor for the same shape.

For each N, in the same minute, each as a fresh process:

- the Ray floor: `import ray`, `ray.init`, N chains of 4 empty `.remote()` tasks, `ray.get`;
- `motools sweep run` of train_and_evaluate on the dummy backends over N points, fresh store
  (Ray executor, fusion on: what users get);
- the same with `MOTOOLS_FUSE=0` (one task per step, as before fused chains);
- the same with `--executor inline`;
- with `--baseline TREE`, the Ray sweep with motools imported from another source tree.

Prints wall times, Python worker processes started, and the ratios to the floor (targets: the Ray
sweep <= 1.5x the floor at N = 100 and N = 1,000).

    python benchmarks/cold_start.py              # N = 100, 1000
    python benchmarks/cold_start.py 100 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil  # a dependency of Ray
from sweep_scale import write_sweep  # the same sweep file shape, from this folder

REPO = Path(__file__).resolve().parents[1]

FLOOR = """
import os, ray
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray.init(address="local", include_dashboard=False, logging_level="ERROR", log_to_driver=False)

@ray.remote
def empty(*args):
    return None

tails = []
for _ in range({n}):
    ref = empty.remote()
    for _ in range(3):
        ref = empty.remote(ref)
    tails.append(ref)
ray.get(tails)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(wall seconds, Python worker processes seen, exit code) of one whole process."""
    output = tempfile.TemporaryFile()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=output, stderr=subprocess.STDOUT)
    root = psutil.Process(proc.pid)
    workers: set[int] = set()

    def sample() -> None:
        while proc.poll() is None:
            try:
                for child in root.children(recursive=True):
                    if "ray::" in child.name() or "default_worker" in " ".join(child.cmdline()):
                        workers.add(child.pid)
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    took = time.perf_counter() - t
    sampler.join()
    if code != 0:  # show why, without the rows of the results table
        output.seek(0)
        lines = output.read().decode(errors="replace").splitlines()
        shown = [line for line in lines[-40:] if "succeeded │" not in line]
        print("\n".join(shown), file=sys.stderr)
    return took, len(workers), code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-inline", action="store_true")
    parser.add_argument("--baseline", metavar="TREE",
                        help="also run the Ray sweep with motools imported from this source tree "
                             "(e.g. a checkout of main), for a before/after in one command")
    args = parser.parse_args()
    exe = (shutil.which("motools") or shutil.which("motools", path=str(Path(sys.executable).parent))
           or sys.exit("install motools first (pip install -e .)"))
    base_env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            sweep = write_sweep(Path(tmp), n)
            for rep in range(args.repeat):
                rows: dict[str, tuple[float, int, int]] = {}
                rows["ray floor"] = timed([sys.executable, "-c", FLOOR.format(n=n)], base_env)
                variants = {"motools ray": {}, "motools ray, no fusion": {"MOTOOLS_FUSE": "0"}}
                if args.baseline:
                    variants["baseline ray"] = {"PYTHONPATH": str(Path(args.baseline).resolve())}
                if not args.no_inline:
                    variants["motools inline"] = {}
                for label, extra in variants.items():
                    store = Path(tmp) / f"store-{n}-{rep}-{label.replace(' ', '_')}"
                    cmd = [exe, "sweep", "run", str(sweep)]
                    if label == "motools inline":
                        cmd += ["--executor", "inline"]
                    rows[label] = timed(cmd, {**base_env, "MOTOOLS_STORE": str(store), **extra})
                floor = rows["ray floor"][0]
                for label, (took, workers, code) in rows.items():
                    print(f"N={n:>5} #{rep}: {label:<24} {took:7.2f}s  {took / floor:5.2f}x floor  "
                          f"({workers} Ray workers seen, exit {code})", flush=True)


if __name__ == "__main__":
    main()
