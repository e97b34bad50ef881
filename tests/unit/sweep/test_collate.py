"""Tests for motools.sweep._collate: the results table of a sweep and its Parquet/CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from motools._errors import UserError
from motools.sweep._collate import (
    PointOutcome,
    collate,
    metric_columns,
    param_columns,
    point_overrides,
    read_results,
    write_results,
)

LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"


def ok(index: int, overrides: dict, metrics: dict | None = None, **kw) -> PointOutcome:
    if metrics is None:
        metrics = {"hello_world": {"accuracy": 0.5 + index / 10, "stderr": 0.1, "n": 10}}
    return PointOutcome(index=index, overrides=overrides, status="succeeded", metrics=metrics, **kw)


def sample_outcomes() -> list[PointOutcome]:
    return [
        ok(0, {LR: 1e-4, SEED: 0}, eval_atom="eval-" + "a" * 64),
        ok(1, {LR: 1e-3, SEED: 0}),
        PointOutcome(
            index=2,
            overrides={LR: 1e-2, SEED: 0},
            status="failed",
            error="RuntimeError: out of memory",
            failed_step="submit_training",
        ),
    ]


def test_one_row_per_point_in_index_order() -> None:
    outcomes = sample_outcomes()
    table = collate([outcomes[2], outcomes[0], outcomes[1]])
    assert table.num_rows == 3
    assert table.column("point").to_pylist() == [0, 1, 2]
    assert str(table.schema.field("point").type) == "int64"
    assert table.column(LR).to_pylist() == [1e-4, 1e-3, 1e-2]


def test_override_columns_named_by_dot_path_in_first_seen_order() -> None:
    table = collate([ok(0, {LR: 1, "a.b": "x"}), ok(1, {LR: 0.5, SEED: 3})])
    assert table.column_names[:4] == ["point", LR, "a.b", SEED]
    assert param_columns(table) == [LR, "a.b", SEED]
    assert str(table.schema.field(LR).type) == "double"  # ints and floats unify to double
    assert table.column(LR).to_pylist() == [1.0, 0.5]
    assert table.column("a.b").to_pylist() == ["x", None]
    assert table.column(SEED).to_pylist() == [None, 3]


def test_a_path_a_point_does_not_set_shows_the_base_value_and_overrides_say_what_it_set() -> None:
    epochs = "submit_training.hyperparameters.n_epochs"
    trained = ok(0, {LR: 1e-4}, defaults={epochs: 1})
    baseline = ok(1, {epochs: 0}, defaults={LR: 3e-3})
    table = collate([trained, baseline])
    assert table.column(LR).to_pylist() == [1e-4, 3e-3]
    assert table.column(epochs).to_pylist() == [1, 0]
    assert point_overrides(table) == [{LR: 1e-4}, {epochs: 0}]
    assert json.loads(table.column("overrides")[1].as_py()) == {epochs: 0}


def test_a_table_without_an_overrides_column_reads_set_values_as_the_non_null_ones() -> None:
    table = collate([ok(0, {LR: 1e-4}), ok(1, {SEED: 1})]).drop_columns(["overrides"])
    assert point_overrides(table) == [{LR: 1e-4}, {SEED: 1}]


def test_single_task_gives_plain_metric_columns_and_a_task_column() -> None:
    table = collate(sample_outcomes())
    assert metric_columns(table) == ["accuracy", "stderr", "n"]
    assert table.column_names == [
        "point", LR, SEED, "overrides", "task", "accuracy", "stderr", "n",
        "model", "train_backend", "eval_backend", "synthetic",
        "status", "error", "failed_step", "eval_atom",
    ]  # fmt: skip
    assert table.column("task").to_pylist() == ["hello_world", "hello_world", None]
    assert table.column("accuracy").to_pylist() == [0.5, 0.6, None]
    assert table.column("eval_atom").to_pylist() == ["eval-" + "a" * 64, None, None]


def test_two_different_tasks_give_task_slash_metric_columns() -> None:
    table = collate(
        [
            ok(0, {SEED: 0}, {"hello_world": {"accuracy": 0.8}}),
            ok(1, {SEED: 1}, {"arith": {"accuracy": 0.4, "n": 5}}),
        ]
    )
    assert metric_columns(table) == ["hello_world/accuracy", "arith/accuracy", "arith/n"]
    assert "task" not in table.column_names
    assert table.column("hello_world/accuracy").to_pylist() == [0.8, None]
    assert table.column("arith/accuracy").to_pylist() == [None, 0.4]


def test_two_tasks_in_one_point_give_task_slash_metric_columns() -> None:
    table = collate([ok(0, {SEED: 0}, {"a": {"acc": 1.0}, "b": {"acc": 0.0}})])
    assert metric_columns(table) == ["a/acc", "b/acc"]


def test_failed_point_has_null_metrics_and_its_error() -> None:
    row = collate(sample_outcomes()).to_pylist()[2]
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: out of memory"
    assert row["failed_step"] == "submit_training"
    assert row["accuracy"] is None and row["stderr"] is None and row["n"] is None
    assert row[LR] == 1e-2


def test_non_numeric_metric_values_are_dropped() -> None:
    metrics = {"t": {"accuracy": 0.9, "by_category": {"a": 1.0}, "note": "hi", "ok": True}}
    table = collate([ok(0, {SEED: 0}, metrics)])
    assert metric_columns(table) == ["accuracy"]
    assert "by_category" not in table.column_names and "note" not in table.column_names


def test_metric_named_like_a_status_column_falls_back_to_task_prefix() -> None:
    table = collate([ok(0, {SEED: 0}, {"t": {"error": 0.2, "accuracy": 0.8}})])
    assert metric_columns(table) == ["t/error", "t/accuracy"]
    assert table.column("error").to_pylist() == [None]
    assert table.column("t/error").to_pylist() == [0.2]


def test_parquet_round_trip_keeps_table_and_metadata(tmp_path: Path) -> None:
    table = collate(sample_outcomes())
    path = write_results(table, tmp_path / "out" / "results.parquet")
    assert path.is_file()
    back = read_results(path)
    assert table.equals(back)
    assert param_columns(back) == [LR, SEED]
    assert metric_columns(back) == ["accuracy", "stderr", "n"]
    meta = json.loads(back.schema.metadata[b"motools.sweep"])
    assert meta == {"param_columns": [LR, SEED], "metric_columns": ["accuracy", "stderr", "n"]}


def test_csv_is_written_and_readable_by_pandas(tmp_path: Path) -> None:
    path = write_results(collate(sample_outcomes()), tmp_path / "results.csv")
    frame = pd.read_csv(path)
    assert list(frame["point"]) == [0, 1, 2]
    assert list(frame["status"]) == ["succeeded", "succeeded", "failed"]
    assert frame.loc[1, "accuracy"] == pytest.approx(0.6)
    assert pd.isna(frame.loc[2, "accuracy"])
    assert frame.loc[2, "failed_step"] == "submit_training"


def test_bad_suffix_is_a_user_error_listing_allowed_suffixes(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        write_results(collate(sample_outcomes()), tmp_path / "results.xlsx")
    message = str(info.value)
    assert ".parquet" in message and ".csv" in message and "\n" not in message
    assert not (tmp_path / "results.xlsx").exists()


def test_read_results_rejects_non_parquet_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.parquet"):
        read_results(tmp_path / "results.csv")
    with pytest.raises(UserError, match="not found"):
        read_results(tmp_path / "missing.parquet")


def test_table_without_sweep_metadata_is_a_user_error() -> None:
    table = collate(sample_outcomes()).replace_schema_metadata(None)
    with pytest.raises(UserError, match="motools.sweep"):
        param_columns(table)


def test_each_row_names_its_model_and_backends_and_says_when_it_is_synthetic() -> None:
    table = collate([
        ok(0, {SEED: 0}, model="local/tiny-byte-lm", train_backend="local",
           eval_backend="inspect"),
        ok(1, {SEED: 1}, model="m", train_backend="dummy", eval_backend="dummy", synthetic=True),
    ])
    assert table.column("model").to_pylist() == ["local/tiny-byte-lm", "m"]
    assert table.column("train_backend").to_pylist() == ["local", "dummy"]
    assert table.column("eval_backend").to_pylist() == ["inspect", "dummy"]
    assert table.column("synthetic").to_pylist() == [False, True]
    assert "model" not in param_columns(table) + metric_columns(table)
