"""Collate the outcomes of a sweep's points into one Arrow table, and read and write it.

One row per point: `point`, one column per override dot path holding the point's *effective* value
(the base config's value where the point does not set the path), `overrides` (the values the
point set itself, as JSON), the metric columns (with
`train_loss`, the final training loss, when the points' models record one), what the numbers
are about (`model`, `train_backend`, `eval_backend`, and `synthetic`: true when a backend made the
results up, e.g. `dummy`), then `status`, `error`, `failed_step` and `eval_atom`. The schema
metadata key `motools.sweep` records which columns are parameters and which are metrics, so plots
and reports need no guessing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from motools._errors import UserError

METADATA_KEY = b"motools.sweep"
TASK_COLUMN = "task"
CONTEXT_COLUMNS = ("model", "train_backend", "eval_backend", "synthetic")
STATUS_COLUMNS = ("status", "error", "failed_step", "eval_atom")
TRAIN_LOSS_COLUMN = "train_loss"
OVERRIDES_COLUMN = "overrides"
# Statuses of the points of a sweep that has not finished (live results): they have no metrics.
UNFINISHED_STATUSES = ("pending", "running", "interrupted")
# An adaptive sweep's point that the schedule did not promote: finished, not failed.
STOPPED = "stopped"
_RESERVED = frozenset({"point", OVERRIDES_COLUMN, TASK_COLUMN, *CONTEXT_COLUMNS, *STATUS_COLUMNS})
_WRITE_SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class PointOutcome:
    """What became of one point of a sweep.

    Attributes:
        index: Position of the point in the sweep.
        overrides: Dot path -> value applied to the base config for this point.
        defaults: Dot path -> the base config's value, for the paths other points of the sweep
            set and this one does not (its effective value there).
        status: `succeeded`, `cached`, `failed` or `skipped`.
        error: One-line error of a failed point.
        failed_step: Name of the step that failed.
        metrics: Task name -> metric name -> value, from the point's evaluation.
        eval_atom: Id of the eval atom the metrics were read from.
        model: The base model the point trained (or evaluated), when its atoms say.
        train_backend: The training backend that made the point's model.
        eval_backend: The eval backend that made the point's metrics.
        synthetic: A backend of the point makes up its results (`dummy`): its metrics measure
            nothing.
        train_loss: The final training loss of the point's model (the mean loss of its last
            epoch), when its training engine records one (`local`, `tinker`).
        schedule: Columns of an adaptive sweep (`rung`, `resource`, `round`, `trial`): where
            the point got to. Whole numbers.
    """

    index: int
    overrides: dict[str, Any]
    status: str
    error: str | None = None
    failed_step: str | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    eval_atom: str | None = None
    model: str | None = None
    train_backend: str | None = None
    eval_backend: str | None = None
    synthetic: bool = False
    train_loss: float | None = None
    schedule: dict[str, int] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


def collate(outcomes: Sequence[PointOutcome]) -> pa.Table:
    """Build the results table of a sweep, one row per point in index order.

    Args:
        outcomes: One outcome per point, in any order.

    Returns:
        A table whose schema metadata names the parameter and metric columns.

    Raises:
        UserError: Two columns would get the same name.
    """
    rows = sorted(outcomes, key=lambda o: o.index)
    params = _first_seen(key for o in rows for key in o.overrides)
    metrics = [_numeric(o.metrics) for o in rows]
    tasks = {task for m in metrics for task in m}
    single = len(tasks) == 1 and all(len(m) <= 1 for m in metrics)
    if single:
        (task,) = tasks
        names = _first_seen(name for m in metrics for name in m.get(task, {}))
        # A metric called e.g. `error` or `n` must not shadow a status or parameter column.
        single = not any(name in _RESERVED or name in params for name in names)
    if single:
        metric_keys = [(task, name) for name in names]
        metric_names = list(names)
    else:
        metric_keys = _first_seen((t, name) for m in metrics for t in m for name in m[t])
        metric_names = [f"{t}/{name}" for t, name in metric_keys]

    columns: dict[str, pa.Array] = {"point": pa.array([o.index for o in rows], pa.int64())}
    for path in params:
        columns[path] = _infer([o.overrides.get(path, o.defaults.get(path)) for o in rows])
    columns[OVERRIDES_COLUMN] = pa.array(
        [json.dumps(o.overrides, default=str, separators=(",", ":")) for o in rows], pa.string())
    if single:
        columns[TASK_COLUMN] = pa.array([next(iter(m), None) for m in metrics], pa.string())
    for (t, name), column in zip(metric_keys, metric_names, strict=True):
        columns[column] = _infer([m.get(t, {}).get(name) for m in metrics])
    # The final training loss is a metric column too (plot it with `--y train_loss`), present
    # when any point's model recorded one; an eval metric of the same name keeps its column.
    if any(o.train_loss is not None for o in rows) and TRAIN_LOSS_COLUMN not in columns:
        columns[TRAIN_LOSS_COLUMN] = pa.array([o.train_loss for o in rows], pa.float64())
        metric_names = [*metric_names, TRAIN_LOSS_COLUMN]
    schedule = _first_seen(key for o in rows for key in o.schedule)
    for column in schedule:
        columns[column] = pa.array([o.schedule.get(column) for o in rows], pa.int64())
    for column in CONTEXT_COLUMNS[:-1]:
        columns[column] = pa.array([getattr(o, column) for o in rows], pa.string())
    columns["synthetic"] = pa.array([o.synthetic for o in rows], pa.bool_())
    for column in STATUS_COLUMNS:
        columns[column] = pa.array([getattr(o, column) for o in rows], pa.string())

    expected = (2 + len(params) + int(single) + len(metric_names) + len(schedule)
                + len(CONTEXT_COLUMNS) + len(STATUS_COLUMNS))
    if len(columns) != expected:
        clash = sorted(set(params) & (_RESERVED | set(metric_names) | set(schedule)))
        raise UserError(f"sweep results: override paths clash with result columns: {clash}")
    meta = {"param_columns": params, "metric_columns": metric_names}
    if schedule:
        meta["schedule_columns"] = schedule
    return pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})


def param_columns(table: pa.Table) -> list[str]:
    """Names of the override (parameter) columns of a results table, in column order."""
    return list(_metadata(table)["param_columns"])


def metric_columns(table: pa.Table) -> list[str]:
    """Names of the metric columns of a results table, in column order."""
    return list(_metadata(table)["metric_columns"])


def point_overrides(table: pa.Table) -> list[dict[str, Any]]:
    """The values each point of a results table set itself (dot path -> value), in row order.

    A parameter column shows every point's effective value; this tells which of those the point
    chose and which it inherited from the base config (e.g. a baseline's learning rate).
    """
    if OVERRIDES_COLUMN in table.column_names:
        return [json.loads(text or "{}") for text in table.column(OVERRIDES_COLUMN).to_pylist()]
    # Tables collated before effective values: a set value was the only non-null one.
    params = param_columns(table)
    return [{p: row[p] for p in params if row[p] is not None}
            for row in table.select(params).to_pylist()]


def write_results(table: pa.Table, path: str | Path) -> Path:
    """Write a results table as Parquet or CSV, chosen by the file's suffix.

    Args:
        table: A table from `collate`.
        path: Destination ending in `.parquet` or `.csv`; parent folders are created.

    Returns:
        The path written.

    Raises:
        UserError: The suffix is neither `.parquet` nor `.csv`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _WRITE_SUFFIXES:
        allowed = ", ".join(_WRITE_SUFFIXES)
        raise UserError(f"cannot write sweep results to {str(path)!r}: suffix must be {allowed}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def read_results(path: str | Path) -> pa.Table:
    """Read a results table written by `write_results` as Parquet.

    Args:
        path: A `.parquet` file.

    Returns:
        The table, with its `motools.sweep` metadata.

    Raises:
        UserError: The path is not a `.parquet` file or does not exist.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if path.suffix.lower() != ".parquet":
        raise UserError(f"cannot read sweep results from {str(path)!r}: suffix must be .parquet")
    if not path.is_file():
        raise UserError(f"sweep results file not found: {str(path)!r}")
    return pq.read_table(path)


def _metadata(table: pa.Table) -> dict[str, Any]:
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise UserError("table has no motools.sweep metadata: it was not made by collate()")
    return json.loads(raw)


def _first_seen(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


def _numeric(metrics: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Keep only the numeric metric values; tasks left with none disappear."""
    kept: dict[str, dict[str, float | int]] = {}
    for task, values in metrics.items():
        numbers = {
            name: value
            for name, value in (values or {}).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        if numbers:
            kept[task] = numbers
    return kept


def _infer(values: list[Any]) -> pa.Array:
    """Let Arrow infer a column's type; fall back to text for values it cannot unify."""
    if any(isinstance(v, dict | list | tuple) for v in values):
        # Nested override values would give struct/list columns that CSV cannot hold.
        return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
