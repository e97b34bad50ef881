"""`motools sweep logs`: every evaluated point's inspect log in one folder, for `inspect view`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from motools.cli._app import StoreOption, check_text
from motools.cli._render import console
from motools.cli._sweep import sweep_app
from motools.errors import UserError


@sweep_app.command("logs")
def logs(
    target: Annotated[str, typer.Argument(help="A sweep file (its latest run) or a run id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the logs to.")],
    store: StoreOption = None,
) -> None:
    """Copy each evaluated point's inspect log into a folder: `inspect view --log-dir DIR`."""
    from motools.atom import get_store
    from motools.sweep import export_eval_logs, find_sweep_run, load_results

    check_text(target, "run id or sweep file")
    st = get_store(store)
    run = find_sweep_run(target, store=st)
    table = load_results(st, run.id)
    if table is None:
        raise UserError(f"run {run.id} has no results yet (status: {run.observed_status()})")
    exported = export_eval_logs(table, output, store=st)
    if exported.without_logs:
        backends = sorted({b or "unknown" for _, b in exported.without_logs})
        console().print(
            f"{len(exported.without_logs)} point(s) have no inspect log (eval backend: "
            f"{', '.join(backends)})", highlight=False)
    if exported.not_evaluated:
        shown = ", ".join(map(str, exported.not_evaluated[:20]))
        console().print(f"not evaluated (failed or not run): point(s) {shown}", highlight=False)
    if not exported.written:
        raise UserError(f"run {run.id} has no inspect logs to export: no point was evaluated "
                        "with the inspect eval backend")
    console().print(f"wrote {len(exported.written)} log(s) to {output}; view them with: "
                    f"inspect view --log-dir {output}", highlight=False)
