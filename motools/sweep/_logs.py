"""Export a sweep's inspect-ai logs into one folder, where `inspect view` looks for them.

Each evaluated point's eval atom keeps the logs its eval backend wrote under `logs/`. They are
copied into `OUT/<point folder>/<log file name>`: the folder names the point (index and swept
values), the file keeps inspect's own name (inspect reads the task and id from it), and
`inspect_ai.log.list_eval_logs(OUT)` (recursive by default) finds one log per evaluated point.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools._errors import UserError

if TYPE_CHECKING:
    from motools.atom import AtomStore

LOG_SUFFIXES = (".eval", ".json")
_MAX_FOLDER = 100


@dataclass(frozen=True)
class ExportedLogs:
    """What `export_eval_logs` wrote.

    Attributes:
        written: The log files written, in point order.
        without_logs: Points that have an eval atom but no inspect log in it (e.g. the `dummy`
            eval backend, which evaluates nothing), as (point index, eval backend).
        not_evaluated: Indices of points with no eval atom (failed or not yet run).
    """

    written: list[Path] = field(default_factory=list)
    without_logs: list[tuple[int, str | None]] = field(default_factory=list)
    not_evaluated: list[int] = field(default_factory=list)


def point_folder(index: int, params: dict[str, Any]) -> str:
    """A folder name for one point: `point-003_learning_rate=0.001_seed=1` (file-system safe)."""
    parts = [f"point-{index:03d}"]
    for path, value in params.items():
        if value is not None:
            parts.append(f"{path.rsplit('.', 1)[-1]}={value}")
    name = re.sub(r"[^A-Za-z0-9._=+-]", "-", "_".join(parts))
    return name[:_MAX_FOLDER]


def export_eval_logs(
    table: Any, out_dir: str | os.PathLike[str], *, store: AtomStore
) -> ExportedLogs:
    """Copy every evaluated point's inspect log out of the store into `out_dir`.

    Args:
        table: The sweep's results table (`point`, parameter columns, `eval_atom`).
        out_dir: The folder to write (created; files already there are kept, same names
            overwritten).
        store: The store that holds the eval atoms.

    Returns:
        What was written and which points had nothing to write.

    Raises:
        UserError: `out_dir` exists and is not a folder.
    """
    from motools.atom import Atom
    from motools.sweep._collate import param_columns

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {str(out)!r}: exists and is not a folder")
    params = param_columns(table)
    result = ExportedLogs()
    for row in table.to_pylist():
        atom_id = row.get("eval_atom")
        if not atom_id:
            result.not_evaluated.append(row["point"])
            continue
        atom = Atom.load(atom_id, store=store)
        logs = sorted(p for p in atom.files
                      if p.startswith("logs/") and p.endswith(LOG_SUFFIXES))
        if not logs:
            result.without_logs.append((row["point"], row.get("eval_backend")))
            continue
        folder = out / point_folder(row["point"], {p: row.get(p) for p in params})
        folder.mkdir(parents=True, exist_ok=True)
        for rel in logs:
            target = folder / Path(rel).name
            target.write_bytes(atom.read_bytes(rel))
            result.written.append(target)
    return result
