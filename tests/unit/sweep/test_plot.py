"""Tests for motools.sweep._plot: aggregation over seeds, PNG output, axes and errors."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from motools._errors import UserError
from motools.sweep._collate import PointOutcome, collate
from motools.sweep._plot import _aggregation, _half_width, plot, summarize, use_log_x

LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
MODEL = "submit_training.base_model"
LRS = [1e-5, 1e-4, 1e-3]


def accuracy(lr: float, seed: int, model: str = "small") -> float:
    return 0.4 + 50 * lr + 0.03 * seed + (0.1 if model == "big" else 0.0)


def grid(models: tuple[str, ...] = ("small",), failed: frozenset[int] = frozenset()) -> list:
    outcomes = []
    for model in models:
        for lr in LRS:
            for seed in range(3):
                index = len(outcomes)
                overrides = {LR: lr, SEED: seed}
                if len(models) > 1:
                    overrides[MODEL] = model
                if index in failed:
                    outcomes.append(
                        PointOutcome(index, overrides, "failed", error="boom", failed_step="train")
                    )
                    continue
                metrics = {"hello_world": {"accuracy": accuracy(lr, seed, model), "n": 10}}
                outcomes.append(PointOutcome(index, overrides, "succeeded", metrics=metrics))
    return outcomes


def test_plot_writes_a_png(tmp_path: Path) -> None:
    out = plot(collate(grid()), x=LR, y="accuracy", out=tmp_path / "plots" / "acc.png")
    assert out == tmp_path / "plots" / "acc.png"
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 10_000


def test_seeds_are_aggregated_with_mean_and_standard_error() -> None:
    frame = summarize(collate(grid()), x=LR, y="accuracy")
    assert list(frame.columns) == [LR, "mean", "se", "n"]
    assert list(frame[LR]) == LRS
    assert list(frame["n"]) == [3, 3, 3]
    for lr, mean, se in zip(frame[LR], frame["mean"], frame["se"], strict=True):
        values = np.array([accuracy(lr, seed) for seed in range(3)])
        assert mean == pytest.approx(values.mean())
        assert se == pytest.approx(values.std(ddof=1) / np.sqrt(3))


def test_y_label_names_the_aggregation() -> None:
    frame = summarize(collate(grid()), x=LR, y="accuracy")
    assert _aggregation(frame, "stderr") == " (mean ± s.e. over 3 seeds)"
    assert _aggregation(frame, "ci95") == " (mean ± 95% CI, n=3)"


def test_group_of_one_row_has_no_error_bar() -> None:
    outcomes = [o for o in grid() if o.overrides[SEED] == 0]
    frame = summarize(collate(outcomes), x=LR, y="accuracy")
    assert list(frame["n"]) == [1, 1, 1]
    assert frame["se"].isna().all()
    assert math.isnan(_half_width(float("nan"), 1, "stderr"))
    assert _aggregation(frame, "stderr") == ""


def test_ci95_is_wider_than_one_standard_error() -> None:
    assert _half_width(0.1, 3, "stderr") == pytest.approx(0.1)
    try:
        from scipy import stats
    except ImportError:
        expected = 1.96 * 0.1
    else:
        expected = float(stats.t.ppf(0.975, 2)) * 0.1
    assert _half_width(0.1, 3, "ci95") == pytest.approx(expected)


def test_color_axis_gives_one_line_per_value(tmp_path: Path) -> None:
    table = collate(grid(models=("small", "big")))
    frame = summarize(table, x=LR, y="accuracy", color=MODEL)
    assert list(frame.columns) == [LR, MODEL, "mean", "se", "n"]
    assert sorted(frame[MODEL].unique()) == ["big", "small"]
    assert list(frame.groupby(MODEL).size()) == [3, 3]
    assert (frame["n"] == 3).all()
    big = frame[frame[MODEL] == "big"]
    assert list(big[LR]) == LRS
    expected = np.mean([accuracy(1e-5, seed, "big") for seed in range(3)])
    assert big["mean"].iloc[0] == pytest.approx(expected)
    out = plot(table, x=LR, y="accuracy", color=MODEL, out=tmp_path / "by_model.png")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_log_x_for_learning_rates_and_wide_positive_spans() -> None:
    assert use_log_x(LR, LRS)
    assert use_log_x("train.lr", [0.1, 0.2])
    assert not use_log_x(SEED, [0, 1, 2])
    assert not use_log_x("train.epochs", [1, 2, 4])
    assert use_log_x("train.batch_tokens", [10, 1000, 100_000])
    assert not use_log_x(LR, [0.0, 1e-4])  # log of zero is undefined
    assert not use_log_x("train.name", ["a", "b"])


def test_failed_rows_are_left_out(tmp_path: Path) -> None:
    table = collate(grid(failed=frozenset({0, 4})))
    frame = summarize(table, x=LR, y="accuracy")
    assert list(frame["n"]) == [2, 2, 3]
    assert frame.attrs["excluded"] == 2
    assert frame["mean"].iloc[0] == pytest.approx(np.mean([accuracy(1e-5, s) for s in (1, 2)]))
    out = plot(table, x=LR, y="accuracy", out=tmp_path / "p.png", interval="ci95")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_short_column_names_are_accepted_when_unique() -> None:
    frame = summarize(collate(grid()), x="learning_rate", y="accuracy")
    assert list(frame.columns) == [LR, "mean", "se", "n"]


def test_unknown_x_is_a_user_error_listing_param_columns(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        plot(collate(grid()), x="momentum", y="accuracy", out=tmp_path / "p.png")
    message = str(info.value)
    assert "momentum" in message and LR in message and SEED in message
    assert "\n" not in message
    assert not (tmp_path / "p.png").exists()


def test_unknown_y_is_a_user_error_listing_metric_columns(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        plot(collate(grid()), x=LR, y="f1", out=tmp_path / "p.png")
    message = str(info.value)
    assert "f1" in message and "accuracy" in message and "n" in message
    assert LR not in message


def test_importing_plot_does_not_import_matplotlib() -> None:
    code = "import sys, motools.sweep._plot; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_point_without_the_x_parameter_is_a_labelled_reference_line() -> None:
    from motools.sweep._plot import reference_lines

    epochs = "submit_training.hyperparameters.n_epochs"
    baseline = PointOutcome(9, {epochs: 0}, "succeeded",
                            metrics={"hello_world": {"accuracy": 0.1, "n": 10}})
    table = collate([*grid(), baseline])
    assert reference_lines(table, x=LR, y="accuracy") == [("n_epochs=0", 0.1)]
    assert reference_lines(collate(grid()), x=LR, y="accuracy") == []


def test_a_baseline_shown_with_its_inherited_x_value_is_still_a_reference_not_a_point() -> None:
    from motools.sweep._plot import reference_lines

    epochs = "submit_training.hyperparameters.n_epochs"
    baseline = PointOutcome(9, {epochs: 0}, "succeeded", defaults={LR: 1e-5},
                            metrics={"hello_world": {"accuracy": 0.1, "n": 10}})
    table = collate([*grid(), baseline])
    assert table.column(LR).to_pylist()[-1] == 1e-5
    assert reference_lines(table, x=LR, y="accuracy") == [("n_epochs=0", 0.1)]
    assert list(summarize(table, x=LR, y="accuracy")["n"]) == [3, 3, 3]
