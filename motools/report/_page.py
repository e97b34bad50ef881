"""The report's main page, `index.html`: what the sweep is, its results table, its plots.

Plain HTML with every value escaped; the only scripts are plotly.js, the plots' fragments and the
table's sorter (`assets/`). Nothing on the page depends on when it was built.
"""

from __future__ import annotations

import math
import time
from html import escape
from typing import TYPE_CHECKING, Any

from motools import __version__
from motools.report._metric import Objective, is_baseline, is_number, stderr_columns

if TYPE_CHECKING:
    from motools.report._figures import Figure
    from motools.report._gather import PointView, ReportData

# Columns an adaptive sweep adds (shown when present).
ADAPTIVE_COLUMNS = ("rung", "resource", "round")
STATUS_ORDER = ("succeeded", "cached", "failed", "skipped", "stopped", "running", "pending",
                "interrupted")


def point_href(index: int) -> str:
    """The details page of a point, relative to the report folder."""
    return f"points/point-{index:04d}.html"


def fmt(value: Any) -> str:
    """A cell's text: 4 significant digits for floats, `-` for nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def when(seconds: float | None) -> str:
    """A timestamp of the run (UTC), or `-`."""
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def duration(seconds: float) -> str:
    """`1h 02m 03s`, `2m 05s` or `4.2s`."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def document(title: str, body: str, *, root: str = "", scripts: tuple[str, ...] = ()) -> str:
    """A whole HTML page around `body`; `root` leads from the page back to the report folder."""
    tags = "".join(f'<script src="{root}assets/{name}"></script>\n' for name in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'  # no favicon request: a 404 is a console error
        f'<link rel="stylesheet" href="{root}assets/report.css">\n{tags}</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def index_page(data: ReportData, objective: Objective | None, best: int | None,
               figures: list[Figure], links: dict[int, str], out_name: str) -> str:
    """The main page."""
    body = [_header(data, out_name), _results(data, objective, best, links),
            _plots(figures), _footer(out_name)]
    body.append('<script src="assets/report.js"></script>')
    return document(f"{data.run.name}: sweep report", "\n".join(body), scripts=("plotly.min.js",))


def _distinct(points: list[PointView], column: str) -> list[str]:
    return sorted({str(p.row[column]) for p in points if p.row.get(column) is not None})


def _header(data: ReportData, out_name: str) -> str:
    run = data.run
    counts = ", ".join(f'<span class="s-{escape(s)}">{n} {escape(s)}</span>'
                       for s, n in sorted(data.status_counts.items(),
                                          key=lambda kv: _status_rank(kv[0])))
    if run.ended_at is not None:
        took = duration(run.ended_at - run.started_at)
    else:
        took = "still running" if data.status == "running" else "-"
    synthetic = [p for p in data.points if p.row.get("synthetic")]
    digests = "<br>".join(
        f"<code>{escape(step)}</code>: " + ", ".join(f"<code>{escape(v[:12])}</code>" for v in vs)
        for step, vs in data.step_versions.items()) or "-"
    version = run.info.get("motools_version")
    facts = [
        ("run", (f"<code>{escape(run.id)}</code> "
                f'<span class="badge s-{escape(data.status)}">{escape(data.status)}</span>')),
        ("user", escape(run.user or "-")),
        ("started", when(run.started_at)), ("ended", when(run.ended_at)), ("duration", took),
        ("points", f"{len(data.points)}: {counts}"),
        ("workflow", f"<code>{escape(str(run.info.get('workflow', '-')))}</code>"),
        ("base model", _listed(_distinct(data.points, "model"))),
        ("train backend", _listed(_distinct(data.points, "train_backend"))
         + (' <span class="badge synthetic-tag">synthetic</span>' if synthetic else "")),
        ("eval backend", _listed(_distinct(data.points, "eval_backend"))),
        ("motools version", escape(str(version)) if version else
         f"not recorded by the run (report made with {escape(__version__)})"),
        ("code digest of the steps", digests),
    ]
    out = [f"<h1>{escape(run.name)}</h1>",
           '<p class="muted">sweep report, made by <code>motools sweep report</code></p>']
    if synthetic:
        out.append(f'<div class="synthetic">SYNTHETIC: {len(synthetic)} of {len(data.points)} '
                   "points ran on a dummy backend, which trains and evaluates nothing. Their "
                   "metrics are made up and measure nothing.</div>")
    if not data.final:
        out.append(f'<div class="live">Live report: made while the sweep was '
                   f"<b>{escape(data.status)}</b>; unfinished points are marked pending or "
                   f"running. Run <code>motools sweep report {escape(run.id)} -o "
                   f"{escape(out_name)}</code> again to refresh it.</div>")
    out.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
               + "</dl>")
    out.append(f"<div>reproduce with:</div><pre id=\"command\">{escape(data.command)}</pre>")
    return '<header id="about">' + "\n".join(out) + "</header>"


