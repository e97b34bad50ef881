"""Finding the runs of a sweep: by run id, or by the sweep file, wherever the run read it from.

A run records the absolute path of the file it ran and a digest of the spec's content. A sweep
submitted with `ray job submit --working-dir .` runs from a copy of the file in a temporary folder,
so its path names nothing the user has; its name and content still match the user's file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from motools import _hashing
from motools._errors import ConfigError, UserError
from motools.sweep._spec import SweepSpec, load_sweep

if TYPE_CHECKING:
    from motools.atom import AtomStore
    from motools.engine import RunRecord

SPEC_TAG = "motools.sweep-spec.v1"


def sweep_digest(spec: SweepSpec) -> str | None:
    """A digest of what a sweep file says (all its keys; not where the file lies, not comments).

    Returns:
        The hex digest, or None for a spec whose values cannot be hashed (no match is possible).
    """
    try:
        return _hashing.digest(SPEC_TAG, spec.model_dump(mode="json"))
    except (TypeError, ValueError):
        return None


def find_sweep_run(
    target: str | os.PathLike[str], *, store: str | os.PathLike[str] | AtomStore | None = None
) -> RunRecord:
    """A sweep run by id (`run-...`), or the latest run of a sweep file.

    A run of the file is one whose recorded source is the file's absolute path, or whose sweep
    name and spec digest equal the file's (a run of a copy of it, e.g. under `ray job submit
    --working-dir .`). Newest first.

    Args:
        target: A run id or a sweep file.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).

    Returns:
        The run record.

    Raises:
        UserError: No such run, or no run of that file in the store.

    Example:
        >>> run = find_sweep_run("sweeps/hello_world.yaml")
        >>> run.id, run.observed_status()
    """
    from motools.atom import get_store
    from motools.engine import read_ledger

    st = get_store(store)
    text = os.fspath(target)
    if text.startswith("run-"):
        missing = f"no run {text!r} in store {st.uri}; see `motools runs list`"
        ledger = read_ledger(st)
        run = ledger.get_run(text) if ledger is not None else None
        if run is None:
            raise UserError(missing)
        return run
    missing = f"no run of sweep file {text!r} in store {st.uri}; run it first"
    ledger = read_ledger(st)
    if ledger is None:
        raise UserError(missing)
    path = Path(text).resolve()
    name = digest = None
    if path.is_file():
        try:
            spec = load_sweep(path)
        except ConfigError:  # a file that no longer parses can still match by its path
            spec = None
        if spec is not None:
            name, digest = spec.name, sweep_digest(spec)
    for run in ledger.list_runs(limit=None):
        if run.kind != "sweep":
            continue
        if run.info.get("source") == str(path):
            return run
        if digest is not None and run.name == name and run.info.get("sweep_digest") == digest:
            return run
    raise UserError(missing)
