"""Fault injection: each fault looks to a client exactly like the real failure.

Timing faults (fixed and relative latency, stall) are measured against a real uvicorn
server, so the delay is what a client on the wire sees. Lower bounds are strict (an injected
delay can never be skipped); upper bounds are loose (this machine is shared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from target_service.config import Role, Tier
from tests._servers import LiveServer

from .helpers import ADMIN_TOKEN, Tenant, bearer, create_tenant

ADMIN = bearer(ADMIN_TOKEN)


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def _timed(http: httpx.Client, path: str, headers: dict[str, str]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.get(path, headers=headers)
    return time.perf_counter() - started, response


def _put(http: httpx.Client | TestClient, **config: object) -> None:
    response = http.put("/v1/admin/faults", json=config, headers=ADMIN)
    assert response.status_code == 200, response.text


def test_fixed_latency_applies_to_matching_routes_only(http: httpx.Client) -> None:
    tenant = create_tenant(http, Tier.ENTERPRISE)
    viewer = tenant.headers(Role.VIEWER)
    _put(http, latency=[{"route": "/v1/runs*", "ms": 700}])
    slow, response = _timed(http, "/v1/runs", viewer)
    fast, other = _timed(http, "/v1/agents", viewer)
    assert response.status_code == other.status_code == 200
    assert slow >= 0.7
    assert fast < 0.7, "a latency fault for /v1/runs* slowed /v1/agents"
    _put(http)
    assert _timed(http, "/v1/runs", viewer)[0] < 0.7


def test_relative_latency_scales_the_request_s_own_time(http: httpx.Client) -> None:
    """+100 % on a request that itself takes >= 200 ms (injected) must take >= 400 ms."""
    tenant = create_tenant(http, Tier.ENTERPRISE)
    _put(http, latency=[{"route": "/v1/agents", "ms": 200}, {"route": "/v1/agents", "relative": 1.0}])
    elapsed, response = _timed(http, "/v1/agents", tenant.headers(Role.VIEWER))
    assert response.status_code == 200
    assert elapsed >= 0.4


def test_lognormal_latency_fault_is_accepted_and_bounded_below(http: httpx.Client) -> None:
    tenant = create_tenant(http, Tier.ENTERPRISE)
    _put(http, latency=[{"route": "/healthz", "distribution": "lognormal", "ms": 50, "max_ms": 60}])
    elapsed = [_timed(http, "/healthz", tenant.headers(Role.VIEWER))[0] for _ in range(5)]
    assert min(elapsed) >= 0.03  # the lognormal(50, p95 60) below 30 ms has probability ~1e-9


def test_error_rate_answers_the_crash_body(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    viewer = tenant.headers(Role.VIEWER)
    _put(client, error_rate=1.0, error_route="/v1/agents*")
    crashed = client.get("/v1/agents", headers=viewer)
    assert crashed.status_code == 500
    assert crashed.json() == {"error": "internal_error", "detail": "internal server error"}
    assert client.get("/v1/runs", headers=viewer).status_code == 200
    _put(client, error_rate=0.5)
    statuses = [client.get("/healthz").status_code for _ in range(100)]
    assert set(statuses) == {200, 500}
    assert 25 <= statuses.count(500) <= 75  # Binomial(100, 0.5): 10 standard deviations wide
    _put(client)
    assert client.get("/v1/agents", headers=viewer).status_code == 200


def test_stall_delays_everything_but_the_faults_route(live_server: LiveServer, http: httpx.Client) -> None:
    _put(http, stall_s=1.2)
    with ThreadPoolExecutor(max_workers=1) as pool:
        stalled = pool.submit(_timed, http, "/healthz", {})
        quick, answer = _timed(http, "/v1/admin/faults", ADMIN)  # usable during the stall
        assert answer.status_code == 200 and answer.json()["stall_s"] == 1.2
        assert quick < 1.1
        elapsed, response = stalled.result(timeout=10)
    assert response.status_code == 200 and elapsed >= 1.2
    _put(http)  # the faults route switches the stall off
    assert _timed(http, "/healthz", {})[0] < 1.1


def test_database_down_is_503_with_retry_after_then_recovers(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    fresh = create_tenant(client, Tier.ENTERPRISE, name="fresh")  # its token is not cached yet
    viewer = tenant.headers(Role.VIEWER)
    assert client.get("/v1/runs", headers=viewer).status_code == 200
    _put(client, database_down=True)
    for response in (
        client.get("/v1/runs", headers=viewer),
        client.post("/v1/runs", json={"prompt": "p"}, headers=tenant.headers(Role.DEVELOPER)),
        client.get("/v1/agents", headers=fresh.headers(Role.VIEWER)),
        client.post("/v1/tenants", json={"name": "n", "tier": "team"}, headers=ADMIN),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "database_unavailable"
        assert response.headers["retry-after"] == "1"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("the database is unavailable")
    assert client.get("/healthz").status_code == 200  # liveness does not depend on the database
    _put(client)
    assert client.get("/readyz").json() == {"status": "ready", "checks": {"database": "ok"}}
    assert client.get("/v1/runs", headers=viewer).status_code == 200


def test_database_down_closes_a_new_session_with_try_again_later(client: TestClient) -> None:
    """The token cannot be checked: that is 1013 "try again later", not a 4401/4403 refusal
    that would tell a client its credentials are wrong."""
    tenant = create_tenant(client, Tier.ENTERPRISE)  # its tokens were never used: not cached
    _put(client, database_down=True)
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/v1/sessions/ws", headers=tenant.headers(Role.VIEWER)) as session,
    ):
        session.receive_json()
    assert (closed.value.code, closed.value.reason) == (1013, "the database is unavailable (injected fault)")


def test_database_down_refuses_the_run_without_taking_a_queue_place(client: TestClient) -> None:
    tenant: Tenant = create_tenant(client, Tier.ENTERPRISE)
    _put(client, database_down=True)
    for _ in range(3):
        client.post("/v1/runs", json={"prompt": "p"}, headers=tenant.headers(Role.DEVELOPER))
    assert client.app.state.services.executor._reserved == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("admin", 403, id="tenant-admin"),
        pytest.param("developer", 403, id="developer"),
        pytest.param(None, 401, id="no-token"),
    ],
)
def test_only_the_platform_admin_sets_faults(client: TestClient, who: str | None, status: int) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    headers = tenant.headers(Role(who)) if who else {}
    response = client.put("/v1/admin/faults", json={"database_down": True}, headers=headers)
    assert response.status_code == status
    assert client.get("/v1/admin/faults", headers=ADMIN).json()["database_down"] is False
    assert client.get("/readyz").status_code == 200


def test_faults_at_start_from_settings(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(faults='{"error_rate": 1.0, "error_route": "/healthz"}')
    assert client.get("/healthz").status_code == 500
    assert client.get("/v1/admin/faults", headers=ADMIN).json()["error_rate"] == 1.0
