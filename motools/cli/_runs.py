"""`motools runs ...`: the record of every workflow (and sweep) run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from motools.cli._app import StoreOption, app, check_text
from motools.cli._render import console, print_results
from motools.errors import UserError

if TYPE_CHECKING:
    from motools.atom import AtomStore
    from motools.engine import RunRecord, StepRun

runs_app = typer.Typer(help="List and inspect past runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@runs_app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(help="How many runs to show, newest first.")] = 20,
    kind: Annotated[
        str | None, typer.Option(help="Only runs of this kind: workflow, sweep.")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Only runs with this name (shell pattern: 'hello-*').")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only runs by this user.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only runs with this status: running, succeeded, failed, interrupted."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """The most recent runs: id, name, user, status, step counts by outcome."""
    from rich.table import Table

    from motools.atom import get_store
    from motools.engine import get_ledger, select_runs

    for value, what in ((kind, "--kind"), (name, "--name"), (user, "--user"), (status, "--status")):
        if value is not None:
            check_text(value, what)
    runs = select_runs(get_ledger(get_store(store)), kind=kind, name=name, user=user,
                       status=status, limit=limit)
    table = Table("run", "kind", "name", "user", "started", "status", "steps", box=None)
    for run in runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        table.add_row(run.id, run.kind, run.name, run.user or "-", _when(run.started_at),
                      run.observed_status(), counts)
    console().print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="A run id from `motools runs list`.")],
    store: StoreOption = None,
) -> None:
    """One run: its record, each step run, and the traceback of every failure."""
    from rich.table import Table

    from motools.atom import get_store
    from motools.engine import read_ledger

    check_text(run_id, "run id")
    missing = f"no run {run_id!r} in this store; see `motools runs list`"
    ledger = read_ledger(get_store(store))
    run = ledger.get_run(run_id) if ledger is not None else None
    if ledger is None or run is None:
        raise UserError(missing)
    took = f"{run.ended_at - run.started_at:.1f}s" if run.ended_at else "still running"
    console().print(
        f"run {run.id}  {run.kind} {run.name}  user={run.user}  status={run.observed_status()}  "
        f"started {_when(run.started_at)}  ({took})\ncommand: {run.command}",
        highlight=False,
    )
    step_runs = ledger.step_runs_of(run_id)
    table = Table("step", "status", "time", "host", "node", "key", "error", box=None)
    for sr in step_runs:
        took = f"{sr.runtime_seconds:.2f}s" if sr.status == "succeeded" else "-"
        node = (sr.node or "-")[:8]
        table.add_row(sr.step, sr.status, took, sr.host, node, (sr.key or "-")[:12], sr.error or "")
    console().print(table)
    _print_run_metrics(run, step_runs, get_store(store))
    for sr in step_runs:
        if sr.traceback:
            console().rule(f"{sr.step} ({sr.id})")
            console().print(sr.traceback, highlight=False, markup=False)


def _print_run_metrics(run: RunRecord, step_runs: list[StepRun], store: AtomStore) -> None:
    """A sweep's results table, or the metrics of each eval atom a workflow run produced."""
    from rich.table import Table

    from motools.atom import Atom, EvalAtom, atom_type_of

    if run.kind == "sweep":
        from motools.sweep import live_results, load_results

        table = load_results(store, run.id)
        if table is None:  # still running, or stopped: the points finished so far
            table = live_results(store, run)
        if table is not None:
            print_results(table, title=f"results of {run.name}", limit=None)
        return
    out = Table("step", "task", "metric", "value", box=None, title="metrics")
    for sr in step_runs:
        for atom_id in sr.outputs.values():
            if atom_type_of(atom_id) != "eval":
                continue
            atom = Atom.load(atom_id, store=store)
            if not isinstance(atom, EvalAtom):
                continue
            for task, metrics in atom.load().metrics.items():
                for metric, value in metrics.items():
                    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
                    out.add_row(sr.step, task, metric, shown)
    if out.row_count:
        console().print(out)
