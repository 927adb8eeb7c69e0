# ruff: noqa: E501  (golden table and exposition text are kept verbatim)
"""Cross-check sources: exposition parsing, deltas, reconciliation (unit, with the fake)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from slo.samples import SampleColumns
from slo.server import read_server_record
from slo.sources import (
    FakeSource,
    Snapshot,
    Window,
    operation_key,
    parse_exposition,
    reconcile,
    series_key,
)
from slo.spec import CrossCheckConfig
from tests.slo.conftest import T0, samples_table

EXPOSITION_BEFORE = """\
# HELP slogate_http_requests_total HTTP requests handled
# TYPE slogate_http_requests_total counter
slogate_http_requests_total{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1"} 5.0
slogate_http_requests_total{route="/metrics",method="GET",status="200",tier="-",tenant="-"} 40.0
# HELP slogate_http_request_duration_seconds latency
# TYPE slogate_http_request_duration_seconds histogram
slogate_http_request_duration_seconds_bucket{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1",le="0.01"} 5.0
slogate_http_request_duration_seconds_bucket{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1",le="0.1"} 5.0
slogate_http_request_duration_seconds_bucket{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1",le="+Inf"} 5.0
slogate_http_request_duration_seconds_count{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1"} 5.0
slogate_http_request_duration_seconds_sum{route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1"} 0.02
# HELP slogate_ws_sessions live sessions
# TYPE slogate_ws_sessions gauge
slogate_ws_sessions{tier="team"} 0.0
"""


def _after(ok_200: int, post_201: int) -> str:
    lab = 'route="/v1/runs/{run_id}",method="GET",status="200",tier="team",tenant="t1"'
    post = 'route="/v1/runs",method="POST",status="201",tier="team",tenant="t1"'
    h = "slogate_http_request_duration_seconds"
    return f"""\
# TYPE slogate_http_requests_total counter
slogate_http_requests_total{{{lab}}} {5 + ok_200}
slogate_http_requests_total{{{post}}} {post_201}
slogate_http_requests_total{{route="/metrics",method="GET",status="200",tier="-",tenant="-"}} 99
# TYPE {h} histogram
{h}_bucket{{{lab},le="0.01"}} {5 + ok_200 // 2}
{h}_bucket{{{lab},le="0.1"}} {5 + ok_200}
{h}_bucket{{{lab},le="+Inf"}} {5 + ok_200}
{h}_count{{{lab}}} {5 + ok_200}
{h}_sum{{{lab}}} 1.0
# TYPE slogate_ws_sessions gauge
slogate_ws_sessions{{tier="team"}} 12
"""


def test_parse_exposition_keeps_sample_names_and_labels() -> None:
    snap = parse_exposition(EXPOSITION_BEFORE)
    key = series_key("slogate_http_requests_total", {
        "route": "/v1/runs/{run_id}", "method": "GET", "status": "200", "tier": "team",
        "tenant": "t1"})
    assert snap[key] == 5.0
    inf_bucket = [k for k in snap if k[0].endswith("_bucket") and ("le", "+Inf") in k[1]]
    assert len(inf_bucket) == 1


def test_deltas_are_end_minus_start_and_new_series_start_at_zero() -> None:
    fake = FakeSource(parse_exposition(EXPOSITION_BEFORE), parse_exposition(_after(300, 20)))
    record = fake.measure(CrossCheckConfig(), Window(T0, T0 + 60))
    deltas = {(c.labels["route"], c.labels["status"]): c.delta for c in record.counters}
    assert deltas == {("/v1/runs/{run_id}", "200"): 300, ("/v1/runs", "201"): 20,
                      ("/metrics", "200"): 59}
    (hist,) = record.histograms
    assert hist.buckets == [(0.01, 150), (0.1, 300), (math.inf, 300)] and hist.count == 300
    (gauge,) = record.gauges
    assert (gauge.min, gauge.max, gauge.last) == (0, 12, 12)
    assert fake.calls == [Window(T0, T0 + 60)]


def test_counter_reset_is_counted_from_zero_with_a_note() -> None:
    before: Snapshot = {("x_total", ()): 100.0}
    after: Snapshot = {("x_total", ()): 7.0}
    record = FakeSource(before, after).measure(
        CrossCheckConfig(request_counter="x_total"), Window(0, 1)
    )
    assert record.counters[0].delta == 7 and "reset" in record.notes[0]


def test_operation_key_blanks_path_parameters() -> None:
    assert operation_key("GET /v1/runs/{id}") == operation_key("GET /v1/runs/{run_id}")
    assert operation_key("POST /v1/runs") == "POST /v1/runs"


def _client(n_get: int, n_post: int, extra: dict[str, object] | None = None) -> SampleColumns:
    names = ["GET /v1/runs/{id}"] * n_get + ["POST /v1/runs"] * n_post
    status = [200] * n_get + [201] * n_post
    latency = np.concatenate([np.full(n_get // 2, 4.0), np.full(n_get - n_get // 2, 60.0),
                              np.full(n_post, 5.0)])
    return SampleColumns.from_arrow(
        samples_table(len(names), name=names, status=np.array(status, dtype=np.int32),
                      latency_ms=latency, **(extra or {}))
    )


def _record(ok_200: int, post_201: int):  # type: ignore[no-untyped-def]
    fake = FakeSource(parse_exposition(EXPOSITION_BEFORE), parse_exposition(_after(ok_200, post_201)))
    return fake.measure(CrossCheckConfig(), Window(T0, T0 + 60))


def test_counts_reconcile_exactly() -> None:
    check = reconcile(_client(300, 20), _record(300, 20), CrossCheckConfig())
    assert check.findings == []
    total = check.reconciliation[-1]
    assert (total["client"], total["server"], total["category"]) == (320, 320, "match")
    assert all(r["operation"] != "GET /metrics" for r in check.reconciliation)


def test_mismatch_is_a_finding_with_numbers() -> None:
    check = reconcile(_client(297, 20), _record(300, 20), CrossCheckConfig())
    (finding,) = check.findings
    assert finding["kind"] == "count_mismatch"
    assert (finding["operation"], finding["status"], finding["client"], finding["server"],
            finding["difference"]) == ("GET /v1/runs/{}", 200, 297, 300, 3)
    assert "server counted 3 more" in finding["message"]


def test_server_only_operations_and_transport_errors_are_not_mismatches() -> None:
    client = _client(300, 0)
    check = reconcile(client, _record(300, 20), CrossCheckConfig())
    post = next(r for r in check.reconciliation if r["operation"] == "POST /v1/runs")
    assert post["category"] == "server_only" and check.findings == []
    names = ["GET /v1/runs/{id}"] * 302
    status = np.array([200] * 300 + [0, 0], dtype=np.int32)
    client = SampleColumns.from_arrow(samples_table(302, name=names, status=status))
    check = reconcile(client, _record(300, 0), CrossCheckConfig())
    transport = next(r for r in check.reconciliation if r["status"] == 0)
    assert transport["category"] == "client_transport_error" and transport["client"] == 2
    assert check.findings == []


def test_quantiles_judged_against_the_bucket_bounds() -> None:
    # Server: half the requests <= 10 ms, all <= 100 ms -> p95 estimate in (10, 100] ms.
    agree = reconcile(_client(300, 0), _record(300, 0), CrossCheckConfig())
    p95 = next(q for q in agree.quantiles if q["quantile"] == 0.95)
    assert p95["bucket_ms"] == [10.0, 100.0] and p95["client_ms"] == 60.0
    assert p95["verdict"] == "agree"
    slow_names = ["GET /v1/runs/{id}"] * 300
    slow = SampleColumns.from_arrow(samples_table(
        300, name=slow_names, status=np.full(300, 200, dtype=np.int32),
        latency_ms=np.full(300, 250.0)))
    check = reconcile(slow, _record(300, 0), CrossCheckConfig())
    assert {f["kind"] for f in check.findings} == {"client_slower"}
    finding = check.findings[0]
    assert finding["gap_ms"] == pytest.approx(150.0) and finding["bucket_ms"] == [10.0, 100.0]


def test_server_json_round_trip(tmp_path: Path) -> None:
    from slo.server import write_server_record

    record = _record(300, 20)
    path = write_server_record(record, tmp_path / "server.json")
    assert '"+Inf"' in path.read_text()
    assert read_server_record(path) == record


@pytest.mark.parametrize(("tolerance", "verdict"), [
    pytest.param(150.0, "overhead", id="within_the_slo_tolerance"),
    pytest.param(100.0, "client_slower", id="beyond_the_slo_tolerance"),
])
def test_slo_file_tolerance_bounds_the_client_above_the_bucket(tolerance: float,
                                                               verdict: str) -> None:
    slow = SampleColumns.from_arrow(samples_table(
        300, name=["GET /v1/runs/{id}"] * 300, status=np.full(300, 200, dtype=np.int32),
        latency_ms=np.full(300, 250.0)))
    config = CrossCheckConfig(latency_tolerance_ms=tolerance)
    check = reconcile(slow, _record(300, 0), config)
    p95 = next(q for q in check.quantiles if q["quantile"] == 0.95)
    assert p95["verdict"] == verdict and p95["upper_ms"] == pytest.approx(100.0 + tolerance)
    # p99 is not compared: 300 requests leave 3 above it (a tail needs 10)
    assert [q["quantile"] for q in check.quantiles] == [0.95]
    assert [f["tolerance_source"] for f in check.findings] == (
        ["the SLO file"] if verdict == "client_slower" else [])


def test_client_below_the_bucket_is_impossible_whatever_the_tolerance() -> None:
    fast = SampleColumns.from_arrow(samples_table(
        300, name=["GET /v1/runs/{id}"] * 300, status=np.full(300, 200, dtype=np.int32),
        latency_ms=np.full(300, 1.0)))
    check = reconcile(fast, _record(300, 0), CrossCheckConfig(latency_tolerance_ms=1000.0))
    assert {f["kind"] for f in check.findings} == {"client_faster"}
    assert all("impossible" in f["message"] for f in check.findings)
