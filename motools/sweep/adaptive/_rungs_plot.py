"""The successive-halving picture: each point's metric across the rungs it reached."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from motools._errors import UserError
from motools.atom._store import AtomStore
from motools.sweep._collate import metric_columns

RUNGS_FILE = "rungs.parquet"
_AXES = ("rung", "resource")


def load_rungs(store: AtomStore, run_id: str) -> pa.Table | None:
    """An adaptive sweep's rungs table (a row per point and rung it ran), or None."""
    data = store.get_run_file(run_id, RUNGS_FILE)
    return None if data is None else pq.read_table(pa.BufferReader(data))


def plot_rungs(
    rungs: pa.Table, *, x: str = "rung", y: str, out: str | Path, title: str | None = None
) -> Path:
    """Draw `y` against the rung (or the resource), one line per point, as a PNG.

    Args:
        rungs: A rungs table (`load_rungs`).
        x: `rung` or `resource`.
        y: A metric column, e.g. accuracy.
        out: Destination `.png` file.
        title: Figure title.

    Returns:
        The path of the PNG written.

    Raises:
        UserError: `x` is not rung/resource, `y` is not a metric column, or `out` is not a PNG.
    """
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UserError(f"plot writes PNG only: {str(out)!r} must end in .png")
    if x not in _AXES:
        raise UserError(f"--x {x}: the rungs plot takes rung or resource")
    metrics = metric_columns(rungs)
    if y not in metrics:
        raise UserError(f"--y {y}: not a metric column; metrics: {', '.join(metrics) or 'none'}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = rungs.to_pandas()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    try:
        for point, group in frame.groupby("point", sort=True):
            group = group.sort_values(x)
            ax.plot(group[x], group[y], marker="o", alpha=0.8, label=f"point {point}")
        ax.set_xticks(sorted(frame[x].unique()))
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if frame["point"].nunique() <= 12:
            ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_title(title or f"{y} across the rungs (one line per point)", fontsize=11)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120, format="png")
    finally:
        plt.close(fig)
    return out
