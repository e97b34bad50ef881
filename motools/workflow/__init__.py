"""Workflows: steps that consume and produce atoms, their configs, and `run_workflow`.

Example:
    >>> from motools.workflow import run_workflow
    >>> from mozoo.workflows.train_and_evaluate import train_and_evaluate_workflow
    >>> result = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={},
    ...                       config=config, user="alice")
"""

from typing import TYPE_CHECKING, Any

from motools._hashing import is_secret_name
from motools.workflow._config import (
    WorkflowConfig,
    config_fields,
    config_json_schema,
    config_to_dict,
    format_validation_error,
    validate_config,
)
from motools.workflow._config_file import load_config_file
from motools.workflow._paths import (
    apply_overrides,
    check_paths,
    config_paths,
    paths_overlap,
    rebase_code_paths,
    set_paths,
)
from motools.workflow._plan import Plan, compile_plan
from motools.workflow._spec import AtomConstructor, Resources, Step, Workflow, with_resources
from motools.workflow._yaml import load_yaml_file

if TYPE_CHECKING:
    from motools.engine._result import StepState, WorkflowResult
    from motools.engine._run import dry_run_workflow, run_workflow


def __getattr__(name: str) -> Any:
    # run_workflow and its result types live in the engine, which imports this package; they are
    # re-exported here (where the product page imports them from) lazily to keep imports one-way.
    if name in ("run_workflow", "dry_run_workflow"):
        from motools.engine import _run

        return getattr(_run, name)
    if name in ("StepState", "WorkflowResult"):
        from motools.engine import _result

        return getattr(_result, name)
    raise AttributeError(f"module 'motools.workflow' has no attribute {name!r}")


__all__ = [
    "AtomConstructor",
    "Plan",
    "Resources",
    "Step",
    "StepState",
    "Workflow",
    "WorkflowConfig",
    "WorkflowResult",
    "apply_overrides",
    "check_paths",
    "compile_plan",
    "config_fields",
    "config_json_schema",
    "config_paths",
    "config_to_dict",
    "dry_run_workflow",
    "format_validation_error",
    "is_secret_name",
    "load_config_file",
    "load_yaml_file",
    "paths_overlap",
    "rebase_code_paths",
    "run_workflow",
    "set_paths",
    "validate_config",
    "with_resources",
]
