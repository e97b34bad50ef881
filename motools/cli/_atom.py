"""`motools atom ...`: show one atom, walk its lineage."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from motools.cli._app import StoreOption, app

atom_app = typer.Typer(help="Inspect atoms.", no_args_is_help=True)
app.add_typer(atom_app, name="atom")


@atom_app.command("show")
def show(
    atom_id: Annotated[str, typer.Argument(help="A full atom id, e.g. dataset-3fa9…")],
    store: StoreOption = None,
) -> None:
    """Print an atom's record: type, metadata, files, and who made it from what."""
    from motools.atom import check_atom_id, get_store

    record = get_store(store).get_atom_record(check_atom_id(atom_id))
    typer.echo(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True))


@atom_app.command("lineage")
def lineage(
    atom_id: Annotated[str, typer.Argument(help="A full atom id.")],
    store: StoreOption = None,
) -> None:
    """Walk the step runs that produced an atom back to its roots."""
    from motools.atom import check_atom_id, get_store
    from motools.engine import get_ledger

    st = get_store(store)
    st.get_atom_record(check_atom_id(atom_id))
    ledger = get_ledger(st)
    seen: set[str] = set()

    def walk(current: str, depth: int) -> None:
        pad = "    " * depth
        producer = ledger.producer_of(current)
        if producer is None:
            typer.echo(f"{pad}{current}  (input, made by hand)")
            return
        typer.echo(f"{pad}{current}  <- {producer.step}")
        typer.echo(f"{pad}    user={producer.user} run={producer.run_id} host={producer.host}")
        typer.echo(f"{pad}    config={json.dumps(producer.config, sort_keys=True)}")
        for parent in producer.inputs.values():
            if parent not in seen:
                seen.add(parent)
                walk(parent, depth + 1)

    seen.add(atom_id)
    walk(atom_id, 0)
