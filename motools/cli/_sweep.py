"""`motools sweep ...`: run a sweep file, see its status, its results table, its plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from motools._errors import UnknownNameError, UserError
from motools.cli._app import AddressOption, StoreOption, app, check_text
from motools.cli._render import console, print_failures, print_points, print_results
from motools.cli._workflow import Executor

if TYPE_CHECKING:
    import pyarrow as pa

    from motools.atom import AtomStore
    from motools.engine import RunRecord

sweep_app = typer.Typer(help="Run a workflow over a grid of configs.", no_args_is_help=True)
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A sweep YAML file.")],
    dry_run: Annotated[bool, typer.Option(help="Print the plan (cached / to run) and stop.")] = False,
    force_rerun: Annotated[
        str | None, typer.Option(help="Skip cache reads for these steps: 'a,b', or 'all'.")
    ] = None,
    no_cache: Annotated[bool, typer.Option(help="Skip cache writes.")] = False,
    store: StoreOption = None,
    address: AddressOption = None,
    executor: Annotated[Executor, typer.Option(help="Where steps run.")] = Executor.ray,
) -> int:
    """Run every point of a sweep as one plan; print a row per point and any failures."""
    from motools.atom import get_store
    from motools.engine import ProgressDisplay
    from motools.registry import resolve
    from motools.sweep._expand import base_config
    from motools.sweep._run import compile_sweep, execute_sweep
    from motools.sweep._run import dry_run as plan_counts
    from motools.sweep._spec import load_sweep

    spec = load_sweep(file)
    try:
        workflow = resolve("workflow", spec.workflow)
    except UnknownNameError as exc:
        raise UnknownNameError(f"{file}: workflow: {exc}") from None
    steps = workflow.step_names
    unknown_steps = sorted(set(spec.resources) - set(steps))
    if unknown_steps:
        raise UserError(
            f"{file}: resources: no step(s) {unknown_steps} in workflow {spec.workflow!r}; "
            f"steps: {', '.join(steps)}"
        )
    base = base_config(spec, workflow, source_dir=file.resolve().parent)
    points, plan = compile_sweep(spec, workflow, base, str(file))
    force: bool | frozenset[str] = False
    if force_rerun:
        names = {s.strip() for s in force_rerun.split(",") if s.strip()}
        unknown = sorted(names - set(workflow.step_names) - {"all"})
        if unknown:
            raise UserError(
                f"--force-rerun: no step(s) {unknown}; steps: {', '.join(workflow.step_names)}"
            )
        force = True if "all" in names else frozenset(names)

    if dry_run:
        from rich.table import Table

        counts = plan_counts(plan, points, get_store(store), force)
        table = Table("step", "points", "nodes", "deduplicated", "cached", "to run",
                      title=f"{spec.name}: {len(points)} points (dry run)")
        for c in counts:
            table.add_row(c.step, str(c.points), str(c.nodes), str(c.deduplicated),
                          str(c.cached), str(c.to_run))
        console().print(table)
        if spec.sample is not None:  # drawn values are not in the file: show them
            print_points(points, title=f"{spec.name}: points (sample seed {spec.sample.seed})")
        return 0

    progress = ProgressDisplay()
    try:
        result = execute_sweep(
            spec, workflow, points, plan, store=store, force_rerun=force, no_cache=no_cache,
            executor=executor.value, address=address, observe=progress,
            source=str(file.resolve()),
        )
    finally:
        progress.close()
    print_results(result.table, title=f"{spec.name} ({result.run_id})")
    console().print(f"run {result.run_id}; results: {result.results_uri}", highlight=False)
    if result.failures:
        rows = [(f.step, _point_label(f.index, f.overrides), f.error) for f in result.failures]
        print_failures(rows, result.run_id)
        return 1
    return 0


def _point_label(index: int, overrides: dict[str, object]) -> str:
    shown = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in overrides.items())
    return f"{index} ({shown})" if shown else str(index)


def _find_run(target: str, store: AtomStore) -> RunRecord:
    """A sweep run by id, or the latest run of a sweep file (or of a copy of it elsewhere)."""
    from motools.sweep import find_sweep_run

    check_text(target, "run id or sweep file")
    return find_sweep_run(target, store=store)


def _results(target: str, store: AtomStore) -> tuple[RunRecord, pa.Table]:
    from motools.sweep._run import load_results

    run = _find_run(target, store)
    table = load_results(store, run.id)
    if table is None:
        raise UserError(f"run {run.id} has no results yet (status: {run.observed_status()})")
    return run, table


@sweep_app.command("results")
def results(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to .parquet or .csv.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Print a sweep's results table, or write it to a file."""
    from motools.atom import get_store
    from motools.sweep._collate import write_results

    run, table = _results(target, get_store(store))
    if output is not None:
        write_results(table, output)
        console().print(f"wrote {len(table)} rows to {output}", highlight=False)
    else:
        print_results(table, title=f"{run.name} ({run.id})", limit=None)


@sweep_app.command("plot")
def plot(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    x: Annotated[str, typer.Option(help="Parameter on the x axis (a dot path).")],
    y: Annotated[str, typer.Option(help="Metric on the y axis, e.g. accuracy.")],
    color: Annotated[str | None, typer.Option(help="Parameter that picks the line.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG to write.")] = Path("plot.png"),
    store: StoreOption = None,
) -> None:
    """Plot a metric against a parameter; repeats (seeds) become error bars."""
    from motools.atom import get_store
    from motools.sweep._plot import plot as draw

    run, table = _results(target, get_store(store))
    path = draw(table, x=x, y=y, color=color, out=output, title=f"{run.name} ({run.id})")
    console().print(f"wrote {path}", highlight=False)


@sweep_app.command("status")
def status(
    run_id: Annotated[str, typer.Argument(help="A sweep run id (or a sweep file).")],
    store: StoreOption = None,
) -> None:
    """Counts of nodes by outcome, while a sweep runs or after."""
    from collections import Counter

    from motools.atom import get_store
    from motools.engine import get_ledger

    st = get_store(store)
    run = _find_run(run_id, st)
    counts = Counter(sr.status for sr in get_ledger(st).step_runs_of(run.id))
    total = int(run.info.get("nodes", 0))
    settled = sum(counts.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing settled yet"
    console().print(
        f"{run.id} {run.name}: {run.observed_status()}; {settled}/{total} nodes settled "
        f"({parts}); {run.info.get('points', '?')} points",
        highlight=False,
    )
