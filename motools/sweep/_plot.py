"""Plot a metric of a sweep against one parameter, averaging over the parameters not shown.

Matplotlib is imported inside `plot` only, so importing this module (e.g. by the CLI) stays cheap.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from motools._errors import UserError
from motools.sweep._collate import (
    UNFINISHED_STATUSES,
    metric_columns,
    param_columns,
    point_overrides,
)

if TYPE_CHECKING:
    import pandas as pd

_EXCLUDED_STATUSES = ("failed", "skipped", *UNFINISHED_STATUSES)


def plot(
    table: pa.Table,
    *,
    x: str,
    y: str,
    color: str | None = None,
    out: str | Path,
    title: str | None = None,
    interval: Literal["stderr", "ci95"] = "stderr",
) -> Path:
    """Draw `y` against `x` as a PNG, one line per value of `color`.

    Rows that differ only in parameters other than `x` and `color` (e.g. the seed) become one
    point: their mean, with an error bar of one standard error or a 95% t-interval.

    Args:
        table: A results table from `collate`.
        x: Parameter column for the horizontal axis (a unique dot-path suffix is accepted).
        y: Metric column for the vertical axis.
        color: Parameter column whose values get one line each.
        out: Destination `.png` file; parent folders are created.
        title: Figure title; defaults to "<y> vs <x>".
        interval: `stderr` for ± one standard error, `ci95` for a 95% confidence interval.

    Returns:
        The path of the PNG written.

    Raises:
        UserError: A column is unknown, `out` is not a `.png` or `interval` is not recognised.
    """
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UserError(f"plot writes PNG only: {str(out)!r} must end in .png")
    if interval not in ("stderr", "ci95"):
        raise UserError(f"unknown interval {interval!r}: use stderr or ci95")
    x, y, color = _resolve_all(table, x, y, color)
    frame = summarize(table, x=x, y=y, color=color)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = param_columns(table)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    try:
        numeric_x = _is_numeric(frame[x])
        categories = sorted(frame[x].unique(), key=str)
        groups = frame.groupby(color, sort=True, dropna=False) if color else [(None, frame)]
        for value, group in groups:
            group = group.sort_values(x, key=None if numeric_x else lambda s: s.astype(str))
            xs = group[x] if numeric_x else [categories.index(v) for v in group[x]]
            label = None if color is None else _label_value(value)
            (line,) = ax.plot(xs, group["mean"], marker="o", label=label)
            half = [_half_width(se, n, interval)
                    for se, n in zip(group["se"], group["n"], strict=True)]
            bars = [(xv, m, h) for xv, m, h in zip(xs, group["mean"], half, strict=True)
                    if not math.isnan(h)]
            if bars:
                bx, by, bh = zip(*bars, strict=True)
                ax.errorbar(bx, by, yerr=bh, fmt="none", ecolor=line.get_color(), capsize=3)
        reference_rows = _reference_rows(table, x, y, color)
        references = [ref for _, ref in reference_rows]
        for label, value in references:
            ax.axhline(value, linestyle="--", color="gray", alpha=0.8, label=label)
        if not numeric_x:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
        elif use_log_x(x, list(frame[x])):
            ax.set_xscale("log")
        ax.set_xlabel(_short(x, params))
        ax.set_ylabel(f"{_short(y, metric_columns(table))}{_aggregation(frame, interval)}")
        if color is not None or references:
            ax.legend(title=None if color is None else color.rsplit(".", 1)[-1])
        ax.grid(True, alpha=0.3)
        heading = title or f"{_short(y, metric_columns(table))} vs {_short(x, params)}"
        if excluded := frame.attrs["excluded"] - sum(n for n, _ in reference_rows):
            total = table.num_rows
            heading += f"\n({excluded} of {total} points left out: failed, skipped or no value)"
        ax.set_title(heading, fontsize=11)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120, format="png")
    finally:
        plt.close(fig)
    return out


def _reference_rows(table: pa.Table, x: str, y: str, color: str | None
                    ) -> list[tuple[int, tuple[str, float]]]:
    """Points with a `y` that do not set `x` (a baseline such as `n_epochs: 0` beside a
    learning-rate grid): (rows, (label, mean of y)) per setting of the parameters they do set."""
    frame = table.to_pandas()
    sets = _set_frame(table)
    keep = ~frame["status"].isin(_EXCLUDED_STATUSES) & frame[y].notna() & ~sets[x]
    if color is not None:
        keep &= ~sets[color]
    rows = frame[keep]
    if rows.empty:
        return []
    params = [p for p in param_columns(table) if p != x and sets.loc[keep, p].any()
              and not sets.loc[sets[x], p].any()]
    out = []
    for key, group in (rows.groupby(params, dropna=False) if params else [((), rows)]):
        values = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{p.rsplit('.', 1)[-1]}={_label_value(v)}"
                          for p, v in zip(params, values, strict=True))
        label = label or "no value of " + x.rsplit(".", 1)[-1]
        out.append((len(group), (label, float(group[y].mean()))))
    return out


def _set_frame(table: pa.Table) -> pd.DataFrame:
    """A boolean per point and parameter: did the point set it (not inherit the base value)?"""
    import pandas as pd

    sets = point_overrides(table)
    return pd.DataFrame({p: [p in s for s in sets] for p in param_columns(table)},
                        dtype=bool, index=range(len(sets)))


def reference_lines(table: pa.Table, *, x: str, y: str, color: str | None = None
                    ) -> list[tuple[str, float]]:
    """The horizontal reference lines of a plot of `y` against `x`: the points that do not set
    `x` (a baseline `n_epochs: 0` beside a learning-rate grid), as (label, mean of `y`) per
    setting of the parameters they do set.
    """
    return [ref for _, ref in _reference_rows(table, x, y, color)]


def summarize(table: pa.Table, *, x: str, y: str, color: str | None = None) -> pd.DataFrame:
    """Aggregate `y` per (`x`, `color`) over the rows the plot keeps.

    Args:
        table: A results table from `collate`.
        x: Parameter column to group by.
        y: Metric column to aggregate.
        color: Optional second parameter column to group by.

    Returns:
        Columns `x`, [`color`], `mean`, `se` (NaN for a group of one) and `n`, sorted by color
        then x. `attrs["excluded"]` counts rows left out (failed, skipped, or without x or y);
        `attrs["varied"]` lists the parameters averaged over.

    Raises:
        UserError: A column is unknown.
    """
    x, y, color = _resolve_all(table, x, y, color)
    keys = [x] if color is None else [color, x]
    others = [p for p in param_columns(table) if p not in keys]
    frame = table.select(list(dict.fromkeys([*keys, y, *others, "status"]))).to_pandas()
    # A point that leaves x to the base config is a reference line, not a point on the x axis.
    keep = (~frame["status"].isin(_EXCLUDED_STATUSES) & frame[y].notna() & frame[x].notna()
            & _set_frame(table)[x])
    kept = frame[keep]
    grouped = kept.groupby(keys, sort=True, dropna=False)[y]
    result = grouped.agg(mean="mean", sd=lambda s: s.std(ddof=1), n="count").reset_index()
    result["se"] = result["sd"] / result["n"].pow(0.5)
    result = result[[x, *([color] if color else []), "mean", "se", "n"]]
    result.attrs["excluded"] = int((~keep).sum())
    result.attrs["varied"] = [p for p in others if kept[p].nunique(dropna=False) > 1]
    return result.reset_index(drop=True)


def use_log_x(name: str, values: Sequence[Any]) -> bool:
    """Whether the x axis should be logarithmic: learning-rate-like name or a wide positive span.

    Args:
        name: Column name, full dot path allowed.
        values: The x values to plot.
    """
    numbers = [v for v in values if v is not None and _is_number(v)]
    if not numbers or len(numbers) != len(values) or min(numbers) <= 0:
        return False
    last = name.rsplit(".", 1)[-1].lower()
    if "learning_rate" in name.lower() or last.endswith("lr"):
        return True
    return max(numbers) / min(numbers) > 100


def _resolve_all(table: pa.Table, x: str, y: str, color: str | None) -> tuple[str, str, str | None]:
    params = param_columns(table)
    x = _resolve(x, params, "x", "param")
    y = _resolve(y, metric_columns(table), "y", "metric")
    if color is not None:
        color = _resolve(color, params, "color", "param")
        if color == x:
            raise UserError(f"color and x are the same column {x!r}: pick another color")
    return x, y, color


def _resolve(name: str, columns: list[str], role: str, kind: str) -> str:
    """The column `name` is, exactly or as the unique column ending in `.name` / `/name`."""
    if name in columns:
        return name
    matches = [c for c in columns if c.endswith(f".{name}") or c.endswith(f"/{name}")]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(matches or columns) or "(none)"
    what = "ambiguous" if matches else "unknown"
    raise UserError(f"{what} {role} column {name!r}; {kind} columns: {listed}")


def _short(name: str, columns: list[str]) -> str:
    """Last dot segment of `name`, or all of it when another column ends the same way."""
    last = name.rsplit(".", 1)[-1]
    clashes = [c for c in columns if c.rsplit(".", 1)[-1] == last]
    return name if len(clashes) > 1 else last


def _aggregation(frame: pd.DataFrame, interval: str) -> str:
    """Axis-label suffix saying what was averaged, e.g. ` (mean ± s.e. over 3 seeds)`."""
    if frame.empty or frame["n"].max() <= 1:
        return ""
    low, high = int(frame["n"].min()), int(frame["n"].max())
    count = str(high) if low == high else f"{low}–{high}"
    varied = frame.attrs.get("varied", [])
    what = varied[0].rsplit(".", 1)[-1] + "s" if len(varied) == 1 else "runs"
    if interval == "ci95":
        return f" (mean ± 95% CI, n={count})"
    return f" (mean ± s.e. over {count} {what})"


def _half_width(se: float, n: int, interval: str) -> float:
    """Half the error bar: one s.e., or the 95% t-interval (normal 1.96 without scipy)."""
    if n < 2 or math.isnan(se):
        return math.nan
    if interval == "stderr":
        return se
    try:
        from scipy import stats
    except ImportError:
        return 1.96 * se
    return float(stats.t.ppf(0.975, n - 1)) * se


def _label_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(none)"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _is_number(value: Any) -> bool:
    # numpy's bool_ is not a numbers.Real, but Python's bool is.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return not math.isnan(value)


def _is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
