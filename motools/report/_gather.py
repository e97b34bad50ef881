"""What a sweep report shows, read from the store: the run, its results table, and each point's
step runs (status, config, atoms, traceback), finished or not.

Everything here is read-only and ordered (points by index, steps in workflow order), so the
same run gives the same report data.
"""

from __future__ import annotations

import os
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa

    from motools.atom import AtomStore
    from motools.engine import RunRecord, StepRun
    from motools.sweep import PointCurve


@dataclass(frozen=True)
class StepView:
    """One step of one point: how it settled (or `pending`), what it read and made.

    Attributes:
        name: The step's name.
        status: `succeeded`, `cached`, `failed`, `skipped`, or `pending` (not settled yet).
        version: The step's code digest.
        seconds: Wall time of the execution (0 for a cache hit).
        config: The step's config as it ran.
        inputs: Input name -> atom id.
        outputs: Output name -> atom id.
        error: One-line error of a failed step.
        traceback: Its traceback.
    """

    name: str
    status: str
    version: str | None = None
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None


@dataclass(frozen=True)
class PointView:
    """One point: its row of the results table, what it set, and its steps."""

    index: int
    row: dict[str, Any]
    overrides: dict[str, Any]
    steps: list[StepView]


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, gathered once.

    Attributes:
        run: The sweep's run record.
        status: The run's observed status (`running`, `interrupted`, ...).
        table: The results table (final, or live while the run has none).
        final: True when the table is the run's final one.
        points: One PointView per row of the table, in point order.
        step_versions: Step name -> the code digest(s) its step runs ran.
        curves: The points' training curves (points whose model recorded a loss).
        command: The command line that reruns the sweep.
        rungs: An adaptive sweep's rungs table (a row per point and rung it ran), else None.
    """

    run: RunRecord
    status: str
    table: pa.Table
    final: bool
    points: list[PointView]
    step_versions: dict[str, list[str]]
    curves: list[PointCurve]
    command: str
    rungs: pa.Table | None = None

    @property
    def status_counts(self) -> dict[str, int]:
        """Points per status, sorted by status."""
        return dict(sorted(Counter(p.row["status"] for p in self.points).items()))


def gather(target: str | os.PathLike[str], store: AtomStore) -> ReportData:
    """Read a sweep run (by id or sweep file) and everything its report shows.

    Raises:
        UserError: No such run, or a run with no results and no point records.
    """
    from motools.engine import get_ledger
    from motools.sweep import (
        find_sweep_run,
        point_overrides,
        read_point_index,
        run_results,
        training_curves,
    )
    from motools.sweep.adaptive import load_rungs

    run = find_sweep_run(target, store=store)
    found = run_results(store, run)
    if found is None:
        raise UserError(f"run {run.id} has no results yet (status: {run.observed_status()})")
    table, final = found
    entries = read_point_index(store, run.id) or []
    settled: dict[str, StepRun] = {sr.plan_id: sr for sr in get_ledger(store).step_runs_of(run.id)}
    rows = table.to_pylist()
    points = []
    for i, (row, overrides) in enumerate(zip(rows, point_overrides(table), strict=True)):
        nodes = entries[i].nodes if i < len(entries) else {}
        steps = [_step_view(name, settled.get(pid)) for name, pid in nodes.items()]
        points.append(PointView(row["point"], row, overrides, steps))
    versions: dict[str, set[str]] = {}
    for sr in settled.values():
        versions.setdefault(sr.step, set()).add(sr.version)
    curves = training_curves(run.id, store=store) if entries else []
    return ReportData(
        run=run, status=run.observed_status(), table=table, final=final, points=points,
        step_versions={step: sorted(v) for step, v in versions.items()}, curves=curves,
        command=rerun_command(run), rungs=load_rungs(store, run.id),
    )


def _step_view(name: str, sr: StepRun | None) -> StepView:
    if sr is None:
        return StepView(name=name, status="pending")
    return StepView(name=name, status=sr.status, version=sr.version, seconds=sr.runtime_seconds,
                    config=sr.config, inputs=dict(sr.inputs), outputs=dict(sr.outputs),
                    error=sr.error, traceback=sr.traceback)


def rerun_command(run: RunRecord) -> str:
    """The command that reruns a sweep: its recorded `motools` command line, else one made from
    the sweep file it ran (a run started from Python records the Python command)."""
    argv = shlex.split(run.command) if run.command else []
    if argv and Path(argv[0]).name == "motools":
        return shlex.join(["motools", *argv[1:]])
    source = run.info.get("source")
    if isinstance(source, str) and source.endswith((".yaml", ".yml")):
        sets = [arg for value in run.info.get("overrides") or [] for arg in ("--set", value)]
        return shlex.join(["motools", "sweep", "run", source, *sets])
    return run.command or f"(run {run.id} was started from Python)"
