"""The report's interactive plots, drawn by plotly and written as HTML fragments.

Each fragment is a `<div>` with a fixed id and the script that draws it; plotly.js itself is one
file in the report folder (`assets/plotly.min.js`), so the page needs no network. Same table, same
fragments: div ids come from the plot's name, never from plotly's random ids.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motools.report._metric import Objective, is_number

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import pyarrow as pa

    from motools.report._gather import ReportData
    from motools.sweep import PointCurve

_HEIGHT = 380
_FINISHED = ("succeeded", "cached")
# The run's repeats: averaged over in the metric plots, not an axis of their own.
_REPEAT_SUFFIXES = ("seed",)


@dataclass(frozen=True)
class Figure:
    """One plot of the page: its div id and its HTML fragment."""

    id: str
    html: str


def figures(data: ReportData, objective: Objective | None) -> list[Figure]:
    """Every plot the report shows, in page order; plots that have nothing to show are left out.

    Args:
        data: The gathered report data.
        objective: The sweep's metric (None when the table has no metric).
    """
    from motools.sweep import param_columns, point_overrides

    table = data.table
    params = param_columns(table)
    out: list[Figure] = []
    if objective is not None:
        sets = point_overrides(table)
        for x in params:
            # An axis needs two values the points chose (a baseline's lone `n_epochs: 0` is none).
            chosen = {json.dumps(s[x], sort_keys=True, default=str) for s in sets if x in s}
            if len(chosen) > 1 and not _short(x).endswith(_REPEAT_SUFFIXES):
                out.append(_metric_vs(table, x, objective))
        if len(params) >= 1:
            out.append(_parallel(table, params, objective))
        if "rung" in table.column_names:
            out.append(_rungs(data.rungs if data.rungs is not None else table, objective))
    if data.curves:
        out.append(_curves(data.curves))
    return out


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _fragment(fig: go.Figure, div_id: str, *, top: int = 50) -> str:
    fig.update_layout(template="plotly_white", height=_HEIGHT,
                      margin={"l": 60, "r": 30, "t": top, "b": 50})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _metric_vs(table: pa.Table, x: str, objective: Objective) -> Figure:
    """Mean ± standard error of the metric per value of `x`, over the points' other parameters;
    the points that leave `x` to the base config (a baseline) as dashed reference lines."""
    import plotly.graph_objects as go

    from motools.sweep import reference_lines, summarize, use_log_x

    frame = summarize(table, x=x, y=objective.column)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in frame[x])
    if not numeric:
        frame = frame.assign(_key=frame[x].astype(str)).sort_values("_key")
    repeats = int(frame["n"].max()) if len(frame) else 0
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[v if numeric else str(v) for v in frame[x]], y=list(frame["mean"]),
        error_y={"type": "data", "array": [0.0 if math.isnan(s) else s for s in frame["se"]],
                 "visible": True},
        customdata=list(frame["n"]), mode="lines+markers", name=objective.label,
        hovertemplate=f"{_short(x)}=%{{x}}<br>{objective.label}=%{{y:.4g}} "
                      "± %{error_y.array:.2g}<br>n=%{customdata}<extra></extra>",
    ))
    for label, value in reference_lines(table, x=x, y=objective.column):
        fig.add_hline(y=value, line_dash="dash", line_color="gray",
                      annotation_text=f"{label}: {value:.4g}", annotation_position="top left")
    log = numeric and use_log_x(x, list(frame[x]))
    fig.update_xaxes(title=_short(x) + (" (log)" if log else ""), type="log" if log else None)
    over = f" (mean ± s.e. over {repeats} points)" if repeats > 1 else ""
    fig.update_yaxes(title=objective.label + over)
    fig.update_layout(title=f"{objective.label} vs {_short(x)}", showlegend=False)
    div_id = f"plot-metric-{_slug(x)}"
    return Figure(div_id, _fragment(fig, div_id))


def _parallel(table: pa.Table, params: list[str], objective: Objective) -> Figure:
    """One line per finished point across every swept parameter, coloured by the metric."""
    import plotly.graph_objects as go

    from motools.sweep import use_log_x

    rows = [r for r in table.to_pylist()
            if r["status"] in _FINISHED and is_number(r.get(objective.column))]
    dims = []
    for p in params:
        values = [r.get(p) for r in rows]
        if all(is_number(v) for v in values):
            if use_log_x(p, values):
                dims.append({"label": f"log10 {_short(p)}",
                             "values": [math.log10(v) for v in values]})
            else:
                dims.append({"label": _short(p), "values": [float(v) for v in values]})
        else:
            levels = sorted({str(v) for v in values})
            dims.append({"label": _short(p), "values": [levels.index(str(v)) for v in values],
                         "tickvals": list(range(len(levels))), "ticktext": levels})
    metric = [float(r[objective.column]) for r in rows]
    dims.append({"label": objective.label, "values": metric})
    fig = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": metric, "colorscale": "Viridis", "showscale": True,
              "reversescale": not objective.maximize},
    ))
    # The axis labels sit above the plot area: the title goes above them.
    fig.update_layout(title={"text": f"parameters of each point, coloured by {objective.label}",
                             "y": 0.97, "yanchor": "top"})
    return Figure("plot-parallel", _fragment(fig, "plot-parallel", top=100))


def _rungs(table: pa.Table, objective: Objective) -> Figure:
    """The metric at each rung of an adaptive sweep, one line per point (from the rungs table,
    which has a row per point and rung; the results table has each point's last rung only)."""
    import plotly.graph_objects as go

    by_point: dict[Any, list[tuple[Any, float]]] = {}
    for r in table.to_pylist():
        if r.get("rung") is not None and is_number(r.get(objective.column)):
            by_point.setdefault(r["point"], []).append((r["rung"], float(r[objective.column])))
    fig = go.Figure()
    for point, values in sorted(by_point.items()):
        values.sort()
        fig.add_trace(go.Scatter(x=[v[0] for v in values], y=[v[1] for v in values],
                                 mode="lines+markers", name=f"point {point}"))
    fig.update_xaxes(title="rung", dtick=1)
    fig.update_yaxes(title=objective.label)
    fig.update_layout(title=f"{objective.label} across rungs")
    return Figure("plot-rungs", _fragment(fig, "plot-rungs"))


def _curves(curves: list[PointCurve]) -> Figure:
    """The training loss against the step, one line per point that recorded it."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for curve in curves:
        fig.add_trace(go.Scatter(
            x=list(range(1, len(curve.loss_per_step) + 1)), y=curve.loss_per_step,
            mode="lines", name=curve.label, line={"width": 1.5},
        ))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="training loss")
    fig.update_layout(title="training loss per step")
    return Figure("plot-loss", _fragment(fig, "plot-loss"))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)
