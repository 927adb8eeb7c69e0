"""Turning a measured value into a status: thresholds, warn levels, minimum events, groups.

Rules (documented for users in docs/slo.md):

- fewer events than ``min_events`` -> ``insufficient_data``, never ``pass``;
- the value breaks the fail level -> ``fail``; it holds but breaks the warn level -> ``warn``;
- ``per`` objectives: the objective takes the most severe group status
  (fail > insufficient_data > warn > pass), and its value is that group's value.

Each SLI's own levels and default minimum are its kind's (:mod:`slo.sli_kinds`:
``threshold_text``, ``min_events``); this module holds only the rules every kind shares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from slo._types import COMPARATORS, Status, worst
from slo.verdict import GroupResult

__all__ = [
    "DEFAULT_MIN_EVENTS",
    "judge",
    "pick_worst_group",
]

DEFAULT_MIN_EVENTS: Final = 100
"""Events an objective needs by default (sessions for drop rate; a percentile may need more)."""


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
