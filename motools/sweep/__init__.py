"""Sweeps: one workflow over many configs, as one deduplicated, cached, fail-soft plan.

Example:
    >>> from motools.sweep import run_sweep
    >>> result = run_sweep(train_and_evaluate_workflow, config,
    ...                    grid={"submit_training.hyperparameters.learning_rate": [1e-4, 1e-3],
    ...                          "submit_training.hyperparameters.seed": [0, 1]})
    >>> result.to_pandas()
"""

from motools.sweep._expand import SweepPoint, config_paths
from motools.sweep._find import find_sweep_run, sweep_digest
from motools.sweep._logs import ExportedLogs, export_eval_logs
from motools.sweep._overrides import apply_overrides, parse_override
from motools.sweep._plot import plot
from motools.sweep._run import PointFailure, SweepResult, load_results, run_sweep
from motools.sweep._spec import SweepSpec, load_sweep

__all__ = [
    "ExportedLogs",
    "PointFailure",
    "SweepPoint",
    "SweepResult",
    "SweepSpec",
    "apply_overrides",
    "config_paths",
    "export_eval_logs",
    "find_sweep_run",
    "load_results",
    "load_sweep",
    "parse_override",
    "plot",
    "run_sweep",
    "sweep_digest",
]
