"""Sweeps: one workflow over many configs, as one deduplicated, cached, fail-soft plan.

Example:
    >>> from motools.sweep import run_sweep
    >>> result = run_sweep(train_and_evaluate_workflow, config,
    ...                    grid={"submit_training.hyperparameters.learning_rate": [1e-4, 1e-3],
    ...                          "submit_training.hyperparameters.seed": [0, 1]})
    >>> result.to_pandas()

A sweep file runs with `run_sweep_file(path, options=RunOptions(...))`; `dry_run_sweep_file`
says what it would run without writing anything.
"""

from motools.sweep._collate import (
    metric_columns,
    param_columns,
    point_overrides,
    read_results,
    write_results,
)
from motools.sweep._curves import PointCurve, plot_curves, training_curves
from motools.sweep._expand import SweepPoint, point_label
from motools.sweep._file import dry_run_sweep_file, run_sweep_file
from motools.sweep._find import find_sweep_run
from motools.sweep._live import live_results, run_results
from motools.sweep._logs import ExportedLogs, export_eval_logs
from motools.sweep._plot import plot, reference_lines, summarize, use_log_x
from motools.sweep._run import (
    IndexedPoint,
    PointFailure,
    SweepPreview,
    SweepResult,
    dry_run_sweep,
    load_results,
    read_point_index,
    run_sweep,
)

__all__ = [
    "ExportedLogs",
    "IndexedPoint",
    "PointCurve",
    "PointFailure",
    "SweepPoint",
    "SweepPreview",
    "SweepResult",
    "dry_run_sweep",
    "dry_run_sweep_file",
    "export_eval_logs",
    "find_sweep_run",
    "live_results",
    "load_results",
    "metric_columns",
    "param_columns",
    "plot",
    "plot_curves",
    "point_label",
    "point_overrides",
    "read_point_index",
    "read_results",
    "reference_lines",
    "run_results",
    "run_sweep",
    "run_sweep_file",
    "summarize",
    "training_curves",
    "use_log_x",
    "write_results",
]
