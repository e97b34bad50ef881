"""Fixtures of the fault-injection tests: the session's Ray cluster, for drivers to join."""

from __future__ import annotations

import pytest


@pytest.fixture
def ray_address() -> str:
    """The address of the test session's local Ray (started here if no test started it yet).

    Driver subprocesses join it instead of starting a private Ray each (about 5 s apiece on this
    machine); Ray still kills a dead driver's running tasks, so a killed driver is a real one.
    """
    import ray

    from motools.engine import ensure_ray

    ensure_ray()
    return str(ray.get_runtime_context().gcs_address)
