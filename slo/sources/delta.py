"""Snapshots at the window's start and end -> ``server.json`` deltas (pure).

Counters and histogram buckets are differences of the two instants (end minus start), not
PromQL ``increase()``, which extrapolates to the window edges and need not be a whole
number. A series absent at the start was created during the run (prometheus_client creates
labelled series on first use), so it starts at 0. A series whose end value is below its
start value was reset (the target restarted); its delta is then the end value, and a note
says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from slo.server import CounterDelta, GaugeSummary, HistogramDelta, ServerRecord
from slo.sources.base import Labels, Snapshot, Window
from slo.spec.model import CrossCheckConfig

__all__ = ["record_from_snapshots"]


def record_from_snapshots(
    before: Snapshot,
    after: Snapshot,
    config: CrossCheckConfig,
    window: Window,
    *,
    source: str,
    url: str = "",
    gauges: Iterable[GaugeSummary] | None = None,
) -> ServerRecord:
    """Deltas of the configured counter and histograms; gauges from ``after`` unless given."""
    notes: list[str] = []
    counters = [
        c
        for name in dict.fromkeys([config.request_counter, *config.extra_counters])
        for c in _counters(before, after, name, notes)
    ]
    histograms = [
        h
        for name in dict.fromkeys([config.latency_histogram, *config.extra_histograms])
        for h in _histograms(before, after, name, notes)
    ]
    if gauges is None:
        gauges = _gauges_from_two(before, after, config.gauges)
    return ServerRecord(
        source=source,
        url=url,
        start=window.start,
        end=window.end,
        counters=counters,
        histograms=histograms,
        gauges=list(gauges),
        notes=notes,
    )


def _delta(start: float, end: float, what: str, notes: list[str]) -> float:
    if end < start:
        notes.append(f"{what} went down ({start:g} -> {end:g}): counter reset, counted from 0")
        return end
    return end - start


def _counters(before: Snapshot, after: Snapshot, name: str, notes: list[str]) -> list[CounterDelta]:
    out = []
    for (sample, labels), end in sorted(after.items()):
        if sample != name:
            continue
        start = before.get((sample, labels), 0.0)
        delta = _delta(start, end, f"{sample}{dict(labels)}", notes)
        if delta:
            out.append(CounterDelta(name=sample, labels=dict(labels), start=start, end=end,
                                    delta=delta))
    return out


def _histograms(
    before: Snapshot, after: Snapshot, name: str, notes: list[str]
) -> list[HistogramDelta]:
    buckets: dict[Labels, dict[float, float]] = defaultdict(dict)
    totals: dict[Labels, dict[str, float]] = defaultdict(dict)
    for (sample, labels), end in after.items():
        start = before.get((sample, labels), 0.0)
        if sample == f"{name}_bucket":
            rest = tuple((k, v) for k, v in labels if k != "le")
            le = float(dict(labels)["le"].replace("+Inf", "inf"))
            buckets[rest][le] = _delta(start, end, f"{sample}{dict(labels)}", notes)
        elif sample in (f"{name}_count", f"{name}_sum"):
            totals[labels][sample.rsplit("_", 1)[1]] = end - start if end >= start else end
    out = []
    for labels, by_le in sorted(buckets.items()):
        count = totals[labels].get("count", by_le.get(float("inf"), 0.0))
        if not count:
            continue  # series untouched during the run
        out.append(HistogramDelta(name=name, labels=dict(labels), buckets=sorted(by_le.items()),
                                  count=count, sum=totals[labels].get("sum", 0.0)))
    return out


def _gauges_from_two(before: Snapshot, after: Snapshot, names: list[str]) -> list[GaugeSummary]:
    out = []
    for (sample, labels), end in sorted(after.items()):
        if sample in names:
            start = before.get((sample, labels), end)
            out.append(GaugeSummary(name=sample, labels=dict(labels), min=min(start, end),
                                    max=max(start, end), last=end))
    return out