def _listed(values: list[str]) -> str:
    return ", ".join(f"<code>{escape(v)}</code>" for v in values) or "-"


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def _results(data: ReportData, objective: Objective | None, best: int | None,
             links: dict[int, str]) -> str:
    from motools.sweep import metric_columns, param_columns

    table = data.table
    params = param_columns(table)
    metrics = metric_columns(table)
    errors = stderr_columns(metrics)
    shown_metrics = [m for m in metrics if m not in errors.values()]
    extra = [c for c in ADAPTIVE_COLUMNS
             if c in table.column_names and c not in params and c not in metrics]
    numeric = {c: all(is_number(p.row.get(c)) or p.row.get(c) is None for p in data.points)
               for c in [*params, *extra]}
    heads = ['<th data-type="num">point</th>']
    for p in params:
        heads.append(f'<th data-type="{"num" if numeric[p] else "str"}" title="{escape(p)}">'
                     f"{escape(p.rsplit('.', 1)[-1])}</th>")
    for m in shown_metrics:
        first = ""
        if objective is not None and m == objective.column:
            first = f' data-first="{"descending" if objective.maximize else "ascending"}"'
        label = escape(m) + (" ± s.e." if m in errors else "")
        heads.append(f'<th data-type="num" data-metric="{escape(m)}"{first}>{label}</th>')
    heads += [f'<th data-type="{"num" if numeric[c] else "str"}">{c}</th>' for c in extra]
    models = _distinct(data.points, "model")
    if len(models) > 1:
        heads.append('<th data-type="str">model</th>')
    heads += ['<th data-type="str">status</th>', '<th data-type="str">error</th>']
    if links:  # no column for sweeps without inspect logs (the dummy eval backend)
        heads.append('<th data-type="str">eval log</th>')
    rows = []
    for point in data.points:
        row = point.row
        classes = []
        tags = ""
        if point.index == best:
            classes.append("best")
            tags += '<span class="tag best" title="best point">best</span>'
        if is_baseline(point.overrides):
            classes.append("reference")
            tags += '<span class="tag reference" title="n_epochs: 0">baseline</span>'
        cells = [(f'<td class="num" data-v="{point.index}"><a href="{point_href(point.index)}">'
                 f"{point.index}</a>{tags}</td>")]
        for p in params:
            inherited = p not in point.overrides
            cls = ("num " if numeric[p] else "") + ("inherited" if inherited else "")
            title = ' title="the base config\'s value: this point does not set it"' \
                if inherited else ""
            cells.append(f'<td class="{cls.strip()}"{title}{_sort_value(row.get(p))}>'
                         f"{escape(fmt(row.get(p)))}</td>")
        for m in shown_metrics:
            text = fmt(row.get(m))
            if m in errors and is_number(row.get(errors[m])):
                text += f" ± {row[errors[m]]:.2g}"
            cells.append(f'<td class="num"{_sort_value(row.get(m))}>{escape(text)}</td>')
        for c in extra:
            cells.append(f'<td class="num"{_sort_value(row.get(c))}>{escape(fmt(row.get(c)))}</td>')
        if len(models) > 1:
            cells.append(f"<td>{escape(fmt(row.get('model')))}</td>")
        status = str(row["status"])
        error = row.get("error") or ""
        step = f"{row['failed_step']}: " if row.get("failed_step") and error else ""
        cells.append(f'<td class="s-{escape(status)}">{escape(status)}</td>')
        cells.append(f'<td class="error" title="{escape(step + error)}">'
                     f"{escape(step + error)}</td>")
        link = links.get(point.index)
        if links:
            cells.append(f'<td><a class="log" href="{escape(link)}">samples</a></td>' if link
                         else "<td></td>")
        rows.append(f'<tr class="{" ".join(classes)}" data-point="{point.index}" '
                    f'data-status="{escape(status)}">{"".join(cells)}</tr>')
    statuses = sorted(data.status_counts, key=_status_rank)
    options = "".join(f'<option value="{escape(s)}">{escape(s)}</option>' for s in statuses)
    best_note = ""
    if objective is not None:
        direction = "highest" if objective.maximize else "lowest"
        best_note = (f'<span class="muted">best: {direction} <code>{escape(objective.column)}'
                     f"</code>{'' if best is not None else ' (no finished point yet)'}</span>")
    return (
        '<section id="results-section"><h2>Results</h2>'
        '<div class="controls"><input id="filter" type="search" '
        'placeholder="filter rows (any text, e.g. a value or failed)">'
        f'<select id="status-filter"><option value="">all statuses</option>{options}</select>'
        f'<span id="shown" class="muted"></span>{best_note}</div>'
        '<div class="table-wrap"><table id="results" class="results">'
        f'<thead><tr>{"".join(heads)}</tr></thead><tbody>\n' + "\n".join(rows)
        + "\n</tbody></table></div>"
        '<p class="muted">Click a header to sort; a point number opens its details (config, '
        "atoms, steps, traceback); <i>italic</i> values are the base config's, not set by the "
        "point.</p></section>"
    )


def _sort_value(value: Any) -> str:
    if is_number(value):
        return f' data-v="{value!r}"'
    return ""


def _plots(figures: list[Figure]) -> str:
    if not figures:
        return '<section id="plots"><h2>Plots</h2><p class="muted">No finished point has a ' \
               "metric yet.</p></section>"
    cells = "\n".join(f'<div class="plot" data-plot="{escape(f.id)}">{f.html}</div>'
                      for f in figures)
    return f'<section id="plots"><h2>Plots</h2><div class="plots">{cells}</div></section>'


def _footer(out_name: str) -> str:
    return (
        "<footer><p>This folder is a static site: everything it shows is in it (no network). "
        "Open it through any static web server, e.g. "
        f"<code>python -m http.server -d {escape(out_name)}</code> then "
        "<code>http://localhost:8000/</code>, or copy the folder to an S3-style bucket "
        f"(<code>aws s3 sync {escape(out_name)} s3://BUCKET/PREFIX</code>) and open its "
        "<code>index.html</code> there. The eval logs open in inspect's own viewer "
        "(<code>inspect/</code>), which needs HTTP: a page opened as a local file cannot "
        "load them.</p></footer>"
    )
