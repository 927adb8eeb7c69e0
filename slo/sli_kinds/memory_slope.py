"""``memory_slope``: least-squares slope of the target's memory after warm-up, in MB
(10^6 bytes) per minute -- the leak check of readiness claim 3.

A leak shows as a steady positive slope; noise around a plateau does not. In a run with
faults only the quiet tail counts: from :data:`SETTLE_S` after the last fault was over (a
killed process comes back small and grows again; that is a restart, not a leak).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from slo.judge import judge
from slo.measurements import Measurements
from slo.samples import SampleColumns
from slo.sli import linear_slope
from slo.sli_kinds.base import Threshold, Traits, WindowTest, judged_from, required_events
from slo.sli_kinds.single import TIMESERIES_MIN_ROWS, missing, single_result, timeseries_after
from slo.spec.model import MemorySlopeObjective
from slo.verdict import ObjectiveResult

__all__ = ["MEMORY_SLOPE", "SETTLE_S", "MemorySlope"]

_MB: Final = 1e6
SETTLE_S: Final = 30.0
"""Seconds after the last fault before memory is judged again (a restarted process warms up)."""


class MemorySlope:
    """The leak-check kind (``column``, ``threshold_mb_per_min``, ``warn_mb_per_min``)."""

    def traits(self, o: MemorySlopeObjective) -> Traits:
        return Traits(source="timeseries", sample_kinds=o.select.patterns("kind"))

    def threshold(self, o: MemorySlopeObjective) -> Threshold:
        return Threshold.of(o.threshold_mb_per_min, o.warn_mb_per_min, "MB/min", o.comparison)

    def default_min_events(self, o: MemorySlopeObjective) -> int:
        return TIMESERIES_MIN_ROWS

    def evaluate(self, o: MemorySlopeObjective, m: Measurements) -> ObjectiveResult:
        """Slope of ``o.column`` after warm-up (and after the faults settled), MB per minute."""
        since = judged_from(o, m)
        quiet = m.quiet_since
        if quiet is not None:
            since = max(since, quiet + SETTLE_S)
        picked = timeseries_after(m, o.column, since)
        levels = self.threshold(o)
        if isinstance(picked, str):
            return missing(o, m, picked, threshold=levels, comparison=o.comparison)
        t, y = picked
        needed = required_events(o, self.default_min_events(o))
        value = None
        if t.shape[0] >= max(2, needed) and np.ptp(t) > 0:
            value = linear_slope(t, y) * 60.0 / _MB
        status, reason = judge(value, o.threshold_mb_per_min, o.comparison, o.warn_mb_per_min,
                               events=int(t.shape[0]), needed=needed)
        return single_result(o, m, threshold=levels, comparison=o.comparison, status=status,
                             value=value, events=int(t.shape[0]), reason=reason,
                             statistic="slope")

    def window_test(self, o: MemorySlopeObjective, cols: SampleColumns) -> WindowTest | None:
        return None  # a slope over the run has no per-event meaning


MEMORY_SLOPE = MemorySlope()
