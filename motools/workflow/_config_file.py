"""A workflow config file as the CLI reads it: the file, then `--set` overrides, then validation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from motools._errors import ConfigError
from motools.workflow._config import validate_config
from motools.workflow._paths import apply_overrides, rebase_code_paths
from motools.workflow._yaml import load_yaml_file


def load_config_file(
    config_class: type, path: str | os.PathLike[str], *, overrides: Sequence[str] = ()
) -> Any:
    """Read a workflow config file, apply `PATH=VALUE` overrides, and validate the result.

    Local code paths (`tasks/my_task.py@my_task`) are relative to the file when the file names
    them, and to the working directory when an override does.

    Args:
        config_class: The workflow's config class.
        path: The YAML config file.
        overrides: `a.b.c=VALUE` strings (what `motools workflow run --set` takes), YAML-typed,
            applied in order after the file; each path must be a path of `config_class`.

    Returns:
        The validated config instance.

    Raises:
        ConfigError: The file is missing, empty or invalid, an override is malformed or names
            an unknown path (one line naming the file and field, or the override's path).

    Example:
        >>> config = load_config_file(TrainAndEvaluateConfig, "configs/hello_world.yaml",
        ...                           overrides=["submit_training.hyperparameters.n_epochs=3"])
    """
    path = Path(path)
    data = load_yaml_file(path)
    if data is None:
        raise ConfigError(f"{path}: empty config")
    # A local task file (`tasks/my_task.py@my_task`) is relative to the config file.
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of step name to step config, "
                          f"got {type(data).__name__}")
    data = rebase_code_paths(config_class, data, path.resolve().parent)
    data = apply_overrides(data, overrides, config_class=config_class, folder=Path.cwd())
    source = f"{path} with --set" if overrides else str(path)
    return validate_config(config_class, data, source=source)
