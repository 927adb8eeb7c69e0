"""The cross-check against targets whose ``/metrics`` lie, through the whole ``slogate run``.

A small Starlette server written here counts and times its own requests with the reference
target's metric names, honestly or with one lie: it skips every 10th request (under-counts),
records a tenth of each duration (under-times), or adds 200 ms to each (over-times: the
client would be faster than the server). The honest server must give no cross-check risk;
each liar must be caught, with the finding the physics predicts.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from foundation.layout import RunStatus
from reports.load import load_report_data
from scenarios.runner import RunRequest
from scenarios.spec import parse_scenario
from slogate.pipeline import PipelineRequest, run_pipeline
from tests._servers import serve_in_thread

BUCKETS = tuple(0.001 * 1.2**i for i in range(57))  # the reference target's: 1 ms .. ~30 s


class LyingTarget:
    """``GET /healthz`` (instant), ``GET /work`` (20 ms), ``GET /metrics`` (one of the lies)."""

    def __init__(self) -> None:
        self.lie = "honest"
        self.registry = CollectorRegistry()
        self.requests = Counter("slogate_http_requests", "requests",
                                ["route", "method", "status"], registry=self.registry)
        self.duration = Histogram("slogate_http_request_duration_seconds", "duration",
                                  ["route", "method", "status"], buckets=BUCKETS,
                                  registry=self.registry)
        self._seen = 0

    def _observe(self, route: str, elapsed: float) -> None:
        lie = self.lie if route == "/work" else "honest"
        self._seen += route == "/work"
        if lie == "under_count" and self._seen % 10 == 0:
            return
        factor, extra = {"under_time": (0.1, 0.0), "over_time": (1.0, 0.2)}.get(lie, (1.0, 0.0))
        self.requests.labels(route, "GET", "200").inc()
        self.duration.labels(route, "GET", "200").observe(elapsed * factor + extra)

    async def healthz(self, request: Request) -> Response:
        start = time.perf_counter()
        response = PlainTextResponse("ok")
        self._observe("/healthz", time.perf_counter() - start)
        return response

    async def work(self, request: Request) -> Response:
        start = time.perf_counter()
        await asyncio.sleep(0.02)
        response = PlainTextResponse("done")
        self._observe("/work", time.perf_counter() - start)
        return response

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/healthz", self.healthz), Route("/work", self.work),
                                 Route("/metrics", self.metrics)])


@pytest.fixture
def target() -> Iterator[tuple[LyingTarget, str]]:
    liar = LyingTarget()
    with serve_in_thread(liar.app()) as server:
        yield liar, server.url


SCENARIO = """\
target: {url}
duration: 6s
load: {{model: open, rate: 80}}
http:
  - {{name: GET /healthz, path: /healthz}}
  - {{name: GET /work, path: /work, weight: 2}}
"""

SLO = """\
objectives:
  - {name: avail, sli: availability, target: 99, min_events: 10}
cross_check:
  min_events: 50
  extra_histograms: []
  gauges: []
  extra_counters: []
"""


def _run(tmp_path: Path, url: str) -> tuple[dict[str, object], list[tuple[str, str, str]]]:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    outcome = run_pipeline(PipelineRequest(
        run=RunRequest(parse_scenario(SCENARIO.format(url=url)), out_dir=tmp_path / "run"),
        slo_path=slo, formats=("json",),
    ))
    assert outcome.run.status is RunStatus.COMPLETE, outcome.run.reason
    server = json.loads((tmp_path / "run" / "server.json").read_text())
    risks = [(r.severity, r.title, r.detail) for r in load_report_data(tmp_path / "run").risks
             if r.kind == "cross_check"]
    return server, risks


@pytest.mark.slow
def test_honest_target_gives_no_cross_check_risk(
    tmp_path: Path, target: tuple[LyingTarget, str]
) -> None:
    _, url = target
    server, risks = _run(tmp_path, url)
    assert risks == [] and server["findings"] == []
    work = [q for q in server["quantiles"] if q["operation"] == "GET /work"]
    assert {q["quantile"] for q in work} == {0.95}  # p99 needs 1,000 requests (tail of 10)
    # the tolerance was measured on the health route, and the work route is within it
    assert all(q["upper_ms"] is not None and q["verdict"] in ("agree", "overhead")
               for q in work)
    total = server["reconciliation"][-1]
    assert total["client"] == total["server"] > 300


@pytest.mark.slow
@pytest.mark.parametrize(("lie", "kind", "severity"), [
    pytest.param("under_count", "count_mismatch", "high", id="under_counts"),
    pytest.param("under_time", "client_slower", "medium", id="under_times"),
    pytest.param("over_time", "client_faster", "high", id="over_times"),
])
def test_lying_target_is_caught(
    tmp_path: Path, target: tuple[LyingTarget, str], lie: str, kind: str, severity: str
) -> None:
    liar, url = target
    liar.lie = lie
    server, risks = _run(tmp_path, url)
    findings = server["findings"]
    assert isinstance(findings, list)
    assert {f["kind"] for f in findings} == {kind}
    assert all(f["operation"] == "GET /work" for f in findings)
    assert risks and all(sev == severity for sev, _, _ in risks)
    if lie == "under_count":
        (f,) = findings
        # every 10th /work request went uncounted: the client recorded about 10 % more
        assert f["client"] - f["server"] == f["client"] // 10
    if lie == "under_time":
        # the server says ~2 ms, the client saw >= 20 ms: far beyond the measured overhead
        assert all(f["client_ms"] > f["upper_ms"] and f["client_ms"] >= 20.0
                   for f in findings)
        assert all(f["tolerance_source"] == "measured on GET /healthz" for f in findings)
