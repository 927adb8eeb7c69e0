"""SLIs measured outside the samples: server-side histograms and the target's resources.

- ``server_latency``: a percentile of a Prometheus histogram from ``server.json`` (bucket
  deltas over the run window, summed over matching series by ``le``, then PromQL's
  ``histogram_quantile`` interpolation). Bucket-resolved, so always marked approximate.
- ``memory_slope``: least-squares slope of memory (``target_rss_bytes`` by default) after warm-up,
  in MB (10^6 bytes) per minute. A leak shows as a steady positive slope; noise around a
  plateau does not. In a run with faults, only the quiet tail counts: from
  :data:`SETTLE_S` after the last fault was over (a killed process comes back small and
  grows again; that is a restart, not a leak).
- ``cpu``: mean CPU % after warm-up, judged against a range (headroom, and proof the
  target was actually loaded).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from slo._types import Status
from slo.judge import judge, min_events, threshold_text
from slo.measurements import Measurements
from slo.sli import histogram_quantile, linear_slope
from slo.spec.model import CpuObjective, MemorySlopeObjective, Objective, ServerLatencyObjective
from slo.verdict import ObjectiveResult

__all__ = ["evaluate_cpu", "evaluate_memory_slope", "evaluate_server_latency"]

_MB = 1e6
SETTLE_S = 30.0
"""Seconds after the last fault before memory is judged again (a restarted process warms up)."""


def evaluate_server_latency(o: ServerLatencyObjective, m: Measurements) -> ObjectiveResult:
    """Percentile of the server histogram ``o.metric`` restricted to ``o.labels``."""
    if m.server is None:
        return _missing(o, m, "no server.json: run with --prometheus, or let slogate scrape "
                              "the target's /metrics before and after the run")
    series = [h for h in m.server.histograms if h.matches(o.metric, o.labels)]
    if not series:
        return _missing(o, m, f"server.json has no histogram {o.metric} with labels {o.labels}")
    summed: dict[float, float] = defaultdict(float)
    for h in series:
        for le, count in h.buckets:
            summed[le] += count
    bounds = sorted(summed)
    counts = [summed[b] for b in bounds]
    events = round(counts[-1]) if counts else 0
    q = histogram_quantile(o.percentile / 100.0, bounds, counts)
    value = None if q is None else q * 1000.0
    status, reason = judge(
        value, o.threshold_ms, o.comparison, o.warn_ms, events=events, needed=min_events(o)
    )
    note = "bucket-resolved (histogram_quantile interpolation)"
    return _result(o, m, status, value, events, f"{reason}; {note}" if reason else note,
                   f"server p{o.percentile:g}", approximate=True)


def evaluate_memory_slope(o: MemorySlopeObjective, m: Measurements) -> ObjectiveResult:
    """Slope of ``o.column`` after warm-up, MB per minute."""
    picked = _timeseries(o, m, o.column)
    if isinstance(picked, str):
        return _missing(o, m, picked)
    t, y = picked
    needed = min_events(o)
    value = None
    if t.shape[0] >= max(2, needed) and np.ptp(t) > 0:
        value = linear_slope(t, y) * 60.0 / _MB
    status, reason = judge(
        value, o.threshold_mb_per_min, o.comparison, o.warn_mb_per_min,
        events=int(t.shape[0]), needed=needed,
    )
    return _result(o, m, status, value, int(t.shape[0]), reason, "slope")


def evaluate_cpu(o: CpuObjective, m: Measurements) -> ObjectiveResult:
    """Mean of ``o.column`` after warm-up, within ``[min_percent, max_percent]``."""
    picked = _timeseries(o, m, o.column)
    if isinstance(picked, str):
        return _missing(o, m, picked)
    _, y = picked
    rows = int(y.shape[0])
    needed = min_events(o)
    value = float(np.mean(y)) if rows else None
    status, reason = judge(value, o.max_percent, "<=", events=rows, needed=needed)
    if status is Status.PASS and value is not None and value < o.min_percent:
        status = Status.FAIL
        reason = f"mean CPU {value:.1f} % is below {o.min_percent:g} %: the load did not " \
                 "exercise the target, so the headroom claim is not tested"
    elif status is Status.FAIL:
        reason = f"mean CPU above {o.max_percent:g} %: not enough headroom"
    return _result(o, m, status, value, rows, reason, "mean")


def _timeseries(
    o: Objective, m: Measurements, column: str
) -> tuple[np.ndarray, np.ndarray] | str:
    """``(t, values)`` after warm-up with NaN rows dropped, or why there are none."""
    ts = m.timeseries
    if ts is None:
        return "the run recorded no timeseries.parquet"
    if column not in ts.columns:
        known = ", ".join(sorted(ts.columns)) or "none"
        return f"timeseries.parquet has no column {column!r} (it has: {known})"
    warmup = o.warmup_s if o.warmup_s is not None else m.facts.warmup_s
    since = m.facts.started_at + warmup
    quiet = m.quiet_since
    if isinstance(o, MemorySlopeObjective) and quiet is not None:
        since = max(since, quiet + SETTLE_S)
    y = ts.columns[column]
    keep = (ts.t >= since) & ~np.isnan(y)
    return ts.t[keep], y[keep]


def _missing(o: Objective, m: Measurements, reason: str) -> ObjectiveResult:
    return _result(o, m, Status.INSUFFICIENT_DATA, None, 0, reason, "")


def _result(
    o: Objective, m: Measurements, status: Status, value: float | None, events: int,
    reason: str, statistic: str, *, approximate: bool = False,
) -> ObjectiveResult:
    threshold, warn, unit, text = threshold_text(o)
    return ObjectiveResult(
        name=o.name, sli=o.sli, status=status, value=value, threshold=threshold,
        threshold_text=text, unit=unit, events=events,
        comparison=getattr(o, "comparison", "range"), statistic=statistic,
        warn_threshold=warn, reason=reason, optional=o.optional,
        approximate=approximate or m.facts.approximate,
    )
