"""Evidence computed from arrays, checked against independent computations (pandas, the
runner's own stage expansion, hand counts)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa
import pytest

from scenarios.spec.models import StageModel
from scenarios.spec.profile import expand_stages
from slo.claims.facts import classify_name, sample_facts, scenario_facts, server_facts, timeseries_facts
from slo.measurements import Timeseries
from slo.samples import SampleColumns
from slo.server import CounterDelta, ServerRecord


def cols(rows: list[tuple[float, str, str, int, bool, float]], tier: str = "team") -> SampleColumns:
    """rows: (t, kind, name, status, ok, latency_ms)."""
    t, kind, name, status, ok, lat = (list(c) for c in zip(*rows, strict=True))
    return SampleColumns.from_arrow(pa.table({
        "ts": pa.array(t, pa.float64()), "intended_ts": pa.array(t, pa.float64()),
        "latency_ms": pa.array(lat, pa.float64()), "kind": kind, "name": name,
        "tier": [tier] * len(t), "ok": ok, "status": pa.array(status, pa.int32()),
    }))


@pytest.mark.parametrize(("name", "expected"), [
    ("isolation: GET /v1/runs/{id}", 1), ("cross-tenant read", 1), ("GET /healthz", 2),
    ("health: lb", 2), ("GET /readyz", 2), ("recovery: api", 3), ("durability: x", 4),
    ("readback: x", 4), ("provision: tenant", 5), ("GET /v1/runs", 0), ("POST /v1/health-ish", 0),
])
def test_classify_name(name: str, expected: int) -> None:
    assert classify_name(name) == expected


def test_sample_facts_counts_by_hand() -> None:
    rows = [
        (5.0, "http", "GET /healthz", 200, True, 3.0),  # in warm-up: not counted
        *[(20.0 + i, "http", "GET /healthz", 200 if i != 3 else 503, i != 3, float(i)) for i in range(10)],
        (30.0, "check", "isolation: GET /v1/runs/{id}", 404, True, 1.0),
        (31.0, "check", "isolation: GET /v1/runs/{id}", 200, False, 1.0),  # a leak
        (32.0, "check", "isolation: DELETE /v1/agents/{id}", 403, True, 1.0),
        (33.0, "check", "isolation: POST /v1/runs", 500, False, 1.0),  # inconclusive
        (34.0, "ws_connect", "isolation: session of tenant B", 4403, True, 1.0),  # ws read
        (40.0, "check", "recovery: api-process", 200, True, 42_000.0),
        (41.0, "check", "recovery: db failover", 200, False, 250_000.0),
        (50.0, "check", "durability: run", 200, True, 1.0),
        (51.0, "check", "durability: run", 200, False, 1.0),
        (60.0, "check", "provision: t1", 201, True, 900.0),
        (61.0, "check", "provision: t2", 201, True, 1500.0),
    ]
    f = sample_facts(cols(rows), load_start=0.0, end=100.0, warmup_s=10.0)
    assert (f.health.total, f.health.ok) == (10, 9)
    assert f.health.p99_ms == 9.0  # nearest rank of 10 values: the 10th
    iso = f.isolation
    assert (iso.total, iso.refused, iso.leaked, iso.inconclusive) == (5, 2, 1, 2)
    assert (iso.reads, iso.writes) == (3, 2)  # GET x2 + the WebSocket; DELETE + POST
    assert [(r.component, r.seconds, r.ok) for r in f.recovery] == [
        ("api", 42.0, True), ("database", 250.0, False)]
    assert (f.durability.total, f.durability.ok) == (2, 1)
    assert (f.provisioning_count, f.provisioning_max_s) == (2, 1.5)


def test_spike_window_matches_the_runner_expansion() -> None:
    """The claims' spike window is where scenarios/spec/profile.py puts the peak level."""
    stages = [
        {"kind": "ramp", "duration": 10.0, "to": 20.0},
        {"kind": "steady", "duration": 20.0, "level": 20.0},
        {"kind": "spike", "duration": 45.0, "factor": 3.0, "hold": 15.0},
        {"kind": "steady", "duration": 10.0, "level": 20.0},
    ]
    window = scenario_facts({"stages": stages}).spike
    steps = expand_stages([StageModel.model_validate(s) for s in stages], default_level=None,
                          duration_s=None)
    t, peak = 0.0, None
    for step in steps:
        if step.level == 60.0:
            peak = (t, t + step.duration_s)
        t += step.duration_s
    assert window is not None and peak is not None
    assert (window.start_s, window.end_s) == pytest.approx(peak)
    assert window.factor == 3.0


def test_spike_facts_rates_and_errors() -> None:
    rows = [(40.0 + i / 20, "http", "GET /x", 200, True, 5.0) for i in range(300)]  # 20/s
    rows += [(55.0 + i / 60, "http", "GET /x", 503 if i % 100 == 0 else 429 if i % 50 == 0
              else 0 if i == 7 else 200, i % 50 != 0 and i != 7, 5.0) for i in range(900)]
    facts = scenario_facts({"stages": [{"kind": "steady", "duration": 40.0, "level": 20.0},
                                       {"kind": "spike", "duration": 45.0, "hold": 15.0}]})
    f = sample_facts(cols(rows), load_start=0.0, end=100.0, warmup_s=0.0, spike=facts.spike)
    assert f.spike is not None
    assert f.spike.baseline_rps == pytest.approx(20.0)
    assert f.spike.peak_rps == pytest.approx(60.0)
    assert (f.spike.server_errors, f.spike.shed_429, f.spike.transport_errors) == (9, 9, 1)


