"""Workflows: steps that consume and produce atoms, their configs, and `run_workflow`.

Example:
    >>> from motools.workflow import run_workflow
    >>> from mozoo.workflows.train_and_evaluate import train_and_evaluate_workflow
    >>> result = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={},
    ...                       config=config, user="alice")
"""

from motools.workflow._config import WorkflowConfig, load_yaml_file
from motools.workflow._plan import Plan, compile_plan
from motools.workflow._spec import AtomConstructor, Resources, Step, Workflow

# run_workflow is implemented by the engine; it is re-exported here because this is where the
# product page (and users) import it from. Imported last: the engine imports the modules above.
from motools.engine._result import StepState, WorkflowResult  # noqa: E402
from motools.engine._run import run_workflow  # noqa: E402

__all__ = [
    "AtomConstructor",
    "Plan",
    "Resources",
    "Step",
    "StepState",
    "Workflow",
    "WorkflowConfig",
    "WorkflowResult",
    "compile_plan",
    "load_yaml_file",
    "run_workflow",
]
