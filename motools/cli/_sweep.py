"""`motools sweep ...`: run a sweep file, see its status, its results table, its plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from motools.cli._app import AddressOption, StoreOption, app, check_text
from motools.cli._render import console, print_failures, print_points, print_results
from motools.cli._workflow import Executor, SetOption, force_steps
from motools.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa

    from motools.atom import AtomStore
    from motools.engine import RunRecord
    from motools.sweep import SweepPreview

sweep_app = typer.Typer(help="Run a workflow over a grid of configs.", no_args_is_help=True)
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A sweep YAML file.")],
    dry_run: Annotated[bool, typer.Option(
        help="Print the plan (cached / to run) and stop; writes nothing, creates no store."
    )] = False,
    force_rerun: Annotated[
        str | None, typer.Option(help="Skip cache reads for these steps: 'a,b', or 'all'.")
    ] = None,
    no_cache: Annotated[bool, typer.Option(help="Skip cache writes.")] = False,
    store: StoreOption = None,
    address: AddressOption = None,
    executor: Annotated[Executor, typer.Option(help="Where steps run.")] = Executor.ray,
    set_: SetOption = None,
    name: Annotated[
        str | None, typer.Option(help="The sweep's name (default: the file's).")
    ] = None,
    user: Annotated[str | None, typer.Option(
        help="Recorded as the creator (default: the file's user, else MOTOOLS_USER or login)."
    )] = None,
    max_parallel: Annotated[int | None, typer.Option(
        min=1, help="At most this many step tasks at once (default: the file's, else no cap)."
    )] = None,
    report: Annotated[Path | None, typer.Option(
        help="When the run ends, write its report (a static HTML folder) here."
    )] = None,
) -> int:
    """Run every point of a sweep as one plan; print a row per point and any failures."""
    from motools.engine import ProgressDisplay, RunOptions
    from motools.sweep import dry_run_sweep_file, point_label, run_sweep_file

    options = RunOptions(executor=executor.value, address=address, store=store,
                         force_rerun=force_steps(force_rerun), no_cache=no_cache, user=user,
                         max_parallel=max_parallel)
    overrides = list(set_ or [])
    if dry_run:
        from rich.table import Table

        preview = dry_run_sweep_file(file, options=options, overrides=overrides, name=name)
        table = Table("step", "points", "nodes", "deduplicated", "cached", "to run",
                      title=f"{preview.name}: {len(preview.points)} points (dry run)")
        for c in preview.steps:
            table.add_row(c.step, str(c.points), str(c.nodes), str(c.deduplicated),
                          str(c.cached), str(c.to_run))
        console().print(table)
        for c in preview.steps:  # fused chains: one task runs several steps, each cached on its own
            if c.fused_with:
                console().print(f"{c.tasks} task(s) each run {' > '.join((c.step, *c.fused_with))}",
                                highlight=False)
        for c in preview.steps:
            for reason in c.not_ready:
                console().print(f"a run would stop: {c.step}: {reason}", highlight=False)
        if preview.sample_seed is not None:  # drawn values are not in the file: show them
            print_points(preview.points,
                         title=f"{preview.name}: points (sample seed {preview.sample_seed})")
        if preview.adaptive is not None:
            _print_adaptive_preview(preview)
        return 0

    progress = ProgressDisplay()
    try:
        result = run_sweep_file(file, options=options.with_(observe=progress),
                                overrides=overrides, name=name)
    finally:
        progress.close()
    print_results(result.table, title=f"{result.name} ({result.run_id})")
    console().print(f"run {result.run_id}; results: {result.results_uri}", highlight=False)
    if result.summary is not None:
        from motools.sweep.adaptive import summary_line

        console().print(summary_line(result.summary), highlight=False)
    if report is not None:
        _write_report(result.run_id, report, result.store)
    if result.failures:
        rows = [(f.step, point_label(f.index, f.overrides), f.error) for f in result.failures]
        print_failures(rows, result.run_id)
        return 1
    return 0


def _print_adaptive_preview(preview: SweepPreview) -> None:
    """The rungs, how many points each may run, and the worst case against the full grid."""
    from rich.table import Table

    adaptive = preview.adaptive
    assert adaptive is not None
    per_rung, worst, grid = adaptive.worst_case()
    search = adaptive.search
    if search is not None:
        rounds = -(-search.num_samples // search.batch_size)
        console().print(f"search: {search.algorithm}, {search.num_samples} proposals in {rounds} "
                        f"round(s) of {search.batch_size}, each crossed with "
                        f"{len(adaptive.combos)} grid row(s); the steps above are round 1's",
                        highlight=False)
    if adaptive.resource is None:
        return
    table = Table("rung", adaptive.resource.rsplit(".", 1)[-1], "points (at most)",
                  title=f"schedule: {adaptive.metric} ({adaptive.mode}), reduction factor "
                        f"{adaptive.reduction_factor}" + (", hyperband" if adaptive.hyperband
                                                          else ""))
    for r, (value, count) in enumerate(zip(adaptive.rungs, per_rung, strict=True)):
        table.add_row(str(r), str(value), str(count))
    console().print(table)
    console().print(f"worst case {worst} of {grid} epoch-units of the full grid "
                    f"({grid / worst:.1f}x less); the steps above are the first rung's",
                    highlight=False)


def _find_run(target: str, store: AtomStore) -> RunRecord:
    """A sweep run by id, or the latest run of a sweep file (or of a copy of it elsewhere)."""
    from motools.sweep import find_sweep_run

    check_text(target, "run id or sweep file")
    return find_sweep_run(target, store=store)


def _results(target: str, store: AtomStore) -> tuple[RunRecord, pa.Table]:
    """The run's results table; while it runs (or if it stopped), its finished points so far."""
    from motools.sweep import run_results

    run = _find_run(target, store)
    found = run_results(store, run)
    if found is None:
        raise UserError(f"run {run.id} has no results yet (status: {run.observed_status()})")
    return run, found[0]


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
    from motools.sweep import write_results

    run, table = _results(target, get_store(store))
    if output is not None:
        write_results(table, output)
        console().print(f"wrote {len(table)} rows to {output}", highlight=False)
    else:
        print_results(table, title=f"{run.name} ({run.id})", limit=None)


