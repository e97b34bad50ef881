"""`motools zoo list`: what the registry offers, with one line each."""

from __future__ import annotations

import typer

from motools.cli._app import app
from motools.cli._render import console

zoo_app = typer.Typer(help="Browse datasets, tasks, workflows, backends and other plugins.",
                      no_args_is_help=True)
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


@zoo_app.command("list")
def list_zoo() -> None:
    """Every registered workflow, dataset, eval task, backend, engine, provider and atom type."""
    from rich.table import Table

    from motools.registry import describe, entries

    for kind, title in _SECTIONS:
        table = Table("name", "import path", "description", title=title, title_justify="left",
                      box=None)
        for entry in entries(kind):  # type: ignore[arg-type]
            # Read from source (a workflow's literal `description=` too): nothing is imported.
            table.add_row(entry.name, entry.target, describe(entry))
        console().print(table)
