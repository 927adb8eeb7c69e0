"""Turning a measured value into a status: thresholds, warn levels, minimum events, groups.

Rules (documented for users in docs/slo.md):

- fewer events than ``min_events`` -> ``insufficient_data``, never ``pass``;
- the value breaks the fail level -> ``fail``; it holds but breaks the warn level -> ``warn``;
- ``per`` objectives: the objective takes the most severe group status
  (fail > insufficient_data > warn > pass), and its value is that group's value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from slo._types import COMPARATORS, Status, worst
from slo.spec.model import (
    AvailabilityObjective,
    CpuObjective,
    ErrorRateObjective,
    LatencyObjective,
    MemorySlopeObjective,
    Objective,
)
from slo.verdict import GroupResult

__all__ = [
    "DEFAULT_MIN_EVENTS",
    "judge",
    "min_events",
    "pick_worst_group",
    "threshold_text",
]

DEFAULT_MIN_EVENTS: Final = 100
"""Events an objective needs by default (sessions for drop rate, rows for timeseries ones)."""

_TIMESERIES_MIN_ROWS: Final = 10


def min_events(objective: Objective) -> int:
    """The objective's ``min_events``, else a default that makes its statistic meaningful.

    A percentile ``p`` needs at least ``1 / (1 - p)`` events for one event to lie above it
    (p99.9 -> 1,000), and never fewer than 100. Timeseries objectives count rows (1 s each)
    and need 10 by default.
    """
    if objective.min_events is not None:
        return objective.min_events
    if objective.sli in ("memory_slope", "cpu"):
        return _TIMESERIES_MIN_ROWS
    if isinstance(objective, LatencyObjective) and objective.percentile is not None:
        tail = 1.0 - objective.percentile / 100.0
        return max(DEFAULT_MIN_EVENTS, math.ceil(round(1.0 / tail, 9)))
    return DEFAULT_MIN_EVENTS


def judge(
    value: float | None,
    threshold: float,
    comparison: str,
    warn: float | None = None,
    *,
    events: int,
    needed: int,
) -> tuple[Status, str]:
    """Status of ``value`` against the fail level ``threshold`` and optional ``warn`` level."""
    if events < needed or value is None or math.isnan(value):
        return Status.INSUFFICIENT_DATA, f"{events} events, at least {needed} needed"
    holds = COMPARATORS[comparison]
    if not holds(value, threshold):
        return Status.FAIL, ""
    if warn is not None and not holds(value, warn):
        return Status.WARN, f"beyond the warn level {warn:g}"
    return Status.PASS, ""


def pick_worst_group(groups: Sequence[GroupResult], comparison: str) -> GroupResult | None:
    """The group that decides a ``per`` objective: most severe status, then worst value."""
    if not groups:
        return None
    status = worst([g.status for g in groups])
    candidates = [g for g in groups if g.status is status]
    upper = comparison in ("<", "<=")  # larger values are worse
    with_value = [g for g in candidates if g.value is not None]
    if not with_value:
        return candidates[0]
    return (max if upper else min)(with_value, key=lambda g: g.value or 0.0)


def threshold_text(objective: Objective) -> tuple[float | None, float | None, str, str]:
    """``(threshold, warn, unit, text)`` for display, e.g. ``(500.0, None, "ms", "<= 500 ms")``."""
    o = objective
    if isinstance(o, CpuObjective):
        return o.max_percent, None, "%", f"{o.min_percent:g}..{o.max_percent:g} %"
    if isinstance(o, AvailabilityObjective):
        t, w, unit, comparison = o.target, o.warn_target, "%", o.comparison
    elif isinstance(o, ErrorRateObjective):
        t, w, unit, comparison = o.threshold_percent, o.warn_percent, "%", o.comparison
    elif isinstance(o, MemorySlopeObjective):
        t, w, unit = o.threshold_mb_per_min, o.warn_mb_per_min, "MB/min"
        comparison = o.comparison
    else:
        t, w, unit, comparison = o.threshold_ms, o.warn_ms, "ms", o.comparison
    text = f"{comparison} {t:g} {unit}"
    if w is not None:
        text += f" (warn {w:g})"
    return t, w, unit, text
