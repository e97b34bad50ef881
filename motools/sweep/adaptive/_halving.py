"""Successive halving as pure functions of results: who goes on to the next rung.

Rungs are synchronous, and every decision is a function of the rung's results and the points'
indices only (never of which point finished first), so a rerun served from the cache decides the
same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from motools.sweep.adaptive._spec import Mode


def promote(
    scores: Mapping[int, float | None], reduction_factor: int, mode: Mode
) -> list[int]:
    """The units that go on: the top ceil(n / reduction_factor) of the n that ran the rung.

    Args:
        scores: Unit (a point, or a search trial) -> its metric at this rung; None for a unit
            that failed or has no value for the metric (never promoted).
        reduction_factor: As in the schedule.
        mode: `max` or `min`.

    Returns:
        The promoted units in ascending order. Ties are broken by the lower unit first.
    """
    keep = math.ceil(len(scores) / reduction_factor)
    ranked = sorted(
        (unit for unit, score in scores.items() if _usable(score)),
        key=lambda unit: (-scores[unit] if mode == "max" else scores[unit], unit),  # type: ignore[operator]
    )
    return sorted(ranked[:keep])


def _usable(score: float | None) -> bool:
    return score is not None and not math.isnan(score)


def brackets(n_units: int, n_rungs: int, reduction_factor: int, hyperband: bool) -> list[int]:
    """The first rung of each unit: 0 for all under successive halving.

    HyperBand runs one successive-halving bracket per starting rung; bracket s (starting at rung
    s) gets a share of the units proportional to HyperBand's n_s = ceil((S+1)/(S+1-s) *
    eta^(S-s)), so the exploratory brackets try many units cheaply and the last trains few to
    the end. Units are assigned in index order, so the split is the same on every run.
    """
    if not hyperband or n_rungs == 1:
        return [0] * n_units
    top = n_rungs - 1
    weights = [math.ceil((top + 1) / (top + 1 - s) * reduction_factor ** (top - s))
               for s in range(n_rungs)]
    total = sum(weights)
    counts = [math.floor(n_units * w / total) for w in weights]
    for s in range(n_units - sum(counts)):  # the remainder to the most exploratory brackets
        counts[s % n_rungs] += 1
    return [s for s, count in enumerate(counts) for _ in range(count)]


def worst_case(n_units: int, rungs: Sequence[int], reduction_factor: int,
               first_rungs: Sequence[int] | None = None) -> tuple[list[int], int]:
    """How many units each rung may run, and the resource total if each continues warm.

    Args:
        n_units: Units (points) in the sweep.
        rungs: The rungs' resource values.
        reduction_factor: As in the schedule.
        first_rungs: Each unit's first rung (HyperBand brackets); default all 0.

    Returns:
        (units per rung, resource units trained at most), where a promoted unit trains only
        the difference to its previous rung.
    """
    first = list(first_rungs) if first_rungs is not None else [0] * n_units
    per_rung = [0] * len(rungs)
    total = 0
    for start in sorted(set(first)):
        n = first.count(start)
        previous = 0
        for r in range(start, len(rungs)):
            per_rung[r] += n
            total += n * (rungs[r] - previous)
            previous = rungs[r]
            n = math.ceil(n / reduction_factor)
    return per_rung, total
