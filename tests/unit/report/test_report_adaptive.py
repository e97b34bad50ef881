"""An adaptive sweep's results (a `rung` column, a `stopped` status) get their column and the
metric-across-rungs plot; the report does not need them."""

from __future__ import annotations

import pyarrow as pa

from motools.engine import RunRecord
from motools.report._figures import figures
from motools.report._gather import PointView, ReportData
from motools.report._metric import choose_objective
from motools.report._page import index_page
from motools.sweep import metric_columns
from motools.sweep._collate import PointOutcome, collate

LR = "submit_training.hyperparameters.learning_rate"


def data(rungs: list[int] | None) -> ReportData:
    outcomes = [PointOutcome(i, {LR: lr}, "stopped" if i == 0 else "succeeded",
                             metrics={"t": {"accuracy": 0.2 + i / 10}})
                for i, lr in enumerate([1e-4, 1e-3, 1e-2])]
    table = collate(outcomes)
    if rungs is not None:
        table = table.append_column("rung", pa.array(rungs, pa.int64()))
    rows = table.to_pylist()
    points = [PointView(r["point"], r, {LR: r[LR]}, []) for r in rows]
    run = RunRecord(kind="sweep", name="asha", info={"workflow": "train_and_evaluate"})
    return ReportData(run=run, status="succeeded", table=table, final=True, points=points,
                      step_versions={}, curves=[], command="motools sweep run asha.yaml")


def test_a_rung_column_gets_a_table_column_and_a_plot_across_rungs():
    report = data([0, 1, 2])
    objective = choose_objective(metric_columns(report.table), report.run.info)
    ids = [f.id for f in figures(report, objective)]
    assert "plot-rungs" in ids
    page = index_page(report, objective, 2, figures(report, objective), {}, "site")
    assert "<th data-type=\"num\">rung</th>" in page
    assert 'data-status="stopped"' in page and "1 stopped" in page


def test_without_rungs_there_is_no_rung_plot_or_column():
    report = data(None)
    objective = choose_objective(metric_columns(report.table), report.run.info)
    assert "plot-rungs" not in [f.id for f in figures(report, objective)]
    assert ">rung<" not in index_page(report, objective, None, [], {}, "site")
