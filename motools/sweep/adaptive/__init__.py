"""Adaptive sweeps: successive halving (`schedule:`) and model-based search (`search:`).

An adaptive sweep is a sequence of ordinary cached plans under one run record, and every decision
is a pure function of the cached results, so it is resumed by running the same command again.
Run one like any sweep (`run_sweep(..., schedule=..., search=...)`, or a sweep file with the
sections); these are the sections' models.
"""

from motools.sweep.adaptive._spec import ScheduleSpec, SearchSpec

__all__ = ["ScheduleSpec", "SearchSpec"]
