"""A real Prometheus scraping the real reference target: counts reconcile, mismatches show.

Bounded load: a few hundred sequential requests to 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from foundation.layout import RunInfo, RunLayout, RunStatus
from scenarios.record import SampleWriter
from slo import read_verdict
from slo.crosscheck import cross_check_run
from slo.sli import histogram_quantile
from slo.sources import LocalPrometheus, PrometheusSource, ScrapeSource, Window
from slo.spec import CrossCheckConfig
from slogate.cli import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None and not Path("/usr/bin/prometheus").exists(),
        reason="the prometheus binary is not installed (apt-get install -y prometheus)",
    ),
]

# (client name, path, expected status): the target names routes by template.
REQUESTS = [
    ("GET /healthz", "/healthz", 200),
    ("GET /readyz", "/readyz", 200),
    ("GET /v1/runs", "/v1/runs", 401),  # no token: refused, still counted by route
]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from target_service.embedded import EmbeddedTargetOptions, start_embedded_target

    with start_embedded_target(
        EmbeddedTargetOptions(data_dir=tmp_path_factory.mktemp("target"))
    ) as t:
        yield t.url


def _drive(url: str, run_dir: Path, per_route: int, record_every: int = 1) -> tuple[float, float]:
    """Send requests, recording samples like a load worker; returns the run window."""
    writer = SampleWriter(run_dir, worker=0)
    started = time.time()
    with httpx.Client(base_url=url, timeout=5.0) as client:
        for i in range(per_route):
            for name, path, _ in REQUESTS:
                t0 = time.time()
                response = client.get(path)
                latency = (time.time() - t0) * 1000
                if i % record_every == 0 or name != "GET /healthz":
                    writer.record(ts=t0, intended_ts=t0, latency_ms=latency, kind="http",
                                  name=name, tenant="", tier="", ok=response.status_code < 400,
                                  status=response.status_code, error="", nbytes=0)
    ended = time.time()
    writer.close()
    RunLayout(run_dir).write_info(RunInfo(run_id=run_dir.name, target_url=url,
                                          started_at=started, ended_at=ended,
                                          status=RunStatus.COMPLETE))
    return started, ended


def _window_start_after_a_scrape(prom: LocalPrometheus) -> None:
    """Begin the run only once Prometheus holds a sample from before it."""
    prom.wait_until_scraped(timeout_s=20)


def test_counts_reconcile_exactly_then_a_mismatch_is_found(target: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with LocalPrometheus(run_dir, target) as prom:
        _window_start_after_a_scrape(prom)
        _drive(target, run_dir, per_route=200)
        record = cross_check_run(run_dir, PrometheusSource(prom.url, scrape_wait_s=20))
        assert record.source == "prometheus" and record.notes == []
        rows = {(r["operation"], r["status"]): r for r in record.reconciliation}
        for name, _, status in REQUESTS:
            row = rows[(name, status)]
            assert (row["client"], row["server"], row["category"]) == (200, 200, "match"), row
        counts = [f for f in record.findings if f["kind"] == "count_mismatch"]
        assert counts == [], counts
        assert rows[("(all compared)", None)]["server"] == 600
        # Latency: every p95 is judged against its bucket (200 requests per route: p99 would
        # need 1,000, a tail of 10).
        assert {q["operation"] for q in record.quantiles} == {n for n, _, _ in REQUESTS}
        for q in record.quantiles:
            lo, hi = q["bucket_ms"]
            assert lo <= q["server_ms"] <= hi
            # never faster than the server; above its bucket only as far as the overhead
            # measured on GET /healthz allows (or a finding, on a very busy machine)
            assert q["verdict"] in ("agree", "overhead", "client_slower")

        # The CLI path: slogate evaluate --prometheus URL cross-checks, then judges.
        slo = tmp_path / "slo.yaml"
        slo.write_text("objectives:\n  - {name: a, sli: availability, target: 50,"
                       " select: {name: 'GET /healthz'}}\n")
        code = main(["evaluate", str(run_dir), "--slo", str(slo), "--prometheus", prom.url,
                     "--scrape-interval", "1"])
        assert code == 0
        verdict = read_verdict(run_dir / "verdict.json")
        assert verdict.cross_check["source"] == "prometheus"
        assert [f for f in verdict.cross_check["findings"] if f["kind"] == "count_mismatch"] == []

        # Same target, second run: the client "loses" every 10th /healthz sample.
        lossy = tmp_path / "lossy"
        _window_start_after_a_scrape(prom)
        _drive(target, lossy, per_route=150, record_every=10)
        lossy_record = cross_check_run(lossy, PrometheusSource(prom.url, scrape_wait_s=20))
    (finding,) = [f for f in lossy_record.findings if f["kind"] == "count_mismatch"]
    assert (finding["operation"], finding["status"], finding["client"], finding["server"]) == (
        "GET /healthz", 200, 15, 150)
    assert (tmp_path / "lossy" / "server.json").exists()
    assert (run_dir / "prometheus" / "data").is_dir()  # TSDB kept in the run directory


def test_histogram_quantile_port_equals_promql(target: str, tmp_path: Path) -> None:
    """Our histogram_quantile on the buckets Prometheus returns == PromQL's own answer."""
    run_dir = tmp_path / "run"
    with LocalPrometheus(run_dir, target) as prom:
        _window_start_after_a_scrape(prom)
        _, ended = _drive(target, run_dir, per_route=60)
        source = PrometheusSource(prom.url, scrape_wait_s=20)
        source.wait_for_scrape_after(ended)
        selector = 'slogate_http_request_duration_seconds_bucket{route="/healthz"}'
        buckets = source.instant(f"sum by (le) ({selector})", ended)
        promql = source.instant(f"histogram_quantile(0.95, sum by (le) ({selector}))", ended)
    bounds = [float(dict(labels)["le"]) for _, labels in buckets]
    counts = list(buckets.values())
    ours = histogram_quantile(0.95, bounds, counts)
    (theirs,) = promql.values()
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_scrape_source_reconciles_without_prometheus(target: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    source = ScrapeSource(target)
    source.start()
    started, ended = _drive(target, run_dir, per_route=50)
    source.stop()
    record = cross_check_run(run_dir, source, CrossCheckConfig())
    assert record.source == "scrape"
    assert [f for f in record.findings if f["kind"] == "count_mismatch"] == []
    assert {r["category"] for r in record.reconciliation} == {"match"}
    assert record.start == started and record.end == ended
    total = record.reconciliation[-1]
    assert total["client"] == total["server"] == 150
    assert np.isclose(sum(h.count for h in record.histograms
                          if h.name == "slogate_http_request_duration_seconds"
                          and h.labels["route"] != "/metrics"), 150)
    window = Window(started, ended)
    assert window.end > window.start
