"""Assembly shared by the SLIs measured outside the samples (server histograms, the target's
resources): one value, no groups, and a clear reason when the input is missing.

Such an objective without its input (no ``server.json``, no timeseries column) is
``insufficient_data`` with the reason, never a pass and never an error: the run may simply
not have recorded it (docs/slo.md).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from slo._types import Status
from slo.measurements import Measurements
from slo.sli_kinds.base import Threshold
from slo.spec.model import Objective
from slo.verdict import ObjectiveResult

__all__ = ["TIMESERIES_MIN_ROWS", "missing", "single_result", "timeseries_after"]

TIMESERIES_MIN_ROWS: Final = 10
"""Rows (1 s each) a timeseries objective needs by default."""

FloatArray = npt.NDArray[np.float64]


def single_result(
    o: Objective, m: Measurements, *, threshold: Threshold, comparison: str, status: Status,
    value: float | None, events: int, reason: str, statistic: str, approximate: bool = False,
) -> ObjectiveResult:
    """The objective's result from its one value."""
    return ObjectiveResult(
        name=o.name, sli=o.sli, status=status, value=value, threshold=threshold.value,
        threshold_text=threshold.text, unit=threshold.unit, events=events,
        comparison=comparison, statistic=statistic, warn_threshold=threshold.warn,
        reason=reason, optional=o.optional, approximate=approximate or m.facts.approximate,
    )


def missing(o: Objective, m: Measurements, reason: str, *, threshold: Threshold,
            comparison: str) -> ObjectiveResult:
    """``insufficient_data`` because the input is not in the run record (``reason`` says which)."""
    return single_result(o, m, threshold=threshold, comparison=comparison,
                         status=Status.INSUFFICIENT_DATA, value=None, events=0, reason=reason,
                         statistic="")


def timeseries_after(
    m: Measurements, column: str, since: float
) -> tuple[FloatArray, FloatArray] | str:
    """``(t, values)`` of ``column`` from ``since`` on, NaN rows dropped, or why there are none."""
    ts = m.timeseries
    if ts is None:
        return "the run recorded no timeseries.parquet"
    if column not in ts.columns:
        known = ", ".join(sorted(ts.columns)) or "none"
        return f"timeseries.parquet has no column {column!r} (it has: {known})"
    y = ts.columns[column]
    keep = (ts.t >= since) & ~np.isnan(y)
    return ts.t[keep], y[keep]
