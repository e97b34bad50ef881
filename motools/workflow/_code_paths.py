"""Local code paths in config files: `tasks/my_task.py@my_task` is relative to the file it is in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from motools.workflow._config import _field_types, _structured, _unwrap, field_metadata


def rebase_code_paths(config_class: Any, data: Any, folder: str | os.PathLike[str]) -> Any:
    """A copy of plain config data with relative local-code paths made absolute against `folder`.

    Fields whose annotation carries metadata with a `rebase(value, folder)` method (import
    strings, which may name a file: `tasks/my_task.py@my_task`) are rebased; everything else is
    left as it is. Used when a config is read from a file, so a relative path means relative to
    that file, wherever the command runs.

    Args:
        config_class: The workflow config class (or a section's class).
        data: Plain config data, as read from YAML; it is not changed.
        folder: The folder of the file the data came from.

    Returns:
        The rebased copy (the data itself where it is not a mapping).
    """
    cls = _unwrap(config_class)
    if not _structured(cls) or not isinstance(data, Mapping):
        return data
    fields = _field_types(cls)
    out = dict(data)
    for key, value in data.items():
        if key not in fields:
            continue  # an unknown key: validation reports it
        rebase = [m.rebase for m in field_metadata(cls, key) if callable(getattr(m, "rebase", None))]
        if rebase:
            out[key] = rebase[0](value, folder)
        else:
            out[key] = rebase_code_paths(fields[key][1], value, folder)
    return out
