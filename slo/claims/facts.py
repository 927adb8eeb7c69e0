"""Compute claim evidence from arrays and plain dicts: pure, vectorised, no file or clock.

Sample evidence is found by *name conventions* (documented in docs/reports.md), matched once
against the few distinct names of a run and then applied to integer codes, so a pass over
10 million samples costs a handful of array operations:

=================  ==========================================================================
``isolation: ...``  cross-tenant probe (also any name containing ``cross-tenant``); the word
                    after the prefix is the HTTP method: GET/HEAD read, others write
health checks       names whose path ends in /healthz, /readyz, /livez, /health, /ready or
                    /live (``GET /healthz``), or ``health: ...``
``recovery: ...``   a recovery measurement: ``latency_ms`` = time to answer again, ``ok`` =
                    it recovered; names with db/database/failover/postgres are the database
``durability: ...`` a read-back of an acknowledged write (also ``readback: ...``): ``ok`` =
                    the write was found intact
``provision: ...``  tenant provisioning, ``latency_ms`` = its duration
``retry: ...``      a check that no acknowledged run failed on the provider's 429s (claim 8)
=================  ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scenarios.spec.profile import spike_parts
from slo.claims.evidence import (
    CheckFacts,
    HealthFacts,
    ProbeFacts,
    RecoveryFacts,
    SampleFacts,
    ScenarioFacts,
    ServerFacts,
    SpikeFacts,
    SpikeWindow,
    TierPlan,
    TimeseriesFacts,
)
from slo.measurements import Timeseries
from slo.samples import BoolArray, SampleColumns
from slo.server import ServerRecord
from slo.sli import linear_slope, percentiles

__all__ = [
    "HOLD_S",
    "classify_name",
    "sample_facts",
    "scenario_facts",
    "server_facts",
    "timeseries_facts",
]

HOLD_S: Final = 10.0
"""Seconds a session level must be kept to count as "held" (one tick is a blip, not a hold)."""

SATURATION: Final = 0.9
"""CPU at or above this share of what the processes could use counts as saturated."""

_NONE, _ISOLATION, _HEALTH, _RECOVERY, _DURABILITY, _PROVISION, _RETRY = range(7)
_READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REFUSED: Final = (401, 403, 404)
_DB_WORDS: Final = ("db", "database", "failover", "postgres")
_HEALTH_PATH: Final = re.compile(r"/(healthz|readyz|livez|health|ready|live)(\?|\s|$)")


def classify_name(name: str) -> int:
    """Which kind of evidence a sample name is (see module docstring); 0 for ordinary load."""
    low = name.strip().lower()
    if low.startswith("isolation:") or "cross-tenant" in low or "cross_tenant" in low:
        return _ISOLATION
    if low.startswith("health:") or _HEALTH_PATH.search(low):
        return _HEALTH
    if low.startswith("recovery:"):
        return _RECOVERY
    if low.startswith(("durability:", "readback:")):
        return _DURABILITY
    if low.startswith("provision:"):
        return _PROVISION
    if low.startswith("retry:"):
        return _RETRY
    return _NONE


def _method(name: str) -> str:
    """``"isolation: POST /v1/runs"`` -> ``"POST"``; empty when no method is named."""
    rest = name.split(":", 1)[1] if ":" in name else name
    words = rest.split()
    return words[0].upper() if words else ""


def sample_facts(
    cols: SampleColumns,
    *,
    load_start: float,
    end: float | None,
    warmup_s: float,
    spike: SpikeWindow | None = None,
    fault_spans: Sequence[tuple[float, float]] = (),
) -> SampleFacts:
    """All per-sample evidence in one pass over the name codes (see module docstring).

    ``fault_spans`` (a fault's start to its recovery): health checks and isolation probes
    sent inside them are left out -- a readiness probe that goes red during a deliberate
    database outage is doing its job, and a probe answered 503 then proves nothing about
    isolation; what the fault cost is judged per fault (claim 9, verdict.json).
    """
    if cols.n == 0 or cols.name is None or cols.status is None or cols.latency_ms is None:
        return SampleFacts(total=cols.n)
    names = cols.name
    lut = np.fromiter((classify_name(c) for c in names.categories), dtype=np.int8,
                      count=len(names.categories))
    cls = lut[names.codes] if names.categories else np.zeros(cols.n, dtype=np.int8)
    end_ts = end if end is not None else float(np.max(cols.ts))
    in_load = (cols.ts >= load_start + warmup_s) & (cols.ts <= end_ts)
    calm = np.ones(cols.n, dtype=np.bool_)
    for a, b in fault_spans:
        calm &= ~((cols.ts >= a) & (cols.ts < max(b, a + 1e-9)))
    health_idx = np.flatnonzero((cls == _HEALTH) & in_load & calm)
    health = HealthFacts()
    if health_idx.size:
        lat = cols.latency_ms[health_idx]
        health = HealthFacts(int(health_idx.size), int(np.count_nonzero(cols.ok[health_idx])),
                             float(percentiles(lat, [99])[0]))
    dur_idx = np.flatnonzero(cls == _DURABILITY)
    retry_idx = np.flatnonzero(cls == _RETRY)
    prov_idx = np.flatnonzero(cls == _PROVISION)
    return SampleFacts(
        total=cols.n,
        isolation=_isolation(cols, np.flatnonzero((cls == _ISOLATION) & calm)),
        health=health,
        recovery=_recovery(cols, np.flatnonzero(cls == _RECOVERY)),
        durability=CheckFacts(int(dur_idx.size), int(np.count_nonzero(cols.ok[dur_idx]))),
        retry=CheckFacts(int(retry_idx.size), int(np.count_nonzero(cols.ok[retry_idx]))),
        provisioning_max_s=float(np.max(cols.latency_ms[prov_idx])) / 1000.0
        if prov_idx.size else None,
        provisioning_count=int(prov_idx.size),
        spike=None if spike is None else _spike(cols, spike, load_start),
        http_rps_per_tier=_tier_rates(cols, in_load, load_start + warmup_s, end_ts),
    )


def _isolation(cols: SampleColumns, idx: npt.NDArray[np.intp]) -> ProbeFacts:
    if idx.size == 0:
        return ProbeFacts()
    assert cols.status is not None and cols.name is not None
    status = cols.status[idx]
    refused = np.isin(status, _REFUSED)
    leaked = (status >= 200) & (status < 400)
    codes = cols.name.codes[idx]
    counts = np.bincount(codes, minlength=len(cols.name.categories))
    ws_kinds = _kind_is_ws(cols, idx)
    reads = writes = 0
    for code in np.flatnonzero(counts):
        method = _method(cols.name.categories[code])
        in_code = codes == code
        n_ws = int(np.count_nonzero(ws_kinds[in_code]))
        if method in _WRITE_METHODS:
            writes += int(counts[code]) - n_ws
        elif method in _READ_METHODS:
            reads += int(counts[code]) - n_ws
        reads += n_ws  # a WebSocket subscription to another tenant's session is a read
    n_refused, n_leaked = int(np.count_nonzero(refused)), int(np.count_nonzero(leaked))
    return ProbeFacts(int(idx.size), n_refused, n_leaked, int(idx.size) - n_refused - n_leaked,
                      reads, writes)


def _kind_is_ws(cols: SampleColumns, idx: npt.NDArray[np.intp]) -> BoolArray:
    if cols.kind is None:
        return np.zeros(idx.size, dtype=np.bool_)
    ws = cols.kind.matching(("ws_*",))
    return np.isin(cols.kind.codes[idx], ws)


def _recovery(cols: SampleColumns, idx: npt.NDArray[np.intp]) -> tuple[RecoveryFacts, ...]:
    if idx.size == 0:
        return ()
    assert cols.name is not None and cols.latency_ms is not None
    out: list[RecoveryFacts] = []
    codes = cols.name.codes[idx]
    for code in np.unique(codes):
        sel = idx[codes == code]
        name = cols.name.categories[code]
        component = "database" if any(w in name.lower() for w in _DB_WORDS) else "api"
        out.append(RecoveryFacts(name, component, float(np.max(cols.latency_ms[sel])) / 1000.0,
                                 bool(np.all(cols.ok[sel]))))
    return tuple(sorted(out, key=lambda r: r.name))


def _http_mask(cols: SampleColumns) -> BoolArray:
    if cols.kind is None:
        return np.ones(cols.n, dtype=np.bool_)
    return cols.kind.mask(("http",))


def _spike(cols: SampleColumns, w: SpikeWindow, load_start: float) -> SpikeFacts:
    """Traffic by *intended* send time: what the schedule asked for in and before the spike."""
    assert cols.status is not None
    http = _http_mask(cols)
    sent = cols.intended_ts if cols.intended_ts is not None else cols.ts
    rel = sent - load_start
    inside = http & (rel >= w.start_s) & (rel < w.end_s)
    before = http & (rel >= w.base_start_s) & (rel < w.start_s)
    span, base_span = w.end_s - w.start_s, w.start_s - w.base_start_s
    status = cols.status[inside]
    n_inside = int(np.count_nonzero(inside))
    return SpikeFacts(
        baseline_rps=int(np.count_nonzero(before)) / base_span if base_span > 0 else None,
        peak_rps=n_inside / span if span > 0 else None,
        requests=n_inside,
        server_errors=int(np.count_nonzero(status >= 500)),
        transport_errors=int(np.count_nonzero(status == 0)),
        shed_429=int(np.count_nonzero(status == 429)),
    )


def _tier_rates(cols: SampleColumns, in_load: BoolArray, t0: float, t1: float) -> dict[str, float]:
    if cols.tier is None or t1 <= t0:
        return {}
    mask = in_load & _http_mask(cols)
    counts = np.bincount(cols.tier.codes[mask], minlength=len(cols.tier.categories))
    return {cols.tier.categories[c]: float(counts[c]) / (t1 - t0)
            for c in np.flatnonzero(counts) if cols.tier.categories[c]}


def scenario_facts(scenario: Mapping[str, Any]) -> ScenarioFacts:
    """Planned sessions per tier and the spike window, from run.json's resolved scenario."""
    resolved = scenario.get("resolved") or {}
    ws = resolved.get("websocket") or {}
    groups = ws.get("groups") or []
    per_tier: dict[str, dict[str, int]] = {}
    for g in groups:
        tier = str(g.get("tier") or "")
        tenant = str(g.get("tenant") or g.get("name") or "")
        bucket = per_tier.setdefault(tier, {})
        bucket[tenant] = bucket.get(tenant, 0) + int(g.get("sessions") or 0)
    tiers = tuple(
        TierPlan(tier, len(t), min(t.values())) for tier, t in per_tier.items() if tier and t
    )
    planned = int(ws.get("sessions") or sum(int(g.get("sessions") or 0) for g in groups))
    load = scenario.get("load") or {}
    return ScenarioFacts(
        name=str(scenario.get("name") or ""),
        planned_sessions=planned,
        tiers=tiers,
        spike=_spike_window(scenario.get("stages") or []),
        load_model=str(load.get("model") or ""),
    )


def _spike_window(stages: list[dict[str, Any]]) -> SpikeWindow | None:
    """Where the first spike of the biggest factor lies, by the schedule's own rule
    (:func:`scenarios.spec.profile.spike_parts`)."""
    offset, best = 0.0, None
    for stage in stages:
        duration = float(stage.get("duration") or 0.0)
        if stage.get("kind") == "spike":
            side, hold, factor = spike_parts(duration, _number(stage.get("hold")),
                                             _number(stage.get("factor")))
            window = SpikeWindow(offset + side, offset + side + hold, factor, offset)
            if best is None or factor > best.factor:
                best = window
        offset += duration
    return best


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def timeseries_facts(
    ts: Timeseries,
    *,
    load_start: float,
    warmup_s: float,
    cpu_count: int | None,
    workers: int,
    hold_s: float = HOLD_S,
) -> TimeseriesFacts:
    """Sessions held, generator and host saturation, target CPU and memory slope."""
    cols = ts.columns
    rows = int(ts.t.shape[0])
    held_tiers = {
        name.removeprefix("ws_sessions_"): held
        for name in sorted(cols) if name.startswith("ws_sessions_")
        if (held := _held(cols[name], hold_s)) is not None
    }
    judged = ts.t >= load_start + warmup_s
    gen = _finite(cols.get("generator_cpu_percent"), judged)
    target = _finite(cols.get("target_cpu_percent"), judged)
    # A Python generator process can use at most one core; the harness process plus one
    # per worker, but never more cores than the machine has.
    ceiling = 100.0 * max(1, min(cpu_count or (workers + 1), workers + 1))
    host_share = None
    if cpu_count and "generator_cpu_percent" in cols and "target_cpu_percent" in cols:
        both = cols["generator_cpu_percent"] + cols["target_cpu_percent"]
        both = both[judged & np.isfinite(both)]
        if both.size:
            host_share = float(np.mean(both >= SATURATION * 100.0 * cpu_count))
    return TimeseriesFacts(
        rows=rows,
        hold_s=hold_s,
        sessions_held=_held(cols["ws_sessions"], hold_s) if "ws_sessions" in cols else None,
        sessions_held_per_tier=held_tiers,
        generator_cpu_p90=float(np.percentile(gen, 90)) if gen.size else None,
        generator_saturated_share=float(np.mean(gen >= SATURATION * ceiling)) if gen.size
        else None,
        generator_ceiling=ceiling,
        host_saturated_share=host_share,
        target_cpu_mean=float(np.mean(target)) if target.size else None,
        rss_slope_mb_min=_slope(ts, judged),
    )


def _finite(values: npt.NDArray[np.float64] | None, mask: BoolArray) -> npt.NDArray[np.float64]:
    if values is None:
        return np.empty(0, dtype=np.float64)
    picked = values[mask]
    return picked[np.isfinite(picked)]


def _held(values: npt.NDArray[np.float64], hold_s: float) -> int | None:
    """Highest level kept for ``hold_s`` consecutive 1 s rows (max of the rolling minimum);
    with fewer rows than that, the minimum of all of them."""
    if values.size == 0:
        return None
    clean = np.nan_to_num(values, nan=0.0)
    k = max(1, round(hold_s))
    if clean.size < k:
        return int(np.min(clean))
    windows = np.lib.stride_tricks.sliding_window_view(clean, k)
    return int(np.max(np.min(windows, axis=1)))


def _slope(ts: Timeseries, judged: BoolArray) -> float | None:
    rss = ts.columns.get("target_rss_bytes")
    if rss is None:
        return None
    keep = judged & np.isfinite(rss)
    if np.count_nonzero(keep) < 2:
        return None
    try:
        return linear_slope(ts.t[keep], rss[keep]) / 1e6 * 60.0
    except ValueError:
        return None


def server_facts(record: ServerRecord) -> ServerFacts:
    """Provider calls and finished runs from the reference target's counters."""
    def total(metric: str, label: str | None = None, value: str | None = None) -> float | None:
        series = [c for c in record.counters if c.name in (metric, f"{metric}_total")]
        if not series:
            return None
        return float(sum(c.delta for c in series
                         if label is None or c.labels.get(label) == value))

    return ServerFacts(
        source=record.source,
        provider_calls=total("slogate_provider_calls"),
        provider_rate_limited=total("slogate_provider_calls", "outcome", "rate_limited"),
        runs_succeeded=total("slogate_runs", "status", "succeeded"),
        runs_failed=total("slogate_runs", "status", "failed"),
    )
