"""The one exception hierarchy of motools (public as `motools.errors`; import it from there).

`MotoolsError` is the root. `UserError` and its subclasses are mistakes the user can fix (bad YAML,
unknown names, invalid ids): the CLI prints them as one line and exits with code 2. Anything else
is a fault of the system or of a step and exits with code 1.
"""

from __future__ import annotations


class MotoolsError(Exception):
    """Root of every error motools raises on purpose."""


class UserError(MotoolsError):
    """Bad input: the message names what is wrong, where, and what would be accepted."""


class ConfigError(UserError):
    """A config (YAML or Python) failed validation."""


class WorkflowDefinitionError(UserError):
    """A workflow or step is malformed: duplicate names, cycles, missing inputs, type mismatches."""


class UnknownNameError(UserError):
    """A registry lookup (workflow, backend, task, ...) found nothing under that name."""


class InvalidAtomIdError(UserError):
    """A string does not match the strict atom id pattern."""


class AtomNotFoundError(UserError):
    """A well-formed atom id that the store does not hold."""


class MissingDependencyError(UserError):
    """An optional dependency is not installed; the message names the `pip install` that fixes it."""


class ArgumentError(UserError, TypeError):
    """A front door was called with a removed or conflicting argument; the message says what to write.

    Also a TypeError, which is what Python raises for a wrong keyword argument.
    """


class CorruptAtomError(MotoolsError):
    """Stored bytes do not match the hash they were stored under (tampering or disk corruption)."""


class StepOutputError(MotoolsError):
    """A step returned something other than what it declared."""


class StoreWriteError(MotoolsError, OSError):
    """The store refused a write (disk full, file too large, permissions); nothing was recorded.

    Also an OSError, so code that handles I/O errors generically still does.
    """
