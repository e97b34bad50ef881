"""Example 4: a grid search in Python: learning rate x seed on the train_and_evaluate workflow.

`run_sweep` expands the grid into points (one config each), compiles them into one plan (the
dataset every point shares is prepared once), runs it, and collates one row per point. Failed
points do not raise: they are listed in `result.failures`. Run the script twice: the second time
every point is served from the cache.

Run it from anywhere (the config is resolved relative to this file):

    python examples/4_sweep.py                       # steps run as Ray tasks (the default)
    python examples/4_sweep.py --executor inline     # steps run one by one in this process
    python examples/4_sweep.py --out my_plot.png     # the plot's path (default: out/lr_sweep.png)

The same sweep as a file is sweeps/hello_world_dummy.yaml (sweeps/hello_world.yaml trains for real).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from motools.engine import RunOptions
from motools.sweep import plot, run_sweep
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

REPO = Path(__file__).resolve().parent.parent
# The hello_world config on the offline `dummy` backends: no API key needed, but nothing is
# really trained or evaluated: the accuracies below are synthetic (deterministic) numbers.
CONFIG = REPO / "configs" / "hello_world.yaml"

# Grid axes are dot paths into the workflow config.
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=["ray", "inline"], default="ray")
    parser.add_argument("--out", type=Path, default=Path("out") / "lr_sweep.png")
    args = parser.parse_args(argv)

    config = TrainAndEvaluateConfig.from_yaml(CONFIG)
    result = run_sweep(train_and_evaluate_workflow, config,
                       grid={LR: [1e-5, 1e-4, 1e-3, 1e-2], SEED: [0, 1, 2]}, name="lr-by-seed",
                       options=RunOptions(user="alice", executor=args.executor))

    # One row per point: its parameters (dot-path columns), its metrics, its status.
    frame = result.to_pandas().rename(columns={LR: "learning_rate", SEED: "seed"})
    print(f"== sweep {result.name} ({result.run_id}): {len(frame)} points ==")
    print(frame[["point", "learning_rate", "seed", "accuracy", "status"]].to_string(index=False))

    # Seeds are repeats: average over them.
    summary = frame.groupby("learning_rate")["accuracy"].agg(["mean", "std", "count"])
    print("\n== accuracy by learning rate (over seeds) ==")
    print(summary.to_string())

    # The plot averages over the seeds too, with standard-error bars.
    path = plot(result.to_arrow(), x=LR, y="accuracy", out=args.out)
    print(f"\nplot: {path}")

    if result.failures:
        print("\n== failures ==")
        for failure in result.failures:
            print(f"  point {failure.index} {failure.overrides}: {failure.step}: {failure.error}")
    else:
        print("failures: none")
    print(f"results: {result.results_uri}")
    print(f"more: motools sweep status {result.run_id}; "
          f"motools sweep results {result.run_id} -o results.csv")


if __name__ == "__main__":
    main()
