"""`motools workflow ...`: list, run, validate, schema."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from motools.cli._app import AddressOption, StoreOption, app
from motools.cli._render import console, print_failures, print_metrics, print_step_states
from motools.errors import ConfigError, UserError

if TYPE_CHECKING:
    from motools.workflow import Workflow

workflow_app = typer.Typer(help="Run and inspect workflows.", no_args_is_help=True)
app.add_typer(workflow_app, name="workflow")


def _workflow(name: str) -> Workflow:
    from motools.registry import resolve
    from motools.workflow import Workflow

    wf = resolve("workflow", name)
    if not isinstance(wf, Workflow):
        raise ConfigError(f"workflow {name!r} is registered to a {type(wf).__name__}, not a Workflow")
    return wf


SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override one config value after the file, e.g. --set "
         "submit_training.hyperparameters.learning_rate=1e-4 (YAML-typed; repeatable).")]


def _config(wf: Workflow, path: Path, overrides: list[str] | None = None) -> Any:
    from motools.workflow import load_config_file

    return load_config_file(wf.config_class, path, overrides=overrides or ())


@workflow_app.command("list")
def list_workflows() -> None:
    """List registered workflows."""
    from rich.table import Table

    from motools.registry import entries, resolve

    table = Table("workflow", "steps", "description", box=None)
    for entry in entries("workflow"):
        wf = resolve("workflow", entry.name)
        table.add_row(entry.name, " -> ".join(wf.step_names), wf.description or entry.description)
    console().print(table)


class Executor(str, Enum):
    ray = "ray"
    inline = "inline"


def force_steps(value: str | None) -> bool | frozenset[str]:
    """`--force-rerun 'a,b'` as step names (checked against the workflow later); 'all' is True."""
    names = {s.strip() for s in (value or "").split(",") if s.strip()}
    if "all" in names and len(names) > 1:  # a misspelt step must not hide behind `all`
        raise UserError(f"--force-rerun {value!r}: 'all' already means every step; give 'all' "
                        "or step names, not both")
    return True if "all" in names else frozenset(names) if names else False


@workflow_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="A registered workflow name.")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Workflow config YAML.")],
    user: Annotated[str | None, typer.Option(help="Recorded as the creator (default: login).")] = None,
    stages: Annotated[
        str | None, typer.Option(help="Steps to run: 'a,b' or a range 'a:c'; the rest must be cached.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        help="Print each step's plan (cached / to run) and stop; writes nothing.")] = False,
    force_rerun: Annotated[bool, typer.Option(help="Skip cache reads.")] = False,
    no_cache: Annotated[bool, typer.Option(help="Skip cache writes.")] = False,
    store: StoreOption = None,
    address: AddressOption = None,
    executor: Annotated[Executor, typer.Option(help="Where steps run.")] = Executor.ray,
    set_: SetOption = None,
) -> int:
    """Run a workflow with one config, print its steps and metrics."""
    from motools.engine import ProgressDisplay, RunOptions
    from motools.workflow import dry_run_workflow, run_workflow

    wf = _workflow(name)
    cfg = _config(wf, config, set_)
    options = RunOptions(executor=executor.value, address=address, store=store, user=user,
                         force_rerun=force_rerun, no_cache=no_cache)
    if dry_run:
        _print_preview(name, dry_run_workflow(wf, {}, cfg, selected_stages=stages, options=options))
        return 0
    progress = ProgressDisplay()
    try:
        result = run_workflow(workflow=wf, input_atoms={}, config=cfg, selected_stages=stages,
                              options=options.with_(observe=progress))
    finally:
        progress.close()
    print_step_states(result)
    print_metrics(result)
    console().print(f"run {result.run_id}", highlight=False)
    if result.failures:
        print_failures([(s.name, "-", s.error or "") for s in result.failures], result.run_id)
    return 0 if result.ok else 1


def _print_preview(name: str, steps: list[Any]) -> None:
    from rich.table import Table

    table = Table("step", "plan", "reason", title=f"workflow {name} (dry run)")
    for c in steps:
        plan = "cached" if c.cached else "to run" if c.to_run else "cannot run"
        reasons = (*c.errors, *(f"a run would stop: {r}" for r in c.not_ready))
        table.add_row(c.step, plan, "; ".join(reasons))
    console().print(table)


@workflow_app.command("validate")
def validate(
    name: Annotated[str, typer.Argument(help="A registered workflow name.")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Workflow config YAML.")],
) -> None:
    """Check a config against a workflow without running anything."""
    wf = _workflow(name)
    _config(wf, config)
    console().print(f"ok: {config} is a valid {name} config ({len(wf.steps)} steps)", highlight=False)


class SchemaFormat(str, Enum):
    json = "json"
    yaml = "yaml"


@workflow_app.command("schema")
def schema(
    name: Annotated[str, typer.Argument(help="A registered workflow name.")],
    format: Annotated[SchemaFormat, typer.Option("--format", help="Output format.")] = SchemaFormat.json,
) -> None:
    """Print the JSON schema of a workflow's config."""
    from motools.workflow import config_json_schema

    data = config_json_schema(_workflow(name).config_class)
    if format is SchemaFormat.yaml:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False))
    else:
        typer.echo(json.dumps(data, indent=2))
