"""Random search: the `sample:` section of a sweep file, drawn the same way on every machine.

    sample:
      num_samples: 8
      seed: 0
      params:
        submit_training.hyperparameters.learning_rate: {loguniform: [1.0e-5, 1.0e-2]}
        submit_training.hyperparameters.lora_rank: {choice: [4, 8, 16]}

Each parameter has its own random stream, seeded by the sweep's seed and the parameter's dot
path, so adding a parameter leaves the values drawn for the others unchanged. Only
`random.Random.random()` is used (Python guarantees its sequence for a seed across versions), and
floats are rounded to `SIGNIFICANT_DIGITS` significant digits: a `log`/`exp` that differs in its
last bit on another machine still gives the same value, hence the same canonical JSON, cache key
and cache hit when the sweep is run again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from motools._errors import ConfigError

DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")
SIGNIFICANT_DIGITS = 6
MAX_SAMPLES = 100_000
_ALLOWED = ", ".join(DISTRIBUTIONS)


class SampleSpec(BaseModel):
    """The `sample:` section: how many points to draw, the seed, and each parameter's law.

    Attributes:
        num_samples: How many points to draw (each crossed with the grid).
        seed: The draw's seed: the same seed draws the same points, on any machine.
        params: Dot path -> one-key mapping naming the distribution: `{choice: [values]}`,
            `{uniform: [low, high]}`, `{loguniform: [low, high]}` (low > 0), or
            `{randint: [low, high]}` (integers, high excluded, as in `range`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_samples: int = Field(ge=1, le=MAX_SAMPLES, strict=True)
    seed: int = Field(default=0, strict=True)
    params: dict[str, Any] = Field(min_length=1)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_distribution(law: Any, where: str) -> tuple[str, Any]:
    """(distribution name, argument) of one `params` entry; ConfigError naming `where` if bad."""
    if not isinstance(law, Mapping) or len(law) != 1:
        raise ConfigError(
            f"{where}: expected a one-key mapping such as {{loguniform: [1.0e-5, 1.0e-2]}}; "
            f"distributions: {_ALLOWED}"
        )
    ((name, arg),) = law.items()
    if name not in DISTRIBUTIONS:
        raise ConfigError(f"{where}: unknown distribution {name!r}; allowed: {_ALLOWED}")
    where = f"{where}.{name}"
    if name == "choice":
        if not isinstance(arg, list) or not arg:
            raise ConfigError(f"{where}: expected a non-empty list of values")
        return name, arg
    if not isinstance(arg, list) or len(arg) != 2:
        raise ConfigError(f"{where}: expected [low, high]")
    low, high = arg
    if name == "randint":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in arg):
            raise ConfigError(f"{where}: expected two integers [low, high], got {arg!r}")
        if low >= high:
            raise ConfigError(
                f"{where}: low must be less than high (high is excluded), got {arg!r}")
        return name, arg
    if not all(_number(v) for v in arg):
        raise ConfigError(f"{where}: expected two finite numbers [low, high], got {arg!r}")
    if low >= high:
        raise ConfigError(f"{where}: low must be less than high, got {arg!r}")
    if name == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: low must be greater than 0, got {low!r}")
    return name, [float(low), float(high)]


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def rounded(value: Any) -> Any:
    """A float to `SIGNIFICANT_DIGITS` significant digits (a stable key on every machine); other
    values as they are."""
    return _round(value) if isinstance(value, float) else value


def _draw(name: str, arg: Any, u: float) -> Any:
    if name == "choice":
        return arg[min(int(u * len(arg)), len(arg) - 1)]
    low, high = arg
    if name == "randint":
        return int(low + min(int(u * (high - low)), high - low - 1))
    if name == "uniform":
        return _round(low + u * (high - low))
    return _round(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))


def draw_samples(sample: SampleSpec, source: str = "sweep") -> list[dict[str, Any]]:
    """The drawn rows: `num_samples` mappings of dot path -> value, in the order they are drawn.

    Raises:
        ConfigError: A `params` entry is not a valid distribution (names the YAML path).
    """
    laws = {path: check_distribution(law, f"{source}: sample.params.{path}")
            for path, law in sample.params.items()}
    # A string seed is hashed with SHA-512 by `random.seed` (version 2): stable everywhere.
    streams = {path: random.Random(f"motools.sample.v1:{sample.seed}:{path}") for path in laws}
    return [{path: _draw(*law, streams[path].random()) for path, law in laws.items()}
            for _ in range(sample.num_samples)]
