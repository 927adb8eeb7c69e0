"""``/metrics``: the documented names, bounded labels, and buckets fine enough for SLOs.

Parsed with prometheus_client's own text parser, so a malformed exposition fails here too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from target_service.config import Role, Tier
from target_service.metrics import LATENCY_BUCKETS_S

from .helpers import ADMIN_TOKEN, bearer, create_tenant, wait_runs

# docs/ARCHITECTURE.md "Service metrics": exposed family name -> type
DOCUMENTED = {
    "slogate_http_requests": "counter",  # exposed as slogate_http_requests_total
    "slogate_http_request_duration_seconds": "histogram",
    "slogate_db_query_duration_seconds": "histogram",
    "slogate_ws_sessions": "gauge",
    "slogate_ws_message_latency_seconds": "histogram",
    "slogate_ws_closes": "counter",
    "slogate_run_queue_depth": "gauge",
    "slogate_runs": "counter",
    "slogate_provider_calls": "counter",
    "slogate_process_cpu_seconds": "gauge",
    "slogate_process_resident_memory_bytes": "gauge",
}


def _scrape(client: TestClient) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _samples(families: dict[str, Any], name: str, suffix: str = "") -> list[Sample]:
    return [s for s in families[name].samples if s.name == name + suffix]


def _exercise(client: TestClient) -> tuple[str, str]:
    """Some of everything: HTTP, a run, a WebSocket session closed by the server."""
    tenant = create_tenant(client, Tier.TEAM)
    run = client.post("/v1/runs", json={"prompt": "p"}, headers=tenant.headers(Role.DEVELOPER)).json()["id"]
    client.get(f"/v1/runs/{run}", headers=tenant.headers(Role.VIEWER))
    with client.websocket_connect("/v1/sessions/ws", headers=tenant.headers(Role.DEVELOPER)) as ws:
        ws.send_json({"type": "prompt", "prompt": "hi"})
        while ws.receive_json()["type"] != "done":
            pass
    wait_runs(client, tenant.tokens[Role.VIEWER], [run])
    try:
        with client.websocket_connect("/v1/sessions/ws", headers=bearer("sgt_bad")) as ws:
            ws.receive_json()
    except Exception:  # closed 4401, counted in slogate_ws_closes
        pass
    return tenant.id, run


def test_documented_metrics_are_exposed_with_their_types(client: TestClient) -> None:
    _exercise(client)
    families = _scrape(client)
    for name, kind in DOCUMENTED.items():
        assert name in families, f"{name} missing from /metrics"
        assert families[name].type == kind, (name, families[name].type)
    assert _samples(families, "slogate_runs", "_total")[0].labels == {"tier": "team", "status": "succeeded"}
    stages = {s.labels["stage"] for s in _samples(families, "slogate_ws_message_latency_seconds", "_count")}
    assert stages == {"first_token", "complete"}
    closes = {(s.labels["tier"], s.labels["code"]) for s in _samples(families, "slogate_ws_closes", "_total")}
    assert ("-", "4401") in closes
    assert _samples(families, "slogate_process_resident_memory_bytes")[0].value > 10e6


def test_route_label_is_the_template_never_the_raw_path(client: TestClient) -> None:
    tenant_id, run_id = _exercise(client)
    client.get("/v1/runs/run_doesnotexist", headers=bearer(ADMIN_TOKEN))
    client.get("/no/such/path")
    client.get("/healthz")
    families = _scrape(client)
    requests = _samples(families, "slogate_http_requests", "_total")
    routes = {s.labels["route"] for s in requests}
    assert {"/v1/runs", "/v1/runs/{run_id}", "/v1/tenants/{tenant_id}/tokens", "/v1/tenants"} <= routes
    assert "unmatched" in routes  # the 404 for an unknown path, under one bounded value
    assert not [r for r in routes if run_id in r or tenant_id in r or "doesnotexist" in r or "/no/" in r]
    get_run = [
        s for s in requests if s.labels["route"] == "/v1/runs/{run_id}" and s.labels["status"] == "200"
    ]
    assert get_run and get_run[0].labels["method"] == "GET" and get_run[0].labels["tier"] == "team"
    assert get_run[0].labels["tenant"] == tenant_id
    public = [s for s in requests if s.labels["route"] == "/healthz"]
    assert public and public[0].labels["tenant"] == "-" and public[0].labels["tier"] == "-"


def test_tenant_label_switches_to_other_past_the_limit(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(metrics_tenant_label_limit=2)
    tenants = [create_tenant(client, Tier.STARTER, name=f"t{i}") for i in range(4)]
    for tenant in tenants:
        client.get("/v1/runs", headers=tenant.headers(Role.VIEWER))
    labels = {
        s.labels["tenant"]
        for s in _samples(_scrape(client), "slogate_http_requests", "_total")
        if s.labels["route"] == "/v1/runs"
    }
    assert labels == {tenants[0].id, tenants[1].id, "other"}


def test_latency_buckets_resolve_5ms_to_10s_within_10_percent() -> None:
    """Between consecutive bounds (lo, hi) a quantile estimated at the bucket's geometric
    middle is within sqrt(hi/lo) - 1 of the truth: a ratio of 1.2 bounds that by 9.5 %.
    (Prometheus' linear interpolation inside a bucket is usually closer, but can be off by
    up to hi/lo - 1 for a quantile that sits at a bucket's lower edge.)"""
    bounds = [b for b in LATENCY_BUCKETS_S if b != float("inf")]
    covering = [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > 0.005 and lo < 10.0]
    assert covering[0][0] <= 0.005 and covering[-1][1] >= 10.0
    worst = max(hi / lo for lo, hi in covering)
    assert worst <= 1.2 * (1 + 1e-4), f"bucket ratio {worst:.4f} resolves only to {worst**0.5 - 1:.1%}"
    assert worst**0.5 - 1 <= 0.10


def test_exposed_buckets_are_the_fine_ones(client: TestClient) -> None:
    _exercise(client)
    text = client.get("/metrics").text
    for name in ("slogate_http_request_duration_seconds", "slogate_db_query_duration_seconds"):
        les = sorted({float(v) for v in re.findall(name + r'_bucket\{[^}]*le="([^"]+)"', text)})
        assert les[:-1] == pytest.approx(list(LATENCY_BUCKETS_S)), name
        assert les[-1] == float("inf")


def test_db_query_histogram_counts_increase_with_requests(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.TEAM)

    def selects() -> float:
        samples = _samples(_scrape(client), "slogate_db_query_duration_seconds", "_count")
        return sum(s.value for s in samples if s.labels["operation"] == "select")

    before = selects()
    for _ in range(5):
        client.get("/v1/agents", headers=tenant.headers(Role.VIEWER))
    assert selects() >= before + 5
    inserts_before = sum(
        s.value
        for s in _samples(_scrape(client), "slogate_db_query_duration_seconds", "_count")
        if s.labels["operation"] == "insert"
    )
    client.post("/v1/agents", json={"name": "a"}, headers=tenant.headers(Role.DEVELOPER))
    inserts_after = sum(
        s.value
        for s in _samples(_scrape(client), "slogate_db_query_duration_seconds", "_count")
        if s.labels["operation"] == "insert"
    )
    assert inserts_after >= inserts_before + 2  # the agent and its audit row
