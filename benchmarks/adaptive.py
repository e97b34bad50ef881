"""Full grid vs successive halving vs TPE + successive halving, on the real offline organism.

The hello_world organism on the local tiny LM (trained from scratch with PyTorch, evaluated with
inspect-ai), 12 learning rates, up to 9 epochs. Each variant runs in a fresh store, one after the
other in this process, and the script prints, per variant:

- epoch-units trained: the epochs the trainings of this run actually ran (the model atoms'
  `epochs_trained`, which counts warm-started epochs once), against the full grid's;
- wall time;
- the best accuracy found (mean over nothing: one seed per learning rate);
- idle worker time at the rung barriers: each plan the sweep executes (a rung, or a search
  round's rung) ends with a tail where workers have nothing left to take: with S worker slots
  (this machine's CPUs), the last S - 1 points to finish before the plan's last one each leave a
  slot idle until the plan ends. The sum over plans is the barrier's cost; a plain grid is one
  plan and pays one tail.

Target (issue: adaptive sweeps): the same best accuracy as the full grid with at most 1/3 of its
epoch-units.

    python benchmarks/adaptive.py            # about 10-20 minutes on 2 cores
    python benchmarks/adaptive.py --quick    # 6 learning rates, rungs 1/3 (a smoke run)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LR = "submit_training.hyperparameters.learning_rate"
N_EPOCHS = "submit_training.hyperparameters.n_epochs"
LRS = [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 5e-2]


class BarrierClock:
    """A run observer: when each plan (rung or round) started and each evaluation settled."""

    def __init__(self) -> None:
        self.plans: list[list[float]] = []

    def started(self, plan: Any) -> None:
        self.plans.append([])

    def settled(self, step_run: Any) -> None:
        if step_run.step == "evaluate_model":
            self.plans[-1].append(time.time())

    def idle_seconds(self, slots: int) -> float:
        idle = 0.0
        for ends in self.plans:
            ends = sorted(ends)
            idle += sum(ends[-1] - end for end in ends[-slots:-1])
        return idle


def epochs_trained(result: Any) -> int:
    """Epochs the run's trainings ran: from each model atom made in this run."""
    from motools.atom import Atom
    from motools.engine import get_ledger

    total = 0
    for sr in get_ledger(result.store).step_runs_of(result.run_id):
        if sr.step != "wait_for_training" or sr.status != "succeeded":
            continue
        for atom_id in sr.outputs.values():
            info = Atom.load(atom_id, store=result.store).metadata.get("info") or {}
            total += int(info.get("epochs_trained", sr.config.get("n_epochs", 0)) or 0)
    return total


def run(variant: str, lrs: list[float], rungs: list[int], store: Path) -> dict[str, Any]:
    from motools import RunOptions, run_sweep
    from mozoo.workflows.train_and_evaluate import (
        TrainAndEvaluateConfig,
        train_and_evaluate_workflow,
    )

    base = TrainAndEvaluateConfig.from_yaml(REPO / "configs" / "hello_world_local.yaml").to_dict()
    base["submit_training"]["hyperparameters"]["n_epochs"] = rungs[-1]
    schedule = {"metric": "accuracy", "resource": N_EPOCHS, "rungs": rungs,
                "reduction_factor": 3}
    axes: dict[str, Any] = {"grid": {LR: lrs}}
    if variant == "successive halving":
        axes["schedule"] = schedule
    elif variant == "TPE + successive halving":
        axes = {"schedule": schedule, "search": {
            "algorithm": "tpe", "metric": "accuracy", "num_samples": len(lrs),
            "batch_size": len(lrs) // 2,
            "seed": 0, "params": {LR: {"loguniform": [min(lrs), max(lrs)]}}}}
    clock = BarrierClock()
    t0 = time.perf_counter()
    result = run_sweep(train_and_evaluate_workflow, base, name=variant.replace(" ", "-"),
                       options=RunOptions(store=store, observe=clock), **axes)
    wall = time.perf_counter() - t0
    accuracy = [a for a in result.table.column("accuracy").to_pylist() if a is not None]
    return {"variant": variant, "epochs": epochs_trained(result), "wall": wall,
            "best": max(accuracy) if accuracy else float("nan"),
            "idle": clock.idle_seconds(os.cpu_count() or 1), "plans": len(clock.plans),
            "points": result.table.num_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 learning rates, rungs 1 and 3")
    args = parser.parse_args()
    lrs = LRS[::2] if args.quick else LRS
    rungs = [1, 3] if args.quick else [1, 3, 9]
    grid_units = len(lrs) * rungs[-1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, variant in enumerate(("full grid", "successive halving",
                                     "TPE + successive halving")):
            rows.append(run(variant, lrs, rungs, Path(tmp) / f"store{i}"))
            print(f"done: {variant} ({rows[-1]['wall']:.0f}s)", flush=True)
    print(f"\nhello_world on the local tiny LM: {len(lrs)} learning rates, up to "
          f"{rungs[-1]} epochs (full grid: {grid_units} epoch-units)")
    print(f"{'variant':<26} {'epoch-units':>11} {'of grid':>8} {'wall s':>7} "
          f"{'best acc':>8} {'plans':>5} {'barrier idle s':>14}")
    for row in rows:
        print(f"{row['variant']:<26} {row['epochs']:>11} {row['epochs'] / grid_units:>8.2f} "
              f"{row['wall']:>7.0f} {row['best']:>8.2f} {row['plans']:>5} {row['idle']:>14.1f}")
    grid = rows[0]
    for row in rows[1:]:
        same = "same best" if row["best"] >= grid["best"] else "LOWER best"
        print(f"{row['variant']}: {grid['epochs'] / max(row['epochs'], 1):.1f}x fewer "
              f"epoch-units than the grid, {same} accuracy "
              f"({row['best']:.2f} vs {grid['best']:.2f}); target: <= 1/3 of the units")


if __name__ == "__main__":
    main()
