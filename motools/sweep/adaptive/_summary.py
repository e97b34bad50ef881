"""The one line an adaptive sweep ends with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line: what an adaptive sweep trained against the grid, and its best point."""
    parts = []
    if "trained" in summary:
        trained, grid = summary["trained"], summary["grid"]
        ratio = f"{grid / trained:.1f}x less than the grid" if trained else "nothing trained"
        parts.append(f"trained {trained} of {grid} epoch-units ({ratio})")
    if "best" in summary:
        parts.append(f"best {summary['metric']} {summary['best']:.4g} at point "
                     f"{summary['best_point']}")
    return "; ".join(parts)
