"""motools: model-organism experiments with content-addressed caching and provenance, on Ray.

The front doors are importable from here: `from motools import run_workflow, run_sweep,
RunOptions`. The rest of the public API lives in the subpackages: `motools.workflow` (Workflow,
Step, AtomConstructor, dry_run_workflow), `motools.sweep` (run_sweep_file, results, plots),
`motools.engine` (RunOptions, the Ledger), `motools.atom` (Atom and typed atoms),
`motools.registry`, and `motools.errors` (every error class users catch). Importing motools is
cheap: Ray, inspect-ai, torch and tinker load only when a run needs them.

Example:
    >>> from motools import RunOptions, run_sweep
    >>> result = run_sweep("train_and_evaluate", config, grid={"submit_training.hyperparameters"
    ...                    ".learning_rate": [1e-4, 1e-3]}, options=RunOptions(max_parallel=4))
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motools.engine import RunOptions
    from motools.engine._run import run_workflow
    from motools.sweep import run_sweep

__version__ = "0.1.0"

# Name -> the module that defines it; imported on first use (as `from inspect_ai import eval`).
_LAZY = {
    "RunOptions": "motools.engine",
    "run_workflow": "motools.engine._run",
    "run_sweep": "motools.sweep",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'motools' has no attribute {name!r}")


__all__ = ["RunOptions", "__version__", "run_sweep", "run_workflow"]