@sweep_app.command("report")
def report(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the report to.")],
    store: StoreOption = None,
) -> None:
    """Write a sweep's report: a static HTML folder (table, plots, eval logs), no network needed.

    A sweep still running gets a live report (finished points, the rest pending); run the
    command again to refresh it.
    """
    from motools.atom import get_store

    st = get_store(store)
    _write_report(_find_run(target, st).id, output, st)


def _write_report(run_id: str, output: Path, store: AtomStore) -> None:
    from motools.report import build_report

    index = build_report(run_id, output, store=store)
    console().print(f"wrote {index}; serve it with: python -m http.server -d {output}",
                    highlight=False)


@sweep_app.command("plot")
def plot(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    x: Annotated[str, typer.Option(help="Parameter on the x axis (a dot path).")],
    y: Annotated[str, typer.Option(help="Metric on the y axis, e.g. accuracy.")],
    color: Annotated[str | None, typer.Option(help="Parameter that picks the line.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG to write.")] = Path("plot.png"),
    store: StoreOption = None,
) -> None:
    """Plot a metric against a parameter; repeats (seeds) become error bars.

    For an adaptive sweep, `--x rung` (or `--x resource`) draws each point across the rungs.
    """
    from motools.atom import get_store
    from motools.sweep import plot as draw

    if x in ("rung", "resource"):
        from motools.sweep.adaptive import load_rungs, plot_rungs

        st = get_store(store)
        run = _find_run(target, st)
        rungs = load_rungs(st, run.id)
        if rungs is None:
            raise UserError(f"--x {x}: run {run.id} has no rungs (not a `schedule:` sweep)")
        path = plot_rungs(rungs, x=x, y=y, out=output, title=f"{run.name} ({run.id})")
        console().print(f"wrote {path}", highlight=False)
        return
    run, table = _results(target, get_store(store))
    path = draw(table, x=x, y=y, color=color, out=output, title=f"{run.name} ({run.id})")
    console().print(f"wrote {path}", highlight=False)


@sweep_app.command("curves")
def curves(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="PNG to write.")
    ] = Path("loss.png"),
    store: StoreOption = None,
) -> None:
    """Plot the training loss against the step, one line per point (local and tinker engines)."""
    from motools.atom import get_store
    from motools.sweep import plot_curves

    st = get_store(store)
    run = _find_run(target, st)
    path = plot_curves(run.id, out=output, store=st, title=f"training loss: {run.name} ({run.id})")
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
    from motools.sweep import run_results

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
    found = run_results(st, run)
    if found is not None:
        table, final = found
        points = Counter(table.column("status").to_pylist())
        console().print("points: " + ", ".join(f"{k} {v}" for k, v in sorted(points.items())),
                        highlight=False)
        if "rung" in table.column_names:  # adaptive: where the points got to
            reached = Counter(zip(table.column("rung").to_pylist(),
                                  table.column("status").to_pylist(), strict=True))
            for rung in sorted({r for r, _ in reached if r is not None}):
                shown = ", ".join(f"{s} {n}" for (r, s), n in sorted(reached.items())
                                  if r == rung)
                console().print(f"rung {rung}: {shown}", highlight=False)
        if not final:  # not over: the finished points' rows, the rest pending / running
            print_results(table, title=f"{run.name} ({run.id}) so far", limit=None)
