"""Sweep reports: one static folder per sweep, to open, share, or put on a static host.

`build_report` writes `index.html` (what the sweep is, its sortable results table, interactive
plotly plots), a page per point (config, atoms, steps, traceback), the points' eval logs in
inspect's own viewer (`inspect/`), and every script and style they use (`assets/`). Nothing is
fetched from the network, and an unchanged run gives the same files.

Example:
    >>> from motools.report import build_report
    >>> build_report("sweeps/hello_world.yaml", "report")
    PosixPath('report/index.html')
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from motools.errors import UserError

if TYPE_CHECKING:
    from motools.atom import AtomStore

__all__ = ["build_report"]

# The folders and files a report owns: rebuilt from scratch, so no stale point page survives.
_OWNED = ("index.html", "assets", "points", "inspect")
_MARK = '<meta name="generator" content="motools sweep report">'


def build_report(
    target: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    store: str | os.PathLike[str] | AtomStore | None = None,
) -> Path:
    """Write the report of a sweep run into a folder.

    A run still going (or stopped) gets a live report: its finished points, the others marked
    pending or running; building again refreshes it.

    Args:
        target: A sweep run id (`run-...`), or a sweep file (its latest run).
        out_dir: The folder to write; created. A folder that holds anything but an earlier
            report is refused.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).

    Returns:
        The path of the report's `index.html`.

    Raises:
        UserError: No such run, a run without results, or `out_dir` is a file or a folder
            that holds something else.
    """
    from motools.atom import get_store
    from motools.report._assets import CSS, JS
    from motools.report._figures import figures
    from motools.report._gather import gather
    from motools.report._metric import best_point, choose_objective
    from motools.report._page import index_page, point_href
    from motools.report._point_page import point_page
    from motools.report._viewer import bundle_viewer
    from motools.sweep import metric_columns

    out = Path(out_dir)
    _check_out_dir(out)
    st = get_store(store)
    data = gather(target, st)
    objective = choose_objective(metric_columns(data.table), data.run.info)
    best = best_point(data.points, objective)

    for name in _OWNED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    assets = out / "assets"
    assets.mkdir(parents=True)
    import plotly.offline

    (assets / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    (assets / "report.css").write_text(CSS, encoding="utf-8")
    (assets / "report.js").write_text(JS, encoding="utf-8")
    links = bundle_viewer(data.table, out, st)
    (out / "points").mkdir()
    for point in data.points:
        page = point_page(data, point, links.get(point.index))
        (out / point_href(point.index)).write_text(page.replace("<head>", "<head>\n" + _MARK, 1),
                                                   encoding="utf-8")
    page = index_page(data, objective, best, figures(data, objective), links, out.name or ".")
    index = out / "index.html"
    index.write_text(page.replace("<head>", "<head>\n" + _MARK, 1), encoding="utf-8")
    return index


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {str(out)!r}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        index = out / "index.html"
        if not (index.is_file() and _MARK in index.read_text(encoding="utf-8", errors="replace")):
            raise UserError(f"-o {str(out)!r}: the folder holds files that are not a sweep "
                            "report; name an empty or new folder")
