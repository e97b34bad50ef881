"""The errors motools raises on purpose, for users to catch.

`MotoolsError` is the root. `UserError` and its subclasses are mistakes the user can fix (bad YAML,
unknown names, invalid ids, a missing optional dependency): the CLI prints them as one line and
exits with code 2. The others are faults of the store or of a step, exit code 1.

Example:
    >>> from motools.errors import ConfigError, UserError
    >>> try:
    ...     run_sweep_file("sweep.yaml")
    ... except ConfigError as exc:
    ...     print(exc)   # one line: the file, the key path, what is allowed
"""

from motools._errors import (
    ArgumentError,
    AtomNotFoundError,
    ConfigError,
    CorruptAtomError,
    InspectEvalError,
    InvalidAtomIdError,
    MissingDependencyError,
    MotoolsError,
    OpenAIJobError,
    SourceUnavailableError,
    StepOutputError,
    StoreWriteError,
    UnknownNameError,
    UserError,
    WorkflowDefinitionError,
)

__all__ = [
    "ArgumentError",
    "AtomNotFoundError",
    "ConfigError",
    "CorruptAtomError",
    "InspectEvalError",
    "InvalidAtomIdError",
    "MissingDependencyError",
    "MotoolsError",
    "SourceUnavailableError",
    "OpenAIJobError",
    "StepOutputError",
    "StoreWriteError",
    "UnknownNameError",
    "UserError",
    "WorkflowDefinitionError",
]
