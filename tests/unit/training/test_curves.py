"""Tests for motools.training._curves: per-step losses into the curve a model atom carries."""

from __future__ import annotations

import math

from motools.training._curves import loss_curve


def test_steps_split_evenly_into_epochs_and_the_train_loss_is_the_last_epochs_mean() -> None:
    curve = loss_curve([4.0, 3.0, 2.0, 1.0, 0.5, 0.5], n_epochs=3)
    assert curve == {"loss_per_step": [4.0, 3.0, 2.0, 1.0, 0.5, 0.5],
                     "loss_per_epoch": [3.5, 1.5, 0.5], "train_loss": 0.5}


def test_no_losses_give_no_curve() -> None:
    assert loss_curve([], n_epochs=0) == {}
    assert loss_curve([], n_epochs=2) == {}


def test_a_non_finite_loss_is_none_and_spoils_only_its_epoch() -> None:
    curve = loss_curve([1.0, math.nan, 2.0, 2.0], n_epochs=2)
    assert curve["loss_per_step"] == [1.0, None, 2.0, 2.0]
    assert curve["loss_per_epoch"] == [None, 2.0] and curve["train_loss"] == 2.0


def test_steps_that_do_not_split_evenly_make_one_epoch() -> None:
    assert loss_curve([3.0, 1.0, 2.0], n_epochs=2)["loss_per_epoch"] == [2.0]
