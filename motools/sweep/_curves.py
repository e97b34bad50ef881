"""Training curves of a sweep: each point's loss against the training step, read from its model.

A sweep run stores each point's plan nodes (the run file `points.json`); the node that produced a
point's `model` atom is found among the run's step runs, and the atom's metadata carries the
curve (`loss_per_step`, `loss_per_epoch`; see `motools.training._curves`). Matplotlib is imported
inside `plot_curves` only, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools._errors import UserError
from motools.sweep._expand import point_label
from motools.sweep._run import read_point_index
from motools.training._curves import LOSS_PER_EPOCH, LOSS_PER_STEP

if TYPE_CHECKING:
    from motools.atom import AtomStore


@dataclass(frozen=True)
class PointCurve:
    """One point's training curve.

    Attributes:
        index: The point's position in the sweep.
        overrides: Dot path -> value of the point.
        model_atom: The model atom the curve was read from.
        loss_per_step: The training loss of each step (None where it was not finite).
        loss_per_epoch: The mean loss of each epoch.
    """

    index: int
    overrides: dict[str, Any]
    model_atom: str
    loss_per_step: list[float | None]
    loss_per_epoch: list[float | None]

    @property
    def label(self) -> str:
        """`3 (learning_rate=0.001)`: the point's index and its values (`point_label`)."""
        return point_label(self.index, self.overrides)


def training_curves(
    target: str | os.PathLike[str], *, store: str | os.PathLike[str] | AtomStore | None = None
) -> list[PointCurve]:
    """The training curve of every point of a sweep run whose model recorded one.

    Args:
        target: A sweep run id, or a sweep file (its latest run).
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).

    Returns:
        One curve per point that has a trained model with losses, in point order. Points not
        trained yet, failed, or trained by an engine that records no loss (`dummy`) are left out.

    Raises:
        UserError: No such run, or a run that predates the point records.

    Example:
        >>> for curve in training_curves("sweeps/hello_world_local.yaml"):
        ...     print(curve.label, curve.loss_per_epoch)
    """
    from motools.atom import Atom, atom_type_of, get_store
    from motools.engine import get_ledger
    from motools.sweep._find import find_sweep_run

    st = get_store(store)
    run = find_sweep_run(target, store=st)
    entries = read_point_index(st, run.id)
    if entries is None:
        raise UserError(f"run {run.id} did not record its points (it predates training curves); "
                        "rerun the sweep (cached steps are not recomputed)")
    outputs = {sr.plan_id: sr.outputs for sr in get_ledger(st).step_runs_of(run.id)}
    curves = []
    for index, entry in enumerate(entries):
        atoms = [a for pid in entry.nodes.values() for a in outputs.get(pid, {}).values()]
        model = next((a for a in atoms if atom_type_of(a) == "model"), None)
        if model is None:
            continue
        info = Atom.load(model, store=st).metadata.get("info")
        if not isinstance(info, dict) or not info.get(LOSS_PER_STEP):
            continue
        curves.append(PointCurve(index, entry.overrides, model,
                                 list(info[LOSS_PER_STEP]), list(info.get(LOSS_PER_EPOCH) or [])))
    return curves


def plot_curves(
    target: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    store: str | os.PathLike[str] | AtomStore | None = None,
    title: str | None = None,
) -> Path:
    """Draw the training loss against the step as a PNG, one line per point of a sweep.

    Args:
        target: A sweep run id, or a sweep file (its latest run).
        out: Destination `.png` file; parent folders are created.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).
        title: Figure title; defaults to the run's name and id.

    Returns:
        The path of the PNG written.

    Raises:
        UserError: `out` is not a `.png`, no such run, or no point of it recorded a loss.

    Example:
        >>> plot_curves("sweeps/hello_world_local.yaml", out="loss.png")
    """
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UserError(f"curves are written as PNG only: {str(out)!r} must end in .png")
    curves = training_curves(target, store=store)
    if not curves:
        raise UserError(f"no point of {os.fspath(target)} has recorded a training loss: the "
                        "dummy backend trains nothing, and a point still training has none yet")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    try:
        for curve in curves:
            steps = range(1, len(curve.loss_per_step) + 1)
            ax.plot(steps, [float("nan") if v is None else v for v in curve.loss_per_step],
                    label=curve.label, linewidth=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_title(title or f"training loss ({os.fspath(target)})")
        if len(curves) > 1:
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    finally:
        plt.close(fig)
    return out
