"""Sweeps: one workflow over many configs, as one deduplicated, cached, fail-soft plan.

Example:
    >>> from motools.sweep import run_sweep
    >>> result = run_sweep(train_and_evaluate_workflow, config,
    ...                    grid={"submit_training.hyperparameters.learning_rate": [1e-4, 1e-3],
    ...                          "submit_training.hyperparameters.seed": [0, 1]})
    >>> result.to_pandas()
"""

from motools.sweep._expand import SweepPoint, config_paths
from motools.sweep._run import PointFailure, SweepResult, run_sweep
from motools.sweep._spec import SweepSpec, load_sweep

__all__ = [
    "PointFailure",
    "SweepPoint",
    "SweepResult",
    "SweepSpec",
    "config_paths",
    "load_sweep",
    "run_sweep",
]
