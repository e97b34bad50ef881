"""Ray start-up for the engine and its plugins: one namespace, one way to join or start Ray."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence
from typing import Any

from motools._errors import UserError
from motools.workflow._plan import PlanNode

# Every named actor motools makes (the Ledger actor, trainers, pause actors) lives here, so a
# process finds another's actors whatever namespace its own Ray job runs in.
RAY_NAMESPACE = "motools"

_init_lock = threading.Lock()
_embedded: list[bool] = []  # non-empty once this process started its own Ray


def ensure_ray(address: str | None = None) -> None:
    """Join the cluster at `address` / `RAY_ADDRESS`, or start a private local Ray.

    Ray started here is quiet (usage stats off, warnings only) and shut down at exit. Inside
    `ray job submit` RAY_ADDRESS is set, so the driver joins that cluster. Does nothing when Ray
    is already initialized in this process (a task, an actor, a driver that called it before).

    Args:
        address: A Ray cluster address; default `RAY_ADDRESS`, else a private local Ray.
    """
    import ray

    with _init_lock:
        if ray.is_initialized():
            return
        target = address or os.environ.get("RAY_ADDRESS") or "local"
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        kwargs: dict[str, Any] = {
            # Quiet: the embedded instance otherwise warns about its own token auth on every start.
            "logging_level": "ERROR" if target == "local" else "WARNING",
            "log_to_driver": os.environ.get("MOTOOLS_RAY_LOGS") == "1",
        }
        if target == "local":
            kwargs["include_dashboard"] = False
        ray.init(address=target, **kwargs)
        if target == "local":
            _embedded.append(True)
            atexit.register(ray.shutdown)


def check_fits_this_machine(nodes: Sequence[PlanNode]) -> None:
    """On an embedded Ray, refuse steps that ask for more than this machine has.

    Ray would queue such a task forever (it warns once, in a log). A cluster is not checked:
    its autoscaler may add nodes of the kind a step asks for.
    """
    if not _embedded:
        return
    import ray

    have = ray.cluster_resources()
    for node in nodes:
        res = node.step.resources
        for field_name, ray_name in (("num_cpus", "CPU"), ("num_gpus", "GPU"),
                                     ("memory", "memory")):
            asked = getattr(res, field_name) or 0
            if asked > have.get(ray_name, 0):
                raise UserError(
                    f"resources.{node.name}.{field_name}: the step asks for {asked:g} but this "
                    f"machine has {have.get(ray_name, 0):g}; lower it, or run on a Ray cluster "
                    f"that has it (RAY_ADDRESS or `ray job submit`)"
                )
