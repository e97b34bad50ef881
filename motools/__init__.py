"""motools: model-organism experiments with content-addressed caching and provenance, on Ray.

The public API lives in the subpackages: `motools.workflow` (run_workflow, Workflow, Step,
AtomConstructor), `motools.atom` (Atom and typed atoms), `motools.registry`. Importing motools is
cheap: Ray, inspect-ai, torch and tinker load only when a run needs them.
"""

from motools._errors import MotoolsError, UserError

__version__ = "0.1.0"

__all__ = ["MotoolsError", "UserError", "__version__"]
