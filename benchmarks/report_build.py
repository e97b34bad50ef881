"""The sweep report's build time and size, and how the page behaves in a browser, at 10 and 1,000
points (dummy backends: learning rate x seed x batch size, every point finished).

For each N: run the sweep once (inline executor, fresh store; not timed), then
- `motools sweep report RUN -o DIR` as a fresh process (imports included: what a user waits for),
  then `build_report` twice in this process (the first after the sweep's own imports, then warm);
  the folder's size and file count, and the size of `index.html` alone;
- in headless Chromium (the system's, served by `http.server` on 127.0.0.1): seconds until the
  page and every plot are drawn, and the milliseconds one sort of the results table by the metric
  takes (the click's handler, measured in the page).
Target: the 1,000-point report builds in under 10 s (the fresh CLI process included); sorting
stays well under 100 ms.

    python benchmarks/report_build.py            # N = 10, 1000
    python benchmarks/report_build.py 10 100
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

SHAPES = {10: (5, 2, 1), 100: (10, 10, 1), 1000: (10, 10, 10)}  # lr x seed x batch size


def write_sweep(folder: Path, n: int) -> Path:
    lrs, seeds, batches = SHAPES.get(n, (n, 1, 1))
    path = folder / f"report_{n}.yaml"
    path.write_text(
        f"name: report-bench-{n}\nworkflow: train_and_evaluate\n"
        f"base: {REPO / 'configs' / 'hello_world.yaml'}\ngrid:\n"
        f"  submit_training.hyperparameters.learning_rate: "
        f"{[round(1e-5 * 10 ** (i * 3 / max(lrs - 1, 1)), 8) for i in range(lrs)]}\n"
        f"  submit_training.hyperparameters.seed: {list(range(seeds))}\n"
        f"  submit_training.hyperparameters.batch_size: {[8 * (i + 1) for i in range(batches)]}\n"
    )
    return path


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def in_browser(site: Path) -> tuple[float, float] | None:
    """(seconds to a drawn page, milliseconds per sort by the metric), or None without Chromium."""
    from report_browser import CHROMIUM, chromium, serve

    if not CHROMIUM.exists():
        return None
    with serve(site) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(url + "index.html")
        page.wait_for_function("document.querySelectorAll('div.plot .main-svg').length >= "
                               "document.querySelectorAll('div.plot').length")
        drawn = time.perf_counter() - start
        sort_ms = page.evaluate("""() => {
            const th = document.querySelector('#results th[data-metric="accuracy"]');
            const t0 = performance.now();
            for (let i = 0; i < 5; i++) th.click();
            return (performance.now() - t0) / 5;
        }""")
    return drawn, sort_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 1000])
    args = parser.parse_args()

    from motools.engine import RunOptions
    from motools.report import build_report
    from motools.sweep import run_sweep_file

    print(f"{'points':>7} {'cli s':>7} {'first s':>7} {'warm s':>7} {'folder MB':>9} {'files':>6} "
          f"{'index KB':>8} {'page s':>7} {'sort ms':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            store = folder / "store"
            sweep = write_sweep(folder, n)
            run = run_sweep_file(sweep, options=RunOptions(executor="inline", store=store))
            site = folder / "site"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "motools.cli", "sweep", "report", run.run_id,
                            "-o", str(folder / "cli-site"), "--store", str(store)],
                           check=True, stdout=subprocess.DEVNULL)
            fresh = time.perf_counter() - t
            times = []
            for _ in range(2):
                t = time.perf_counter()
                build_report(run.run_id, site, store=store)
                times.append(time.perf_counter() - t)
            size, files = folder_size(site)
            index_kb = (site / "index.html").stat().st_size / 1024
            browser = in_browser(site)
            page = f"{browser[0]:7.2f} {browser[1]:8.1f}" if browser else "   (no chromium)"
            print(f"{n:>7} {fresh:7.2f} {times[0]:7.2f} {times[1]:7.2f} {size / 2**20:9.2f} {files:>6} "
                  f"{index_kb:8.0f} {page}", flush=True)


if __name__ == "__main__":
    main()
