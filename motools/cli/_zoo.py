"""`motools zoo list`: what the registry offers, with one line each."""

from __future__ import annotations

import typer

from motools.cli._app import app
from motools.cli._render import console

zoo_app = typer.Typer(help="Browse model organisms, datasets, tasks, workflows, backends and "
                           "other plugins.", no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")

_SECTIONS = (
    ("workflow", "workflows"),
    ("dataset", "datasets"),
    ("task", "eval tasks"),
    ("training_backend", "training backends"),
    ("eval_backend", "eval backends"),
    ("training_engine", "training engines"),
    ("eval_provider", "eval providers"),
    ("atom_type", "atom types"),
)
_ORGANISM_COLUMNS = ("paper", "source", "size", "scorer", "judge")


@zoo_app.command("list")
def list_zoo() -> None:
    """Every model organism (paper, source, size, scorer, judge), then every registered
    workflow, dataset, eval task, backend, engine, provider and atom type."""
    from rich.table import Table

    from motools.registry import card, describe, entries

    # Read from source (a card's literal arguments, a workflow's `description=`): no target module
    # is imported (only its parent packages), so listing never loads inspect-ai or a trainer.
    organisms = Table("name", *_ORGANISM_COLUMNS, title="model organisms", title_justify="left",
                      box=None)
    for entry in entries("organism"):
        fields = card(entry)
        organisms.add_row(entry.name, *(str(fields.get(c, "")) for c in _ORGANISM_COLUMNS))
    console().print(organisms)
    for kind, title in _SECTIONS:
        table = Table("name", "import path", "description", title=title, title_justify="left",
                      box=None)
        for entry in entries(kind):  # type: ignore[arg-type]
            table.add_row(entry.name, entry.target, describe(entry))
        console().print(table)
