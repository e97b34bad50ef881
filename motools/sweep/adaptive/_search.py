"""Model-based search through Optuna's ask/tell interface, with Optuna's own samplers.

The study lives in memory only: it is rebuilt on every run by telling it the results of the
rounds in order, and those results come from the cache on a rerun. With a seeded sampler the same
results give the same proposals, so a rerun (after a crash, or on another machine) proposes
exactly the points it proposed before and trains nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from motools._errors import ConfigError
from motools.sweep._sample import check_distribution, rounded
from motools.sweep.adaptive._spec import SearchSpec


def distributions(search: SearchSpec, source: str) -> dict[str, Any]:
    """Dot path -> Optuna distribution, from the `sample:`-style laws of `search.params`.

    Raises:
        ConfigError: A law that is not a valid distribution, a `choice` of values Optuna cannot
            hold (None, bool, int, float or str), or a `choice` under `cmaes`.
    """
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for path, law in search.params.items():
        where = f"{source}: search.params.{path}"
        name, arg = check_distribution(law, where)
        if name == "choice":
            if search.algorithm == "cmaes":
                raise ConfigError(f"{where}: cmaes searches numbers only; use tpe or random "
                                  "for a choice")
            if not all(v is None or isinstance(v, (bool, int, float, str)) for v in arg):
                raise ConfigError(f"{where}.choice: values must be numbers, strings, booleans "
                                  "or null for a search")
            out[path] = CategoricalDistribution(arg)
        elif name == "randint":
            out[path] = IntDistribution(arg[0], arg[1] - 1)
        else:
            out[path] = FloatDistribution(arg[0], arg[1], log=name == "loguniform")
    return out


def _sampler(search: SearchSpec) -> Any:
    from optuna import samplers

    if search.algorithm == "tpe":
        return samplers.TPESampler(seed=search.seed)
    if search.algorithm == "random":
        return samplers.RandomSampler(seed=search.seed)
    try:
        import cmaes  # noqa: F401  (CmaEsSampler imports it only when it first samples)
    except ImportError:
        from motools._errors import MissingDependencyError

        raise MissingDependencyError(
            "search.algorithm: cmaes needs the cmaes package: pip install cmaes") from None
    return samplers.CmaEsSampler(seed=search.seed)


class Proposer:
    """One Optuna study: `ask` a round of proposals, `tell` their results in point order."""

    def __init__(self, search: SearchSpec, source: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._distributions = distributions(search, source)
        self._study = optuna.create_study(
            direction="maximize" if search.mode == "max" else "minimize",
            sampler=_sampler(search))

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        """`n` new trials, each with the overrides it proposes (floats to 6 significant digits)."""
        out = []
        for _ in range(n):
            trial = self._study.ask(self._distributions)
            out.append((trial, {path: rounded(value) for path, value in trial.params.items()}))
        return out

    def tell(self, trial: Any, steps: Sequence[tuple[int, float]], *, status: str) -> None:
        """Tell a trial's outcome: `completed` with its last value, `pruned`, or `failed`.

        Args:
            trial: A trial `ask` returned.
            steps: (resource, value) at each rung the trial reached, in order.
            status: `completed`, `pruned` (stopped by the schedule) or `failed`.
        """
        from optuna.trial import TrialState

        for resource, value in steps:
            trial.report(value, resource)
        if status == "completed" and steps:
            self._study.tell(trial, steps[-1][1])
        elif status == "pruned":
            self._study.tell(trial, state=TrialState.PRUNED)
        else:
            self._study.tell(trial, state=TrialState.FAIL)
