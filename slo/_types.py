"""Shared small types of the ``slo`` room: statuses, comparisons, group keys.

Kept in one module (httpx ``_types.py`` habit) so that specs, SLIs and verdicts agree on
spelling without importing each other.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from typing import Final, Literal

__all__ = [
    "COMPARATORS",
    "Comparison",
    "GroupBy",
    "Status",
    "worst",
]

Comparison = Literal["<", "<=", ">", ">="]
"""How a measured value must relate to its threshold for the objective to hold."""

GroupBy = Literal["tier", "tenant", "name", "kind"]
"""Sample columns an objective may be evaluated ``per``."""

COMPARATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Status(enum.StrEnum):
    """Outcome of one objective, one group, or the whole verdict.

    ``insufficient_data`` is never a pass: an objective without enough evidence is
    "not verified" (DESIGN.md, readiness claims).
    """

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INSUFFICIENT_DATA = "insufficient_data"


# Severity for combining statuses: a failure outranks missing evidence, which outranks a
# warning (a warning is still a judgement made on enough data; missing data is not).
_SEVERITY: Final[dict[Status, int]] = {
    Status.PASS: 0,
    Status.WARN: 1,
    Status.INSUFFICIENT_DATA: 2,
    Status.FAIL: 3,
}


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The most severe status (fail > insufficient_data > warn > pass); pass when empty.

    >>> worst([Status.PASS, Status.WARN])
    <Status.WARN: 'warn'>
    """
    if not statuses:
        return Status.PASS
    return max(statuses, key=_SEVERITY.__getitem__)
