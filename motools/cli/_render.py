"""Tables the CLI prints."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa
    from rich.console import Console

    from motools.sweep import SweepPoint
    from motools.workflow import WorkflowResult

_STYLE = {"succeeded": "green", "cached": "cyan", "failed": "red", "skipped": "yellow",
          # points of a sweep that has not finished (live results)
          "pending": "dim", "running": "blue", "interrupted": "magenta",
          # an adaptive sweep's point the schedule did not promote
          "stopped": "bright_black"}


@functools.cache
def console() -> Console:
    """Console on stdout."""
    import sys

    from rich.console import Console

    # Off a terminal (pipes, CI, job logs) rich assumes 80 columns and crops ids: use more.
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def print_step_states(result: WorkflowResult) -> None:
    """One row per step: status, time, outputs or error."""
    from rich.table import Table

    table = Table("step", "status", "time", "outputs / error", title=f"workflow {result.workflow}")
    for s in result.step_states:
        detail = s.error or ", ".join(f"{k}={v}" for k, v in s.output_atoms.items())
        took = f"{s.runtime_seconds:.2f}s" if s.status == "succeeded" else "-"
        table.add_row(s.name, f"[{_STYLE.get(s.status, '')}]{s.status}[/]", took, detail)
    console().print(table)


def _short_names(columns: list[str]) -> dict[str, str]:
    """Last dot segment of each column, unless two columns would then share a name."""
    last = [c.rsplit(".", 1)[-1] for c in columns]
    return {c: (s if last.count(s) == 1 else c) for c, s in zip(columns, last, strict=True)}


def print_results(table: pa.Table, *, title: str, limit: int | None = 50) -> None:
    """A sweep's results: a row per point with its swept values, metrics, model and status.

    Rows whose backends made their results up (`dummy`) say `synthetic` in the backends column.
    """
    from rich.table import Table

    from motools.sweep import metric_columns, param_columns

    params, metrics = param_columns(table), metric_columns(table)
    names = _short_names(params)
    # Tables written before these columns existed have none of them.
    context = "model" in table.column_names
    extra = ["model", "backends"] if context else []
    adaptive = [c for c in ("rung", "resource", "round") if c in table.column_names]
    out = Table("point", *[names[p] for p in params], *metrics, *adaptive, *extra, "status",
                title=title)
    rows = table.to_pylist()
    synthetic = 0
    for row in rows if limit is None else rows[:limit]:
        cells = [str(row["point"])]
        cells += [_cell(row.get(p)) for p in [*params, *metrics, *adaptive]]
        if context:
            backends = f"{row.get('train_backend') or '-'}/{row.get('eval_backend') or '-'}"
            if row.get("synthetic"):
                synthetic += 1
                backends += " [yellow]synthetic[/]"
            cells += [_cell(row.get("model")), backends]
        status = row["status"]
        cells.append(f"[{_STYLE.get(status, 'default')}]{status}[/]")
        out.add_row(*cells)
    console().print(out)
    if limit is not None and len(rows) > limit:
        console().print(f"... {len(rows) - limit} more rows: `motools sweep results` prints all, "
                        "`-o results.csv` writes them", highlight=False)
    if synthetic:
        console().print(f"{synthetic} row(s) synthetic: a dummy backend trained or evaluated "
                        "nothing, its metrics measure nothing", highlight=False)


def print_points(points: Sequence[SweepPoint], *, title: str) -> None:
    """A row per sweep point: its index and the value of each swept path."""
    from rich.table import Table

    paths = list(dict.fromkeys(path for p in points for path in p.overrides))
    names = _short_names(paths)
    out = Table("point", *[names[p] for p in paths], title=title)
    for point in points:
        # Exact values (not 4 digits): they are what the run will use and the cache key holds.
        out.add_row(str(point.index), *[str(point.overrides[p]) if p in point.overrides else "-"
                                        for p in paths])
    console().print(out)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_failures(rows: list[tuple[str, str, str]], run_id: str) -> None:
    """Failures as (step, point, one-line error), and where the tracebacks are."""
    from rich.table import Table

    table = Table("step", "point", "error", title="failures", title_style="bold red")
    for step, point, error in rows:
        table.add_row(step, point, error)
    console().print(table)
    console().print(f"tracebacks: motools runs show {run_id}", highlight=False)


def print_metrics(result: WorkflowResult) -> None:
    """Metrics of every eval atom the run produced."""
    from rich.table import Table

    from motools.atom import EvalAtom

    for name, atom_id in result.output_atoms.items():
        if not atom_id.startswith("eval-"):
            continue
        atom = result.get_atom(name)
        if not isinstance(atom, EvalAtom):
            continue
        results = atom.load()
        table = Table("task", "metric", "value", title=f"{name} ({results.backend or 'eval'})")
        for task, metrics in results.metrics.items():
            for metric, value in metrics.items():
                shown = f"{value:.4g}" if isinstance(value, float) else str(value)
                table.add_row(task, metric, shown)
        console().print(table)
