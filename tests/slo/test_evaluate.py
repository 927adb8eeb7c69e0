"""The pure core: ``evaluate(objectives, measurements)`` over edge cases, checked with numpy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from slo._types import Status
from slo.evaluate import evaluate
from slo.measurements import Measurements, RunFacts, Timeseries
from slo.samples import SampleColumns
from slo.server import HistogramDelta, ServerRecord
from slo.spec import parse_slo
from tests.slo.conftest import T0, samples_table


def measure(table: pa.Table, *, warmup: float = 0.0, duration: float = 60.0,
            **kwargs: Any) -> Measurements:
    facts = RunFacts("r", started_at=T0, ended_at=T0 + duration, warmup_s=warmup)
    return Measurements(facts, SampleColumns.from_arrow(table), **kwargs)


def one(yaml_objective: str, m: Measurements) -> Any:
    spec = parse_slo("objectives:\n  - " + yaml_objective + "\n")
    return evaluate(spec.objectives, m).objectives[0]


RNG = np.random.default_rng(42)
LAT = RNG.lognormal(4, 0.7, 5000)  # ms; p95 about 170 ms
OK_MASK = RNG.random(5000) > 0.003


EDGE_CASES = [
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 500}",
        dict(n=99), Status.INSUFFICIENT_DATA, id="not_enough_events",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 500}",
        dict(n=100), Status.PASS, id="exactly_min_events",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 99.9, threshold_ms: 500}",
        dict(n=999), Status.INSUFFICIENT_DATA, id="p99.9_needs_1000_events",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 500, min_events: 5}",
        dict(n=5), Status.PASS, id="min_events_override",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 500}",
        dict(n=0), Status.INSUFFICIENT_DATA, id="no_events_at_all",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 500, select: {kind: ws_message}}",
        dict(n=1000), Status.INSUFFICIENT_DATA, id="selection_matches_nothing",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 10}",
        dict(n=1000), Status.FAIL, id="breach",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 10, comparison: '<'}",
        dict(n=1000, latency=10.0), Status.FAIL, id="strict_comparison_on_the_edge",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 10}",
        dict(n=1000, latency=10.0), Status.PASS, id="inclusive_comparison_on_the_edge",
    ),
    pytest.param(
        "{name: o, sli: latency, percentile: 95, threshold_ms: 20, warn_ms: 5}",
        dict(n=1000), Status.WARN, id="warn_level",
    ),
    pytest.param(
        "{name: o, sli: availability, target: 99.9}",
        dict(n=1000, bad=1), Status.PASS, id="availability_at_target",
    ),
    pytest.param(
        "{name: o, sli: availability, target: 99.9}",
        dict(n=1000, bad=2), Status.FAIL, id="availability_below_target",
    ),
    pytest.param(
        "{name: o, sli: availability, target: 99, warn_target: 99.9}",
        dict(n=1000, bad=5), Status.WARN, id="availability_warn",
    ),
    pytest.param(
        "{name: o, sli: error_rate, threshold_percent: 1}",
        dict(n=1000, bad=11), Status.FAIL, id="error_rate_breach",
    ),
    pytest.param(
        "{name: o, sli: availability, target: 99.9, optional: true}",
        dict(n=10), Status.INSUFFICIENT_DATA, id="optional_still_reports_no_data",
    ),
]


@pytest.mark.parametrize(("objective", "data", "status"), EDGE_CASES)
def test_edge_cases(objective: str, data: dict[str, Any], status: Status) -> None:
    n = data["n"]
    ok = np.ones(n, dtype=bool)
    ok[: data.get("bad", 0)] = False
    latency = np.full(n, data["latency"]) if "latency" in data else np.full(n, 10.0) + np.arange(n) % 7
    result = one(objective, measure(samples_table(n, latency_ms=latency, ok=ok)))
    assert result.status is status, result
    if status is Status.INSUFFICIENT_DATA:
        assert "needed" in result.reason


def test_latency_value_is_numpy_nearest_rank_over_selection_only() -> None:
    kinds = np.where(np.arange(5000) % 5 == 0, "ws_message", "http")
    m = measure(samples_table(5000, latency_ms=LAT, kind=list(kinds)))
    r = one("{name: o, sli: latency, percentile: 95, threshold_ms: 500, select: {kind: http}}", m)
    http = LAT[kinds == "http"]
    assert r.events == http.size
    assert r.value == np.sort(http)[math.ceil(0.95 * http.size) - 1]
    assert r.value == np.quantile(http, 0.95, method="inverted_cdf")


def test_avg_and_ok_only() -> None:
    m = measure(samples_table(5000, latency_ms=LAT, ok=OK_MASK))
    r = one("{name: o, sli: latency, aggregate: avg, threshold_ms: 500, ok_only: true}", m)
    assert r.value == pytest.approx(np.mean(LAT[OK_MASK]))
    assert r.events == int(OK_MASK.sum())


def test_warmup_is_excluded() -> None:
    ts = T0 + np.linspace(0, 60, 5000, endpoint=False)
    latency = np.where(ts < T0 + 10, 5000.0, 10.0)  # slow start-up phase
    m = measure(samples_table(5000, ts=ts, latency_ms=latency), warmup=10.0)
    r = one("{name: o, sli: latency, percentile: 99, threshold_ms: 100}", m)
    assert r.status is Status.PASS and r.value == 10.0
    assert r.events == int(np.sum(ts >= T0 + 10))
    r = one("{name: o, sli: latency, percentile: 99, threshold_ms: 100, warmup: 0s}", m)
    assert r.status is Status.FAIL


def test_corrected_latency_reveals_coordinated_omission() -> None:
    """Requests queued behind a stall: raw latency looks fine, corrected does not."""
    n = 2000
    intended = T0 + np.arange(n) * 0.01
    ts = intended.copy()
    ts[100:300] = intended[300]  # 200 requests sent late, all at once, after a 2 s stall
    m = measure(samples_table(n, ts=ts, intended_ts=intended, latency_ms=np.full(n, 3.0)))
    raw = one("{name: o, sli: latency, percentile: 95, threshold_ms: 100}", m)
    fixed = one("{name: o, sli: latency, percentile: 95, threshold_ms: 100, corrected: true}", m)
    delays = 3.0 + (ts - intended) * 1000
    assert raw.value == 3.0 and raw.status is Status.PASS
    assert fixed.value == pytest.approx(np.quantile(delays, 0.95, method="inverted_cdf"))
    assert fixed.status is Status.FAIL and fixed.statistic == "p95 corrected"


def test_per_tier_reports_each_group_and_the_worst_decides() -> None:
    n = 3000
    tiers = np.array(["starter", "team", "enterprise"])[np.arange(n) % 3]
    latency = np.where(tiers == "starter", 900.0, 100.0)
    m = measure(samples_table(n, tier=list(tiers), latency_ms=latency))
    r = one("{name: o, sli: latency, percentile: 95, threshold_ms: 500, per: tier}", m)
    groups = {g.key: g for g in r.groups}
    assert set(groups) == {"starter", "team", "enterprise"}
    assert groups["starter"].status is Status.FAIL and groups["team"].status is Status.PASS
    assert (r.status, r.worst_group, r.value, r.events) == (Status.FAIL, "starter", 900.0, n)
    assert r.per == "tier"


def test_per_group_with_too_few_events_is_not_a_pass() -> None:
    tiers = ["team"] * 500 + ["starter"] * 20
    m = measure(samples_table(520, tier=tiers))
    r = one("{name: o, sli: latency, percentile: 95, threshold_ms: 500, per: tier}", m)
    assert r.status is Status.INSUFFICIENT_DATA
    assert r.worst_group == "starter" and r.reason.startswith("tier=starter:")


def test_name_glob_selection() -> None:
    names = ["GET /v1/runs/1", "GET /v1/agents", "POST /v1/runs"] * 400
    latency = np.array([100.0, 900.0, 100.0] * 400)
    m = measure(samples_table(1200, name=names, latency_ms=latency))
    r = one("{name: o, sli: latency, percentile: 99, threshold_ms: 500,"
            " select: {name: ['GET /v1/runs*', 'POST *']}}", m)
    assert (r.events, r.value) == (800, 100.0)


def test_availability_budget_and_burn_numbers() -> None:
    """0.3 % errors at a 99.9 % target over a 60 s run: 3x burn; budget share 3 * 60 / 30 d."""
    n = 10_000
    ok = np.ones(n, dtype=bool)
    ok[np.linspace(0, n - 1, 30).astype(int)] = False  # 30 errors spread evenly
    m = measure(samples_table(n, ok=ok), duration=60.0)
    r = one("{name: o, sli: availability, target: 99.9, window: 30d}", m)
    assert r.value == pytest.approx(99.7)
    assert r.burn_rate == pytest.approx(3.0)
    assert r.budget_consumed == pytest.approx(3.0 * 60 / (30 * 86400))
    assert r.budget.allowed_bad == pytest.approx(10.0) and r.budget.consumed == pytest.approx(3.0)
    assert r.status is Status.FAIL
    assert {a.name for a in r.alerts} == {"page-1h", "page-6h", "ticket-3d"}
    assert all(a.scale == pytest.approx(60 / 3600) for a in r.alerts)


def test_ws_drop_rate_counts_closes_per_opened_session() -> None:
    kinds = ["ws_connect"] * 1000 + ["ws_close"] * 7 + ["ws_message"] * 500
    ok = np.array([True] * 990 + [False] * 10 + [False] * 7 + [True] * 500)
    m = measure(samples_table(len(kinds), kind=kinds, ok=ok))
    r = one("{name: o, sli: ws_drop_rate, threshold_percent: 0.5}", m)
    assert r.events == 990  # failed handshakes are not sessions
    assert r.value == pytest.approx(100 * 7 / 990)
    assert r.status is Status.FAIL
    assert r.burn_rate == pytest.approx((7 / 990) / 0.005)


def test_ttft_selects_first_token_samples() -> None:
    kinds = ["ws_first_token"] * 200 + ["http"] * 800
    latency = np.array([50.0] * 200 + [5000.0] * 800)
    m = measure(samples_table(1000, kind=kinds, latency_ms=latency))
    r = one("{name: o, sli: ttft, percentile: 95, threshold_ms: 100}", m)
    assert (r.events, r.value, r.status) == (200, 50.0, Status.PASS)


def test_server_latency_from_server_json_histogram() -> None:
    inf = float("inf")
    server = ServerRecord(
        source="fake", start=T0, end=T0 + 60,
        histograms=[
            HistogramDelta(name="slogate_db_query_duration_seconds", labels={"operation": "a"},
                           buckets=[(0.01, 50), (0.05, 90), (0.1, 100), (inf, 100)],
                           count=100, sum=2.0),
            HistogramDelta(name="slogate_db_query_duration_seconds", labels={"operation": "b"},
                           buckets=[(0.01, 0), (0.05, 80), (0.1, 100), (inf, 100)],
                           count=100, sum=6.0),
        ],
    )
    m = measure(samples_table(10), server=server)
    r = one("{name: db, sli: server_latency, percentile: 95, threshold_ms: 100}", m)
    # summed by le: [50, 170, 200, 200]; rank 190 lies in (0.05, 0.1]: 0.05 + 0.05 * 20/30
    assert r.value == pytest.approx((0.05 + 0.05 * 20 / 30) * 1000)
    assert (r.events, r.status, r.approximate) == (200, Status.PASS, True)
    r = one("{name: db, sli: server_latency, percentile: 95, threshold_ms: 100,"
            " labels: {operation: a}}", m)
    assert r.value == pytest.approx((0.05 + 0.05 * 5 / 10) * 1000)
    missing = one("{name: db, sli: server_latency, threshold_ms: 100}", measure(samples_table(1)))
    assert missing.status is Status.INSUFFICIENT_DATA and "server.json" in missing.reason


def _series(t: np.ndarray, **cols: np.ndarray) -> Timeseries:
    return Timeseries(t, cols)


def test_memory_slope_after_warmup() -> None:
    t = T0 + np.arange(600, dtype=np.float64)
    rss = 300e6 + np.where(t < T0 + 60, (t - T0) * 2e6, 120e6)  # warm-up growth, then flat
    rss = rss + np.random.default_rng(1).normal(0, 1e5, t.size)
    leaky = rss + (t - T0) * 50_000  # 3 MB per minute
    m = measure(samples_table(1), warmup=60, duration=600,
                timeseries=_series(t, target_rss_bytes=rss, leaky=leaky))
    flat = one("{name: m, sli: memory_slope, threshold_mb_per_min: 1}", m)
    assert abs(flat.value) < 0.05 and flat.status is Status.PASS
    assert flat.events == 540
    leak = one("{name: m, sli: memory_slope, column: leaky, threshold_mb_per_min: 1}", m)
    after = t >= T0 + 60
    expected = np.polyfit(t[after], leaky[after], 1)[0] * 60 / 1e6
    assert leak.value == pytest.approx(expected) and leak.value == pytest.approx(3.0, rel=0.01)
    assert leak.status is Status.FAIL


CPU_CASES = [
    pytest.param(52.0, Status.PASS, id="in_range"),
    pytest.param(75.0, Status.FAIL, id="no_headroom"),
    pytest.param(12.0, Status.FAIL, id="target_not_loaded"),
]


@pytest.mark.parametrize(("level", "status"), CPU_CASES)
def test_cpu_headroom_range(level: float, status: Status) -> None:
    t = T0 + np.arange(120, dtype=np.float64)
    cpu = level + np.sin(np.arange(120))
    m = measure(samples_table(1), timeseries=_series(t, target_cpu_percent=cpu))
    r = one("{name: c, sli: cpu, min_percent: 45, max_percent: 60}", m)
    assert r.value == pytest.approx(np.mean(cpu)) and r.status is status
    assert r.threshold_text == "45..60 %"


def test_missing_timeseries_column_says_what_exists() -> None:
    t = T0 + np.arange(30, dtype=np.float64)
    m = measure(samples_table(1), timeseries=_series(t, cpu=np.ones(30)))
    r = one("{name: c, sli: cpu, max_percent: 60}", m)
    assert r.status is Status.INSUFFICIENT_DATA and "(it has: cpu)" in r.reason


def test_overall_status_ignores_optional_objectives_without_data() -> None:
    spec = parse_slo("""\
objectives:
  - {name: a, sli: latency, percentile: 50, threshold_ms: 500}
  - {name: b, sli: cpu, max_percent: 60, optional: true}
""")
    verdict = evaluate(spec.objectives, measure(samples_table(500)))
    assert [o.status for o in verdict.objectives] == [Status.PASS, Status.INSUFFICIENT_DATA]
    assert verdict.status is Status.PASS
    spec = parse_slo("objectives:\n  - {name: b, sli: cpu, max_percent: 60}\n")
    assert evaluate(spec.objectives, measure(samples_table(500))).status is (
        Status.INSUFFICIENT_DATA
    )
