"""motools: model-organism experiments with content-addressed caching and provenance, on Ray.

The public API lives in the subpackages: `motools.workflow` (run_workflow, dry_run_workflow,
Workflow, Step, AtomConstructor), `motools.sweep` (run_sweep, run_sweep_file, plot),
`motools.engine` (RunOptions, the Ledger), `motools.atom` (Atom and typed atoms),
`motools.registry`, and `motools.errors` (every error class users catch). Importing motools is
cheap: Ray, inspect-ai, torch and tinker load only when a run needs them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
