"""``server_latency``: a percentile of a server-side Prometheus histogram from ``server.json``.

Bucket deltas over the run window are summed over the matching series by ``le``, then
interpolated like PromQL's ``histogram_quantile``, so the value is bucket-resolved and
always marked approximate. The run's samples play no part.
"""

from __future__ import annotations

from collections import defaultdict

from slo.judge import DEFAULT_MIN_EVENTS, judge
from slo.measurements import Measurements
from slo.samples import SampleColumns
from slo.sli import histogram_quantile
from slo.sli_kinds.base import Threshold, Traits, WindowTest, required_events
from slo.sli_kinds.single import missing, single_result
from slo.spec.model import ServerLatencyObjective
from slo.verdict import ObjectiveResult

__all__ = ["SERVER_LATENCY", "ServerLatency"]


class ServerLatency:
    """The server-histogram kind (``metric``, ``labels``, ``percentile``, ``threshold_ms``)."""

    def traits(self, o: ServerLatencyObjective) -> Traits:
        return Traits(source="server", sample_kinds=o.select.patterns("kind"), metric=o.metric)

    def threshold(self, o: ServerLatencyObjective) -> Threshold:
        return Threshold.of(o.threshold_ms, o.warn_ms, "ms", o.comparison)

    def default_min_events(self, o: ServerLatencyObjective) -> int:
        return DEFAULT_MIN_EVENTS

    def evaluate(self, o: ServerLatencyObjective, m: Measurements) -> ObjectiveResult:
        """Percentile of the histogram ``o.metric`` restricted to ``o.labels``."""
        levels = self.threshold(o)
        if m.server is None:
            return missing(o, m, "no server.json: run with --prometheus, or let slogate "
                                 "scrape the target's /metrics before and after the run",
                           threshold=levels, comparison=o.comparison)
        series = [h for h in m.server.histograms if h.matches(o.metric, o.labels)]
        if not series:
            return missing(o, m, f"server.json has no histogram {o.metric} with labels "
                                 f"{o.labels}", threshold=levels, comparison=o.comparison)
        summed: dict[float, float] = defaultdict(float)
        for h in series:
            for le, count in h.buckets:
                summed[le] += count
        bounds = sorted(summed)
        counts = [summed[b] for b in bounds]
        events = round(counts[-1]) if counts else 0
        q = histogram_quantile(o.percentile / 100.0, bounds, counts)
        value = None if q is None else q * 1000.0
        status, reason = judge(value, o.threshold_ms, o.comparison, o.warn_ms, events=events,
                               needed=required_events(o, self.default_min_events(o)))
        note = "bucket-resolved (histogram_quantile interpolation)"
        return single_result(
            o, m, threshold=levels, comparison=o.comparison, status=status, value=value,
            events=events, reason=f"{reason}; {note}" if reason else note,
            statistic=f"server p{o.percentile:g}", approximate=True,
        )

    def window_test(self, o: ServerLatencyObjective, cols: SampleColumns) -> WindowTest | None:
        return None  # a histogram delta over the whole run has no per-event meaning


SERVER_LATENCY = ServerLatency()
