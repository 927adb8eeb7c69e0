"""Number and status formatting shared by the HTML, Markdown and JUnit renderers.

One place, so a latency reads the same in a PR comment, a CI test name and the HTML page.
Every function is total: ``None`` (the record cannot say) renders as ``-``, never ``0``.
"""

from __future__ import annotations

import math
from typing import Final

from slo._types import Status
from slo.claims import ClaimStatus
from slo.verdict import ObjectiveResult

__all__ = [
    "CLAIM_ICON",
    "STATUS_ICON",
    "claim_label",
    "count",
    "duration",
    "ms",
    "objective_value",
    "percent",
    "rate",
    "status_label",
]

DASH: Final = "-"

STATUS_ICON: Final[dict[str, str]] = {
    "pass": "✅", "warn": "⚠️", "fail": "❌", "insufficient_data": "❔",
}
CLAIM_ICON: Final[dict[str, str]] = {"passed": "✅", "failed": "❌", "not_verified": "❔"}


def _bad(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def ms(value: float | None) -> str:
    """``0.42 ms``, ``12.3 ms``, ``812 ms``, ``12,400 ms``."""
    if _bad(value):
        return DASH
    assert value is not None
    if value < 10:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


def percent(value: float | None, digits: int = 2) -> str:
    if _bad(value):
        return DASH
    return f"{value:.{digits}f} %"


def count(value: float | None) -> str:
    if _bad(value):
        return DASH
    return f"{value:,.0f}"


def rate(value: float | None) -> str:
    """Operations per second: ``0.25/s``, ``12.4/s``, ``1,204/s``."""
    if _bad(value):
        return DASH
    assert value is not None
    if value < 1:
        return f"{value:.2f}/s"
    if value < 100:
        return f"{value:.1f}/s"
    return f"{value:,.0f}/s"


def duration(seconds: float | None) -> str:
    """``45 s``, ``2 min 05 s``, ``1 h 02 min``, ``30 d``."""
    if _bad(seconds):
        return DASH
    assert seconds is not None
    s = round(seconds)
    if s < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 2 * 86400:
        return f"{s // 3600} h {(s % 3600) // 60:02d} min"
    days, hours = divmod(round(s / 3600), 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def objective_value(o: ObjectiveResult) -> str:
    """The value of an objective in its unit (worst group for ``per`` objectives)."""
    if o.value is None:
        return DASH
    if o.unit == "ms":
        return ms(o.value)
    if o.unit == "%":
        return percent(o.value, 3)
    return f"{o.value:,.3g} {o.unit}".strip()


def status_label(status: Status | ClaimStatus | str) -> str:
    """``PASS``, ``INSUFFICIENT DATA``, ``NOT VERIFIED`` ..."""
    value = status.value if isinstance(status, Status | ClaimStatus) else status
    return value.replace("_", " ").upper()


def claim_label(status: ClaimStatus) -> str:
    return f"{CLAIM_ICON[status.value]} {status.value.replace('_', ' ')}"
