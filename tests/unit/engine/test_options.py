"""RunOptions: one typed object for how a run executes, checked when it is made."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from motools.engine import RunOptions
from motools.errors import UserError


def test_defaults_are_a_local_ray_run_with_the_cache():
    options = RunOptions()
    assert (options.executor, options.address, options.max_parallel) == ("ray", None, None)
    assert (options.force_rerun, options.no_cache, options.resources) == (False, False, {})
    assert (options.store, options.observe, options.user) == (None, None, None)


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunOptions().executor = "inline"  # type: ignore[misc]


def test_fields_are_keyword_only():
    with pytest.raises(TypeError):
        RunOptions("inline")  # type: ignore[misc]


def test_an_unknown_executor_is_a_user_error_naming_the_choices():
    with pytest.raises(UserError, match=r"unknown executor 'local'; available: ray, inline"):
        RunOptions(executor="local")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_parallel_must_be_a_whole_number_of_at_least_one(bad):
    with pytest.raises(UserError, match="max_parallel must be a whole number >= 1"):
        RunOptions(max_parallel=bad)


def test_step_names_to_force_become_a_frozenset():
    assert RunOptions(force_rerun=["a", "b", "a"]).force_rerun == frozenset({"a", "b"})


def test_a_single_string_is_not_taken_for_a_collection_of_step_names():
    with pytest.raises(UserError, match="force_rerun must be True, False or a collection"):
        RunOptions(force_rerun="evaluate_model")  # type: ignore[arg-type]


def test_resources_are_copied_so_later_edits_do_not_reach_the_run():
    resources = {"train": {"num_cpus": 2}}
    options = RunOptions(resources=resources)
    resources["train"]["num_cpus"] = 8
    assert options.resources == {"train": {"num_cpus": 2}}


def test_options_travel_to_a_task_whole_but_without_the_drivers_observer():
    options = RunOptions(executor="inline", max_parallel=2, force_rerun={"a"},
                         resources={"a": {"num_cpus": 2}}, user="alice", observe=object())
    copy = pickle.loads(pickle.dumps(options))
    assert copy == options.with_(observe=None)


def test_with_changes_fields_and_checks_them_again():
    assert RunOptions().with_(executor="inline").executor == "inline"
    with pytest.raises(UserError):
        RunOptions().with_(max_parallel=0)
