"""One page per point (`points/point-NNNN.html`): its values and metrics, its effective config
with what the point set highlighted, its steps (status, code digest, atoms in and out: the
lineage) and, for a failed point, the traceback.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from motools.report._metric import is_baseline
from motools.report._page import document, fmt

if TYPE_CHECKING:
    from motools.report._gather import PointView, ReportData


def point_page(data: ReportData, point: PointView, link: str | None) -> str:
    """The details page of one point."""
    from motools.sweep import metric_columns, param_columns

    row = point.row
    status = str(row["status"])
    out = ['<p><a href="../index.html">&larr; all points</a></p>',
           (f"<h1>{escape(data.run.name)}: point {point.index} "
           f'<span class="badge s-{escape(status)}">{escape(status)}</span></h1>')]
    if is_baseline(point.overrides):
        out.append('<p><span class="tag reference">baseline</span> trains nothing '
                   "(<code>n_epochs: 0</code>): the base model, the reference for the rest.</p>")
    if row.get("synthetic"):
        out.append('<div class="synthetic">SYNTHETIC: a dummy backend made these numbers up.'
                   "</div>")
    if link:
        out.append(f'<p><a class="log" href="../{escape(link)}">open its eval log in the inspect '
                   "viewer (samples, scores, transcripts)</a></p>")
    values = [(p, row.get(p), "set by this point" if p in point.overrides else "base config")
              for p in param_columns(data.table)]
    values += [(m, row.get(m), "metric") for m in metric_columns(data.table)]
    values += [(c, row.get(c), "") for c in ("model", "train_backend", "eval_backend")]
    out.append("<h2>Values</h2><table class=\"steps\"><tr><th>column</th><th>value</th><th></th>"
               "</tr>" + "".join(f"<tr><td><code>{escape(k)}</code></td><td>{escape(fmt(v))}</td>"
                                 f'<td class="muted">{escape(why)}</td></tr>'
                                 for k, v, why in values) + "</table>")
    failed = [s for s in point.steps if s.status == "failed"]
    if row.get("error"):
        out.append(f"<h2>Error</h2><pre>{escape(str(row.get('failed_step') or ''))}: "
                   f"{escape(str(row['error']))}</pre>")
    for step in failed:
        if step.traceback:
            out.append(f"<h3>traceback of {escape(step.name)}</h3>"
                       f'<pre class="traceback">{escape(step.traceback)}</pre>')
    out.append(_steps(point))
    out.append(_config(point))
    return document(f"point {point.index}: {data.run.name}", "\n".join(out), root="../")


def _steps(point: PointView) -> str:
    if not point.steps:
        return "<h2>Steps</h2><p class=\"muted\">The run recorded no steps for this point.</p>"
    rows = []
    for s in point.steps:
        took = f"{s.seconds:.1f}s" if s.status == "succeeded" else "-"
        rows.append(
            f"<tr><td><code>{escape(s.name)}</code></td>"
            f'<td class="s-{escape(s.status)}">{escape(s.status)}</td><td>{took}</td>'
            f"<td><code>{escape((s.version or '-')[:12])}</code></td>"
            f"<td>{_atoms(s.inputs)}</td><td>{_atoms(s.outputs)}</td>"
            f"<td>{escape(s.error or '')}</td></tr>")
    return ("<h2>Steps</h2><p class=\"muted\"><i>cached</i>: read from the cache, not run again; "
            "<i>pending</i>: not settled yet. Atoms in and out are the point's lineage "
            "(<code>motools atom lineage ID</code> prints an atom's whole history).</p>"
            '<table class="steps"><tr><th>step</th><th>status</th><th>time</th>'
            "<th>code digest</th><th>atoms in</th><th>atoms out</th><th>error</th></tr>"
            + "".join(rows) + "</table>")


def _atoms(atoms: dict[str, str]) -> str:
    return "<br>".join(f"{escape(name)}: <code>{escape(atom)}</code>"
                       for name, atom in sorted(atoms.items())) or "-"


def _config(point: PointView) -> str:
    """The config each step ran with; the lines the point set (its diff against the base) are
    highlighted. Steps not run yet show the point's own values only."""
    lines: list[tuple[str, Any]] = []
    for s in point.steps:
        if s.config:
            lines += _flatten(s.config, s.name)
    if not lines:
        lines = sorted(point.overrides.items())
        note = "Not run yet: the values this point sets."
    else:
        note = "Highlighted: set by this point (its difference from the base config)."

    def is_set(path: str) -> bool:
        return any(path == p or path.startswith(p + ".") for p in point.overrides)

    rows = "".join(
        f'<tr class="{"set" if is_set(path) else ""}"><td>{escape(path)}</td>'
        f"<td>{escape(json.dumps(value, default=str))}</td></tr>" for path, value in lines)
    return (f'<h2>Effective config</h2><p class="muted">{note}</p>'
            f'<table class="config">{rows}</table>')


def _flatten(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [item for key in value for item in _flatten(value[key], f"{prefix}.{key}")]
    return [(prefix, value)]
