"""Which metric a report ranks by, its standard error, the best point and the baseline."""

from __future__ import annotations

from typing import Any

from motools.report._gather import PointView
from motools.report._metric import (
    Objective,
    best_point,
    choose_objective,
    is_baseline,
    stderr_columns,
)


def point(index: int, value: Any, status: str = "succeeded", **overrides: Any) -> PointView:
    return PointView(index, {"point": index, "accuracy": value, "status": status}, overrides, [])


def test_inspects_stderr_belongs_to_the_first_measuring_metric_of_its_task() -> None:
    assert stderr_columns(["accuracy", "stderr", "n"]) == {"accuracy": "stderr"}
    assert stderr_columns(["a/accuracy", "a/stderr", "b/mean", "b/stderr"]) == {
        "a/accuracy": "a/stderr", "b/mean": "b/stderr"}
    assert stderr_columns(["score", "score_stderr"]) == {"score": "score_stderr"}


def test_the_objective_is_the_first_measuring_metric_and_losses_are_minimised() -> None:
    assert choose_objective(["n", "accuracy", "stderr"], {}) == Objective("accuracy", True, "stderr")
    assert choose_objective(["train_loss"], {}) == Objective("train_loss", False)
    assert choose_objective(["n"], {}) is None


def test_a_metric_the_run_names_wins_with_its_direction() -> None:
    chosen = choose_objective(["accuracy", "t/error_rate"], {"metric": "error_rate", "mode": "min"})
    assert chosen == Objective("t/error_rate", False)


def test_the_best_point_skips_the_baseline_unfinished_points_and_ties_go_to_the_first() -> None:
    epochs = "submit_training.hyperparameters.n_epochs"
    points = [point(0, 0.5), point(1, 0.9, **{epochs: 0}), point(2, 0.7), point(3, 0.7),
              point(4, None, "pending"), point(5, 0.99, "failed")]
    assert is_baseline(points[1].overrides) and not is_baseline({epochs: 1})
    assert best_point(points, Objective("accuracy", True)) == 2
    assert best_point(points, Objective("accuracy", False)) == 0
    assert best_point(points, None) is None
