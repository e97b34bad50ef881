"""Adaptive sweeps: successive halving (`schedule:`) and model-based search (`search:`).

An adaptive sweep is a sequence of ordinary cached plans under one run record, and every decision
is a pure function of the cached results, so it is resumed by running the same command again.
Run one like any sweep (`run_sweep(..., schedule=..., search=...)`, or a sweep file with the
sections); these are the sections' models.
"""

from motools.sweep.adaptive._rungs_plot import load_rungs, plot_rungs
from motools.sweep.adaptive._spec import ScheduleSpec, SearchSpec
from motools.sweep.adaptive._summary import summary_line

__all__ = ["ScheduleSpec", "SearchSpec", "load_rungs", "plot_rungs", "summary_line"]
