"""RunOptions: how a run executes, as one typed object from the CLI through sweep to the engine.

Nothing here enters a cache key: options say where, how wide and with which cache policy a plan
runs, never what it computes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from motools._errors import ArgumentError, ConfigError, UserError

if TYPE_CHECKING:
    from motools.atom._store import AtomStore
    from motools.engine._progress import RunObserver

ExecutorName = Literal["ray", "inline"]
EXECUTORS: tuple[str, ...] = get_args(ExecutorName)

# True: skip cache reads for every step; a set of step names: only for those steps.
Force = bool | frozenset[str]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a workflow or sweep runs: executor, cluster, width, cache policy, store, observer.

    Every field has a default, so `RunOptions()` is a local Ray run on the default store. The
    same object is accepted by `run_workflow`, `run_sweep` and the sweep-file functions; make a
    variant with `dataclasses.replace(options, executor="inline")` or `options.with_(...)`.

    Args:
        executor: `ray` (default) runs steps as Ray tasks, on a private local Ray or the cluster
            at `address` / `RAY_ADDRESS`; `inline` runs them one by one in this process.
        address: Ray cluster address (default: `RAY_ADDRESS`, else a private local Ray).
        max_parallel: At most this many step tasks in flight at once (default: no cap).
        force_rerun: Skip cache reads: True for every step, or a collection of step names.
        no_cache: Skip cache writes: nothing this run computes is served from cache later.
        resources: Per-step overrides of `Resources` fields, e.g.
            `{"submit_training": {"concurrency_limit": 4}}`. They never change a cache key.
        store: Store root or AtomStore (default: `MOTOOLS_STORE` or `.motools`).
        observe: Told the plan, then each step run as it settles (e.g. a ProgressDisplay).
        user: Recorded as the creator of everything the run produces (default: `MOTOOLS_USER`,
            else the login name).

    Raises:
        UserError: an unknown executor, or a `max_parallel` below 1.

    Example:
        >>> options = RunOptions(executor="inline", force_rerun={"evaluate_model"})
        >>> run_workflow(workflow=wf, input_atoms={}, config=config, options=options)

    A copy travels whole to every task of the run; only `observe` (the driver's display) stays
    behind.
    """

    executor: ExecutorName = "ray"
    address: str | None = None
    max_parallel: int | None = None
    force_rerun: Force = False
    no_cache: bool = False
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    store: str | os.PathLike[str] | AtomStore | None = None
    observe: RunObserver | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise UserError(
                f"unknown executor {self.executor!r}; available: {', '.join(EXECUTORS)}"
            )
        if self.max_parallel is not None and (
            isinstance(self.max_parallel, bool) or not isinstance(self.max_parallel, int)
            or self.max_parallel < 1
        ):
            raise UserError(f"max_parallel must be a whole number >= 1, got {self.max_parallel!r}")
        force = self.force_rerun
        if not isinstance(force, bool):
            if isinstance(force, str) or not isinstance(force, Collection):
                raise UserError(
                    f"force_rerun must be True, False or a collection of step names, got {force!r}"
                )
            object.__setattr__(self, "force_rerun", frozenset(force))
        # Copied so a caller mutating its dict later cannot change a run in flight.
        resources = self.resources or {}
        object.__setattr__(self, "resources", {k: dict(v) for k, v in resources.items()})

    def with_(self, **changes: Any) -> RunOptions:
        """A copy with some fields changed (`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def __getstate__(self) -> dict[str, Any]:
        # The observer is the driver's display: it never travels to a task (and may not pickle).
        return {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
                "observe": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


# The keywords the front doors had before `options=` became the only way to say how a run executes.
_REMOVED = ("force_rerun", "no_cache", "store", "executor", "address", "resources", "observe",
            "max_parallel", "user")


def reject_removed(function: str, given: Mapping[str, Any]) -> None:
    """Refuse keywords a front door no longer takes, saying what to write instead.

    Raises:
        ArgumentError: naming the keyword and the `options=RunOptions(...)` that replaces it;
            for an unknown keyword, the plain "unexpected keyword" message.
    """
    for name, value in given.items():
        if name in _REMOVED:
            raise ArgumentError(
                f"{function}() takes how a run executes only through options=: write "
                f"options=RunOptions({name}={value!r}) instead of {name}={value!r}"
            )
        raise ArgumentError(f"{function}() got an unexpected keyword argument {name!r}")


def options_with_user(function: str, options: RunOptions | None, user: str | None) -> RunOptions:
    """`options` with the front door's own `user` argument (the product page passes it directly).

    Raises:
        ArgumentError: `user` and `options.user` both given and different.
    """
    opts = options or RunOptions()
    if user is None or user == opts.user:
        return opts
    if opts.user is not None:
        raise ArgumentError(f"{function}(): user={user!r} and options.user={opts.user!r} "
                            "disagree; give the user once")
    return opts.with_(user=user)


def check_force(force: Force, step_names: Collection[str], where: str = "force_rerun") -> None:
    """A ConfigError naming every step in `force` that the workflow does not have."""
    if isinstance(force, frozenset):
        unknown = sorted(force - set(step_names))
        if unknown:
            raise ConfigError(f"{where}: no step(s) {unknown}; steps: {', '.join(step_names)}")
