"""Which metric a report ranks points by, which way is better, and which points are special: the
best one, and the baseline (`n_epochs: 0`, the untrained model) the others are measured against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motools.report._gather import PointView

# Metric columns that qualify another metric rather than measure anything themselves.
_QUALIFIERS = ("stderr", "std", "n", "count")
_LOWER_IS_BETTER = ("loss", "error", "perplexity", "ppl", "mse", "mae")
_FINISHED = ("succeeded", "cached")


@dataclass(frozen=True)
class Objective:
    """The metric points are ranked by.

    Attributes:
        column: Its results column.
        maximize: True when a higher value is better.
        stderr: The column of its standard error, if the eval recorded one.
    """

    column: str
    maximize: bool
    stderr: str | None = None

    @property
    def label(self) -> str:
        """The column's last segment (`accuracy` for `hello_world/accuracy`)."""
        return self.column.rsplit("/", 1)[-1]


def stderr_columns(metrics: list[str]) -> dict[str, str]:
    """Metric column -> the column of its standard error.

    Inspect records a scorer's standard error as a sibling metric `stderr` (`task/stderr` when
    several tasks share a table): it belongs to the first measuring metric of its task. A
    `<metric>_stderr` column belongs to `<metric>`.
    """
    out: dict[str, str] = {}
    for column in metrics:
        prefix, _, name = column.rpartition("/")
        if name.endswith("_stderr") and column[: -len("_stderr")] in metrics:
            out[column[: -len("_stderr")]] = column
        elif name == "stderr":
            head = next((m for m in metrics if m.rpartition("/")[0] == prefix
                         and _measures(m) and m not in out), None)
            if head is not None:
                out[head] = column
    return out


def _measures(column: str) -> bool:
    name = column.rsplit("/", 1)[-1]
    return name not in _QUALIFIERS and not name.endswith("_stderr") and name != "train_loss"


def choose_objective(metrics: list[str], info: dict[str, Any]) -> Objective | None:
    """The sweep's metric: the one its run names (an adaptive sweep's `metric`), else the first
    metric that measures something (not a stderr or a count), else `train_loss`.

    Args:
        metrics: The table's metric columns.
        info: The run record's info (may name `metric` and `mode`: `max` or `min`).
    """
    named = info.get("metric")
    if isinstance(named, str):
        column = next((m for m in metrics if m == named or m.endswith("/" + named)), None)
    else:
        column = None
    column = column or next((m for m in metrics if _measures(m)), None)
    if column is None and "train_loss" in metrics:
        column = "train_loss"
    if column is None:
        return None
    mode = str(info.get("mode") or "").lower()
    if mode.startswith(("max", "min")):
        maximize = mode.startswith("max")
    else:
        maximize = not any(word in column.lower() for word in _LOWER_IS_BETTER)
    return Objective(column, maximize, stderr_columns(metrics).get(column))


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): a value that can be plotted, ranked and sorted."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def is_baseline(overrides: dict[str, Any]) -> bool:
    """A point that trains nothing (`...n_epochs: 0`): the base model, the reference."""
    return any(path.rsplit(".", 1)[-1] == "n_epochs" and value == 0
               for path, value in overrides.items())


def best_point(points: list[PointView], objective: Objective | None) -> int | None:
    """The index of the best finished point that is not a baseline (the lowest index on ties)."""
    if objective is None:
        return None
    scored = [(float(p.row[objective.column]), p.index) for p in points
              if p.row["status"] in _FINISHED and not is_baseline(p.overrides)
              and is_number(p.row.get(objective.column))]
    if not scored:
        return None
    sign = -1 if objective.maximize else 1
    return min(scored, key=lambda s: (sign * s[0], s[1]))[1]

