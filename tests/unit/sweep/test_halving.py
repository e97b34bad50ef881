"""Successive halving's decisions: pure functions of the results and the point indices."""

from __future__ import annotations

import math

import pytest

from motools.errors import ConfigError
from motools.sweep._spec import sweep_from_dict
from motools.sweep.adaptive._halving import brackets, promote, worst_case
from motools.sweep.adaptive._spec import ScheduleSpec, check_schedule_shape

N_EPOCHS = "submit_training.hyperparameters.n_epochs"


def test_the_top_third_by_metric_goes_on():
    scores = {0: 0.1, 1: 0.9, 2: 0.5, 3: 0.7, 4: 0.2, 5: 0.3}
    assert promote(scores, 3, "max") == [1, 3]


def test_a_tie_goes_to_the_lower_point_index():
    assert promote({4: 0.5, 2: 0.5, 7: 0.5}, 3, "max") == [2]


def test_min_mode_keeps_the_lowest():
    assert promote({0: 0.3, 1: 0.1, 2: 0.2}, 2, "min") == [1, 2]


def test_a_failed_or_valueless_point_is_never_promoted():
    assert promote({0: None, 1: math.nan, 2: 0.0}, 1, "max") == [2]


def test_ceil_keeps_one_of_two_with_factor_three():
    assert promote({0: 0.2, 1: 0.4}, 3, "max") == [1]


def test_successive_halving_starts_every_point_at_the_first_rung():
    assert brackets(5, 3, 3, hyperband=False) == [0, 0, 0, 0, 0]


def test_hyperband_puts_most_points_in_the_exploratory_bracket():
    first = brackets(13, 3, 3, hyperband=True)
    assert first == sorted(first) and len(first) == 13
    counts = [first.count(s) for s in range(3)]
    assert counts[0] > counts[1] > counts[2] >= 1


def test_worst_case_counts_warm_started_epochs_once():
    per_rung, trained = worst_case(9, [1, 3, 9], 3)
    assert per_rung == [9, 3, 1]
    assert trained == 9 * 1 + 3 * (3 - 1) + 1 * (9 - 3)


def test_rungs_from_min_and_max_multiply_by_the_reduction_factor():
    spec = ScheduleSpec(metric="accuracy", resource=N_EPOCHS, min=1, max=20, reduction_factor=3)
    assert spec.rung_values() == [1, 3, 9, 20]


def test_rungs_that_do_not_increase_are_refused():
    spec = ScheduleSpec(metric="accuracy", resource=N_EPOCHS, rungs=[1, 3, 3])
    with pytest.raises(ConfigError, match=r"sweep.yaml: schedule.rungs: rungs must increase"):
        check_schedule_shape(spec, "sweep.yaml")


def test_a_schedule_needs_rungs_or_min_and_max():
    with pytest.raises(ConfigError, match="schedule: give rungs"):
        sweep_from_dict({"workflow": "w", "schedule": {"metric": "a", "resource": N_EPOCHS}},
                        source="s.yaml")


def test_an_unknown_schedule_kind_names_the_choices():
    with pytest.raises(ConfigError, match="schedule.kind.*successive_halving.*hyperband"):
        sweep_from_dict({"workflow": "w", "schedule": {"kind": "asha", "metric": "a",
                                                       "resource": N_EPOCHS, "rungs": [1]}},
                        source="s.yaml")
