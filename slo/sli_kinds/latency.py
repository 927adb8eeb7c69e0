"""``latency`` and ``ttft``: a nearest-rank percentile (or avg/min/max) of the selected
samples' latency, in milliseconds, per group.

``corrected: true`` judges the response time corrected for coordinated omission
(``latency_ms + (ts - intended_ts) x 1000``, :func:`slo.sli.corrected_latency_ms`), which is
why such an objective reads ``intended_ts``. TTFT is the same SLI over ``ws_first_token``
samples by default, so it is this kind with another default sample kind.

Recovery (:mod:`slo.recovery`): an event is bad when its latency breaks the threshold; a
window holds a percentile ``p`` iff at least ``ceil(p n)`` of its ``n`` values are within
(exact for the nearest rank), and ``max`` iff none breaks it. avg/min have no per-event
meaning and take no part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from slo.judge import DEFAULT_MIN_EVENTS, judge
from slo.measurements import Measurements
from slo.samples import BoolArray, SampleColumns
from slo.sli import aggregate, corrected_latency_ms, percentiles
from slo.sli_kinds.base import Threshold, Traits, WindowTest, judged_from, required_events
from slo.sli_kinds.grouped import by_group, grouped_result
from slo.spec.model import LatencyObjective
from slo.verdict import GroupResult, ObjectiveResult

__all__ = ["LATENCY", "TTFT", "Latency"]


@dataclass(frozen=True, slots=True)
class Latency:
    """The latency kind; ``default_kind``: the sample kind it judges when ``select`` names
    none (``ws_first_token`` for TTFT; the spec already fills it in, this keeps the claims
    right for objectives built without validation)."""

    default_kind: str | None = None

    def traits(self, o: LatencyObjective) -> Traits:
        kinds = o.select.patterns("kind")
        if kinds is None and self.default_kind is not None:
            kinds = (self.default_kind,)
        return Traits(
            source="samples", sample_kinds=kinds,
            columns=("intended_ts",) if o.corrected else (), corrected=o.corrected,
            compared_as="latency", per_phase=True,
        )

    def threshold(self, o: LatencyObjective) -> Threshold:
        return Threshold.of(o.threshold_ms, o.warn_ms, "ms", o.comparison)

    def default_min_events(self, o: LatencyObjective) -> int:
        """A percentile ``p`` needs ``1 / (1 - p)`` events for one event to lie above it
        (p99.9 -> 1,000), and never fewer than 100."""
        if o.percentile is None:
            return DEFAULT_MIN_EVENTS
        tail = 1.0 - o.percentile / 100.0
        return max(DEFAULT_MIN_EVENTS, math.ceil(round(1.0 / tail, 9)))

    def evaluate(self, o: LatencyObjective, m: Measurements) -> ObjectiveResult:
        cols = m.samples
        mask = cols.select(o.select, judged_from(o, m))
        if o.ok_only:
            mask &= cols.ok
        needed = required_events(o, self.default_min_events(o))
        if cols.latency_ms is None:
            raise KeyError("latency_ms was not loaded")
        latency = cols.latency_ms
        intended = cols.intended_ts
        if o.corrected and intended is None:
            raise KeyError("intended_ts was not loaded")

        def group(key: str, gmask: BoolArray) -> GroupResult:
            values = latency[gmask]
            if o.corrected and intended is not None:
                values = corrected_latency_ms(values, cols.ts[gmask], intended[gmask])
            events = int(values.shape[0])
            value: float | None = None
            if events:
                value = (
                    float(percentiles(values, [o.percentile], overwrite=True)[0])
                    if o.percentile is not None
                    else aggregate(values, o.aggregate or "avg")
                )
            status, reason = judge(
                value, o.threshold_ms, o.comparison, o.warn_ms, events=events, needed=needed
            )
            return GroupResult(key, status, value, events, reason=reason)

        groups = by_group(o, m, mask, group)
        statistic = f"p{o.percentile:g}" if o.percentile is not None else str(o.aggregate)
        if o.corrected:
            statistic += " corrected"
        return grouped_result(o, m, groups, statistic=statistic, threshold=self.threshold(o),
                              comparison=o.comparison, needed=needed)

    def window_test(self, o: LatencyObjective, cols: SampleColumns) -> WindowTest | None:
        if cols.latency_ms is None or o.aggregate in ("avg", "min"):
            return None
        mask = cols.select(o.select)
        if o.ok_only:
            mask &= cols.ok
        lat = cols.latency_ms
        if o.corrected and cols.intended_ts is not None:
            lat = corrected_latency_ms(lat, cols.ts, cols.intended_ts)
        bad = lat >= o.threshold_ms if o.comparison == "<" else lat > o.threshold_ms
        q = o.quantile
        return WindowTest.of(o.name, cols.ts, mask, bad, share=0.0 if q is None else None,
                             rank=q, allowed=None if q is None else 1.0 - q)


LATENCY = Latency()
TTFT = Latency(default_kind="ws_first_token")