def test_sessions_held_is_the_sustained_level() -> None:
    """Max over time of the rolling 10 s minimum, cross-checked with pandas."""
    level = np.concatenate([np.linspace(0, 1000, 20), np.full(40, 1020.0), [1100.0] * 5,
                            np.full(30, 990.0)])
    level[[25, 34, 43, 52, 59]] = np.nan  # missing ticks count as nothing held
    ts = Timeseries(np.arange(level.size, dtype=float), {"ws_sessions": level,
                                                         "ws_sessions_team": level / 10})
    f = timeseries_facts(ts, load_start=0.0, warmup_s=0.0, cpu_count=2, workers=1)
    expected = pd.Series(np.nan_to_num(level)).rolling(10).min().max()
    # the gaps break the 1020 plateau into runs under 10 s; the 1100 blip lasts 5 s
    assert f.sessions_held == int(expected) == 990
    assert f.sessions_held_per_tier == {"team": int(pd.Series(np.nan_to_num(level / 10))
                                                    .rolling(10).min().max())}


def test_generator_saturation_shares() -> None:
    n = 100
    i = np.arange(n)
    gen = np.where(i < 30, 195.0, np.where(i < 60, 100.0, 50.0))  # 30 % at >= 90 % of 200
    target = np.where((i >= 30) & (i < 40), 85.0, 20.0)  # with gen: >= 180 % for 40 % of it
    ts = Timeseries(np.arange(n, dtype=float), {"generator_cpu_percent": gen,
                                                "target_cpu_percent": target})
    f = timeseries_facts(ts, load_start=0.0, warmup_s=0.0, cpu_count=2, workers=3)
    assert f.generator_ceiling == 200.0  # 4 processes, but only 2 cores
    assert f.generator_saturated_share == pytest.approx(0.30)
    assert f.host_saturated_share == pytest.approx(0.40)
    assert f.generator_cpu_p90 == pytest.approx(np.percentile(gen, 90))


def test_rss_slope_in_mb_per_minute() -> None:
    t = np.arange(0, 600, dtype=float)
    rss = 300e6 + t * 50_000 + np.where(t < 60, -1e8, 0)  # warm-up dip excluded
    ts = Timeseries(1e9 + t, {"target_rss_bytes": rss})
    f = timeseries_facts(ts, load_start=1e9, warmup_s=60.0, cpu_count=2, workers=1)
    assert f.rss_slope_mb_min == pytest.approx(3.0)  # 50 kB/s = 3 MB/min
    fit = np.polyfit(t[60:], rss[60:], 1)[0] / 1e6 * 60
    assert f.rss_slope_mb_min == pytest.approx(fit)


def test_server_facts_sum_labels() -> None:
    def c(name: str, delta: float, **labels: str) -> CounterDelta:
        return CounterDelta(name=name, labels=labels, start=0, end=delta, delta=delta)

    record = ServerRecord(source="scrape", start=0, end=1, counters=[
        c("slogate_provider_calls_total", 90, outcome="ok"),
        c("slogate_provider_calls_total", 7, outcome="rate_limited"),
        c("slogate_runs_total", 40, tier="team", status="succeeded"),
        c("slogate_runs_total", 2, tier="starter", status="succeeded"),
        c("slogate_runs_total", 1, tier="team", status="failed"),
    ])
    f = server_facts(record)
    assert (f.provider_calls, f.provider_rate_limited) == (97, 7)
    assert (f.runs_succeeded, f.runs_failed) == (42, 1)
    empty = server_facts(ServerRecord(source="scrape", start=0, end=1))
    assert empty.provider_rate_limited is None and empty.runs_failed is None


def test_scenario_facts_per_tier_plan() -> None:
    groups = [{"tier": "team", "tenant": "a", "sessions": 50}, {"tier": "team", "tenant": "b",
                                                                   "sessions": 40},
              {"tier": "starter", "tenant": "c", "sessions": 10}]
    f = scenario_facts({"resolved": {"websocket": {"sessions": 100, "groups": groups}}})
    plans = {p.tier: (p.tenants, p.sessions_per_tenant) for p in f.tiers}
    assert plans == {"team": (2, 40), "starter": (1, 10)}  # the least any tenant got
    assert f.planned_sessions == 100


@pytest.mark.parametrize(
    "stages",
    [
        [{"kind": "steady", "duration": 30.0, "level": 10.0},
         {"kind": "spike", "duration": 60.0, "level": 10.0, "factor": 4.0, "hold": 12.0}],
        [{"kind": "ramp", "duration": 20.0, "to": 5.0},
         {"kind": "spike", "duration": 45.0, "level": None, "factor": None, "hold": None}],
    ],
)
def test_the_claims_find_the_spike_where_the_schedule_puts_it(stages: list[dict[str, Any]]) -> None:
    window = scenario_facts({"stages": stages}).spike
    assert window is not None
    models = [StageModel.model_validate({k: v for k, v in s.items() if v is not None}) for s in stages]
    steps = expand_stages(models, default_level=None, duration_s=None)
    starts = np.cumsum([0.0] + [s.duration_s for s in steps])
    peak = max(range(len(steps)), key=lambda i: steps[i].level)
    assert (window.start_s, window.end_s) == pytest.approx((starts[peak], starts[peak + 1]))
    assert window.factor == pytest.approx(steps[peak].level / steps[peak - 1].level)
