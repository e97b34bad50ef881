"""The `schedule:` and `search:` sections of a sweep: what an adaptive sweep decides, and by what.

    schedule:                      # successive halving: stop hopeless points early
      kind: successive_halving     # or hyperband
      metric: accuracy
      mode: max
      resource: submit_training.hyperparameters.n_epochs
      rungs: [1, 3, 9]             # or min: 1, max: 9 (rungs min * reduction_factor^k, then max)
      reduction_factor: 3

    search:                        # model-based search with Optuna's samplers (ask/tell)
      algorithm: tpe               # or random, cmaes
      metric: accuracy
      mode: max
      num_samples: 32
      batch_size: 4
      seed: 0
      params:
        submit_training.hyperparameters.learning_rate: {loguniform: [1.0e-5, 1.0e-2]}

Loading checks the sections' shape; what needs the workflow (the resource is a whole-number field,
not an axis) is checked by `check_adaptive` before anything runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from motools._errors import ConfigError

Mode = Literal["max", "min"]
SCHEDULE_KINDS = ("successive_halving", "hyperband")
ALGORITHMS = ("tpe", "random", "cmaes")


class ScheduleSpec(BaseModel):
    """Successive halving (or HyperBand brackets of it) over a whole-number resource.

    Attributes:
        kind: `successive_halving`, or `hyperband` (points split into brackets that start at
            successive rungs).
        metric: The results column that ranks points (an eval metric, or `train_loss`).
        mode: `max` or `min`: which end of the metric is better.
        resource: The config dot path the rungs set, e.g. `submit_training.hyperparameters.n_epochs`.
        rungs: The resource value of each rung, increasing.
        min: Instead of `rungs`: the first rung's value ...
        max: ... and the last's; rungs are min * reduction_factor^k below max, then max.
        reduction_factor: A rung promotes the top ceil(n / reduction_factor) of its n points.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["successive_halving", "hyperband"] = "successive_halving"
    metric: str = Field(min_length=1)
    mode: Mode = "max"
    resource: str = Field(min_length=1)
    rungs: list[int] | None = None
    min: int | None = Field(default=None, ge=1, strict=True)
    max: int | None = Field(default=None, ge=1, strict=True)
    reduction_factor: int = Field(default=3, ge=2, strict=True)

    @model_validator(mode="after")
    def _rungs_given_once(self) -> ScheduleSpec:
        if self.rungs is None and (self.min is None or self.max is None):
            raise ValueError("give rungs: [..] or both min and max")
        if self.rungs is not None and (self.min is not None or self.max is not None):
            raise ValueError("give rungs or min/max, not both")
        return self

    def rung_values(self) -> list[int]:
        """The resource value of each rung, in order."""
        if self.rungs is not None:
            return list(self.rungs)
        assert self.min is not None and self.max is not None
        values, value = [], self.min
        while value < self.max:
            values.append(value)
            value *= self.reduction_factor
        return [*values, self.max]


class SearchSpec(BaseModel):
    """Model-based search: Optuna proposes `batch_size` points a round until `num_samples`.

    Attributes:
        algorithm: `tpe` (TPESampler), `random` (RandomSampler) or `cmaes` (CmaEsSampler,
            numeric parameters only).
        metric: The results column the sampler is told (the mean over a grid's seeds).
        mode: `max` or `min`.
        num_samples: How many points the search proposes in all.
        batch_size: Proposals per round; a round's points run concurrently as one plan.
        seed: The sampler's seed: the same results give the same proposals.
        params: Dot path -> distribution, as in `sample:` (`{loguniform: [1e-5, 1e-2]}`, ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["tpe", "random", "cmaes"] = "tpe"
    metric: str = Field(min_length=1)
    mode: Mode = "max"
    num_samples: int = Field(ge=1, le=10_000, strict=True)
    batch_size: int = Field(default=1, ge=1, strict=True)
    seed: int = Field(default=0, strict=True)
    params: dict[str, Any] = Field(min_length=1)


def check_schedule_shape(schedule: ScheduleSpec, source: str) -> None:
    """Rungs positive and increasing (ConfigError naming `schedule.rungs`)."""
    values = schedule.rung_values()
    where = f"{source}: schedule.rungs"
    if not values:
        raise ConfigError(f"{where}: needs at least one rung")
    for i, value in enumerate(values):
        if isinstance(value, bool) or value < 1:
            raise ConfigError(f"{where}[{i}]: a rung is a whole number >= 1, got {value!r}")
        if i and value <= values[i - 1]:
            raise ConfigError(f"{where}: rungs must increase, got {values}")
    if schedule.min is not None and schedule.max is not None and schedule.min >= schedule.max:
        raise ConfigError(f"{source}: schedule.min must be less than schedule.max, "
                          f"got {schedule.min} and {schedule.max}")
