"""One registry for workflows, backends, datasets and tasks.

Example:
    >>> from motools.registry import register, resolve
    >>> register("workflow", "my_pipeline", "my_pkg.workflows:my_workflow")
    >>> resolve("workflow", "my_pipeline")

Packages register through entry points too, e.g. in pyproject.toml:

    [project.entry-points."motools.workflows"]
    my_pipeline = "my_pkg.workflows:my_workflow"
"""

from motools.registry._cards import card
from motools.registry._fields import (
    CallableImportString,
    EvalBackendName,
    LazyCallableImportString,
    TaskReference,
    TrainingBackendName,
)
from motools.registry._imports import file_refs_by_content, import_string, is_file_ref
from motools.registry._registry import (
    KINDS,
    Entry,
    Kind,
    available,
    describe,
    entries,
    is_registered,
    is_synthetic,
    register,
    reset,
    resolve,
)

__all__ = [
    "KINDS",
    "CallableImportString",
    "Entry",
    "EvalBackendName",
    "Kind",
    "LazyCallableImportString",
    "TrainingBackendName",
    "TaskReference",
    "available",
    "card",
    "describe",
    "entries",
    "file_refs_by_content",
    "import_string",
    "is_file_ref",
    "is_registered",
    "is_synthetic",
    "register",
    "reset",
    "resolve",
]
