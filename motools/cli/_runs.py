"""`motools runs ...`: the record of every workflow (and sweep) run."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from motools.errors import UserError
from motools.cli._app import StoreOption, app, check_text, read_ledger
from motools.cli._render import console

runs_app = typer.Typer(help="List and inspect past runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@runs_app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(help="How many runs to show, newest first.")] = 20,
    store: StoreOption = None,
) -> None:
    """The most recent runs: id, name, user, status, step counts by outcome."""
    from rich.table import Table

    from motools.atom import get_store
    from motools.engine import get_ledger

    table = Table("run", "kind", "name", "user", "started", "status", "steps", box=None)
    for run in get_ledger(get_store(store)).list_runs(limit):
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

    check_text(run_id, "run id")
    missing = f"no run {run_id!r} in this store; see `motools runs list`"
    ledger = read_ledger(get_store(store), missing)
    run = ledger.get_run(run_id)
    if run is None:
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
    for sr in step_runs:
        if sr.traceback:
            console().rule(f"{sr.step} ({sr.id})")
            console().print(sr.traceback, highlight=False, markup=False)
