"""Training curves: the loss of every step and the mean loss of every epoch, as a model says them.

Both real engines (`local`, `tinker`) run the one SFT loop, which keeps the weighted mean
negative log-likelihood of each step's batch; `wait` turns that list into the keys below, which
the model atom carries in `metadata["info"]`, so sweep tables and plots read them from the atom.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# The keys a trained model's info gets (kept in the model atom's metadata).
LOSS_PER_STEP = "loss_per_step"
LOSS_PER_EPOCH = "loss_per_epoch"
TRAIN_LOSS = "train_loss"


def _finite(value: Any) -> float | None:
    # Stored in atom metadata (canonical JSON): NaN and infinities have no JSON form.
    number = float(value)
    return number if math.isfinite(number) else None


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known and len(known) == len(values) else None


def loss_curve(losses: Sequence[float], n_epochs: int) -> dict[str, Any]:
    """The curve keys of a training run's info, from its per-step losses.

    Every epoch has the same number of steps (the loop batches each epoch's shuffle alike), so
    the steps split evenly into `n_epochs` epochs.

    Args:
        losses: Each step's training loss, in step order.
        n_epochs: How many epochs those steps made.

    Returns:
        `loss_per_step`, `loss_per_epoch` (the mean of each epoch's steps) and `train_loss` (the
        mean of the last epoch: the final training loss, less noisy than the last step's); an
        empty dict when there are no losses (nothing was trained). A non-finite loss is None.

    Example:
        >>> loss_curve([4.0, 3.0, 2.0, 1.0], n_epochs=2)["loss_per_epoch"]
        [3.5, 1.5]
    """
    steps = [_finite(x) for x in losses]
    if not steps:
        return {}
    per_epoch = len(steps) // n_epochs if n_epochs > 0 and len(steps) % n_epochs == 0 else 0
    epochs = ([steps[i:i + per_epoch] for i in range(0, len(steps), per_epoch)] if per_epoch
              else [steps])
    means = [_mean(epoch) for epoch in epochs]
    return {LOSS_PER_STEP: steps, LOSS_PER_EPOCH: means, TRAIN_LOSS: means[-1]}
