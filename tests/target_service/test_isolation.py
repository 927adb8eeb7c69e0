# ruff: noqa: E501  (case tables keep one case per row, unwrapped, so they read as tables)
"""Tenant isolation, table-driven over every route and the WebSocket.

Tenant B, with each of its roles, aims at tenant A's objects (tenant, tokens, export, runs,
agents, audit, a run followed over the WebSocket). Every attempt must be refused without
revealing that the object exists (404 / ``not_found``, or 403 where B's role could not do
the action even inside its own tenant), and A's rows, read straight from the database, must
be byte-for-byte the same afterwards. List routes answer 200 with none of A's objects.

``test_every_route_has_an_isolation_case`` enumerates the app's routes: a new route without
a case here (or an explicit "not tenant-scoped" entry) fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from target_service.auth import Action, role_allows
from target_service.config import Role, Settings, Tier

from .helpers import (
    ADMIN_TOKEN,
    WEBSOCKET,
    Tenant,
    app_endpoints,
    bearer,
    create_tenant,
    module_client,
    settings_of,
    tenant_rows,
    wait_runs,
)


@dataclass(frozen=True)
class World:
    client: TestClient
    settings: Settings
    a: Tenant
    b: Tenant
    a_agent: str
    a_run: str
    a_cursor: str  # a page cursor that A's own listing handed out

    def a_ids(self) -> list[str]:
        """Identifiers of A's objects that must never appear in B's listings."""
        return [self.a.id, self.a_agent, self.a_run, *self.a.token_ids.values()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db_file: Path = tmp_path_factory.mktemp("isolation") / "target.db"
    with module_client(db_file) as client:
        a = create_tenant(client, Tier.TEAM, name="tenant-a")
        b = create_tenant(client, Tier.TEAM, name="tenant-b")
        agent = client.post("/v1/agents", json={"name": "a-agent"}, headers=a.headers(Role.DEVELOPER))
        assert agent.status_code == 201, agent.text
        runs = [
            client.post(
                "/v1/runs",
                json={"prompt": f"a's secret {i}", "agent_id": agent.json()["id"]},
                headers=a.headers(Role.DEVELOPER),
            ).json()["id"]
            for i in range(2)
        ]
        wait_runs(client, a.tokens[Role.VIEWER], runs)  # A's rows stay still from here on
        page = client.get("/v1/runs?limit=1", headers=a.headers(Role.VIEWER)).json()
        assert page["next_cursor"], page
        # B owns objects too, so "B sees none of A's" is not trivially true of empty lists.
        client.post("/v1/agents", json={"name": "b-agent"}, headers=b.headers(Role.DEVELOPER))
        yield World(client, settings_of(client), a, b, agent.json()["id"], runs[0], page["next_cursor"])


Result = tuple[int | str, Any]  # HTTP status or "ws:<error code>", and the decoded body
Call = Callable[[World, dict[str, str], str], Result]


def http(method: str, path: str, json: Any = None) -> Call:
    """A request from B; ``path`` and ``json`` are formatted with the world's ids."""

    def call(w: World, headers: dict[str, str], _: str) -> Result:
        ids = {"A": w.a.id, "B": w.b.id, "A_AGENT": w.a_agent, "A_RUN": w.a_run, "A_CURSOR": w.a_cursor}
        ids["A_TOKEN"] = w.a.token_ids[Role.ADMIN]
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (json or {}).items()}
        response = w.client.request(method, path.format(**ids), json=body if json else None, headers=headers)
        return response.status_code, response.json() if response.content else None

    return call


def ws(message: dict[str, Any]) -> Call:
    """One message from B on a WebSocket session; the answer is its first reply."""

    def call(w: World, _: dict[str, str], token: str) -> Result:
        ids = {"A_AGENT": w.a_agent, "A_RUN": w.a_run}
        payload = {k: v.format(**ids) if isinstance(v, str) else v for k, v in message.items()}
        with w.client.websocket_connect("/v1/sessions/ws", headers=bearer(token)) as session:
            session.send_json(payload)
            reply = session.receive_json()
        status = f"ws:{reply['error']}" if reply["type"] == "error" else f"ws:{reply['type']}"
        return status, reply

    return call


def refused(
    status: int | str, *, unless: Action | None = None, forbidden: int | str = 403
) -> dict[Role, Any]:
    """``status`` for every role of B, or ``forbidden`` for roles that lack ``unless``."""
    return {
        role: forbidden if unless is not None and not role_allows(role, unless) else status for role in Role
    }


def no_a_ids(w: World, body: Any) -> None:
    text = repr(body)
    leaked = [i for i in w.a_ids() if i in text]
    assert not leaked, f"B's listing shows A's objects {leaked}: {text[:300]}"


def created_in_b(w: World, body: Any) -> None:
    assert body["tenant_id"] == w.b.id, body


@dataclass(frozen=True)
class Case:
    endpoint: tuple[str, str]
    call: Call
    expect: dict[Role, int | str]
    check: Callable[[World, Any], None] | None = None  # on answers that were not refusals


CASES = [
    pytest.param(Case(("POST", "/v1/tenants"), http("POST", "/v1/tenants", {"name": "x", "tier": "team"}),
                      refused(403)), id="create-tenant"),
    pytest.param(Case(("GET", "/v1/tenants/{tenant_id}"), http("GET", "/v1/tenants/{A}"),
                      refused(404)), id="read-tenant"),
    pytest.param(Case(("DELETE", "/v1/tenants/{tenant_id}"), http("DELETE", "/v1/tenants/{A}"),
                      refused(403)), id="delete-tenant"),
    pytest.param(Case(("POST", "/v1/tenants/{tenant_id}/tokens"),
                      http("POST", "/v1/tenants/{A}/tokens", {"role": "admin"}), refused(404)),
                 id="mint-token-in-a"),
    pytest.param(Case(("GET", "/v1/tenants/{tenant_id}/tokens"), http("GET", "/v1/tenants/{A}/tokens"),
                      refused(404)), id="list-a-tokens"),
    pytest.param(Case(("DELETE", "/v1/tenants/{tenant_id}/tokens/{token_id}"),
                      http("DELETE", "/v1/tenants/{A}/tokens/{A_TOKEN}"), refused(404)),
                 id="revoke-a-token"),
    pytest.param(Case(("DELETE", "/v1/tenants/{tenant_id}/tokens/{token_id}"),
                      http("DELETE", "/v1/tenants/{B}/tokens/{A_TOKEN}"),
                      refused(404, unless=Action.MANAGE_TOKENS)),
                 id="revoke-a-token-through-own-tenant"),
    pytest.param(Case(("GET", "/v1/tenants/{tenant_id}/export"), http("GET", "/v1/tenants/{A}/export"),
                      refused(404)), id="export-a"),
    pytest.param(Case(("POST", "/v1/runs"), http("POST", "/v1/runs", {"prompt": "x", "agent_id": "{A_AGENT}"}),
                      refused(404, unless=Action.RUN)), id="run-with-a-agent"),
    pytest.param(Case(("GET", "/v1/runs"), http("GET", "/v1/runs"), refused(200), no_a_ids), id="list-runs"),
    pytest.param(Case(("GET", "/v1/runs"), http("GET", "/v1/runs?cursor={A_CURSOR}"), refused(200), no_a_ids),
                 id="list-runs-with-a-cursor"),
    pytest.param(Case(("GET", "/v1/runs/{run_id}"), http("GET", "/v1/runs/{A_RUN}"), refused(404)),
                 id="read-a-run"),
    pytest.param(Case(("POST", "/v1/agents"), http("POST", "/v1/agents", {"name": "b2"}),
                      refused(201, unless=Action.WRITE_AGENTS), created_in_b), id="create-agent-lands-in-b"),
    pytest.param(Case(("GET", "/v1/agents"), http("GET", "/v1/agents"), refused(200), no_a_ids),
                 id="list-agents"),
    pytest.param(Case(("GET", "/v1/agents/{agent_id}"), http("GET", "/v1/agents/{A_AGENT}"), refused(404)),
                 id="read-a-agent"),
    pytest.param(Case(("PATCH", "/v1/agents/{agent_id}"),
                      http("PATCH", "/v1/agents/{A_AGENT}", {"name": "pwned"}),
                      refused(404, unless=Action.WRITE_AGENTS)), id="update-a-agent"),
    pytest.param(Case(("DELETE", "/v1/agents/{agent_id}"), http("DELETE", "/v1/agents/{A_AGENT}"),
                      refused(404, unless=Action.WRITE_AGENTS)), id="delete-a-agent"),
    pytest.param(Case(("GET", "/v1/audit"), http("GET", "/v1/audit"), refused(200, unless=Action.READ_AUDIT),
                      no_a_ids), id="read-audit"),
    pytest.param(Case((WEBSOCKET, "/v1/sessions/ws"), ws({"type": "subscribe", "run_id": "{A_RUN}"}),
                      refused("ws:not_found")), id="ws-subscribe-a-run"),
    pytest.param(Case((WEBSOCKET, "/v1/sessions/ws"), ws({"type": "prompt", "prompt": "x", "agent_id": "{A_AGENT}"}),
                      refused("ws:not_found", unless=Action.RUN, forbidden="ws:forbidden")),
                 id="ws-prompt-with-a-agent"),
]  # fmt: skip

NOT_TENANT_SCOPED = {
    ("GET", "/healthz"): "liveness, no data",
    ("GET", "/readyz"): "readiness, no data",
    ("GET", "/metrics"): "aggregate metrics (tenant label capped, see test_metrics)",
    ("GET", "/openapi.json"): "schema",
    ("GET", "/docs"): "schema UI",
    ("GET", "/docs/oauth2-redirect"): "schema UI",
    ("GET", "/redoc"): "schema UI",
    ("GET", "/v1/admin/faults"): "platform admin only (test_rbac, test_faults)",
    ("PUT", "/v1/admin/faults"): "platform admin only (test_rbac, test_faults)",
}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize("case", CASES)
def test_tenant_b_cannot_reach_tenant_a(world: World, case: Case, role: Role) -> None:
    before = tenant_rows(world.settings, world.a.id)
    status, body = case.call(world, world.b.headers(role), world.b.tokens[role])
    expected = case.expect[role]
    assert status == expected, f"B's {role.value} got {status} {body}, expected {expected}"
    if isinstance(status, int) and status >= 400:
        assert body["error"] in ("not_found", "forbidden"), body
    if status in (200, 201) and case.check is not None:
        case.check(world, body)
    assert tenant_rows(world.settings, world.a.id) == before, "tenant A's rows changed"


def test_a_still_reaches_its_own_objects(world: World) -> None:
    """The refusals above are about B: A's own token reads the very same ids (the cases would
    pass vacuously if the ids were wrong)."""
    h = world.a.headers(Role.ADMIN)
    for path in (
        f"/v1/tenants/{world.a.id}",
        f"/v1/tenants/{world.a.id}/tokens",
        f"/v1/tenants/{world.a.id}/export",
        f"/v1/runs/{world.a_run}",
        f"/v1/agents/{world.a_agent}",
    ):
        assert world.client.get(path, headers=h).status_code == 200, path
    audit = world.client.get("/v1/audit", headers=h).json()["items"]
    assert audit and all(item["tenant_id"] == world.a.id for item in audit)
    listed = [run["id"] for run in world.client.get("/v1/runs", headers=h).json()["items"]]
    assert world.a_run in listed


def test_ws_refusal_does_not_end_the_session(world: World) -> None:
    """A refused subscription is an error message; the session stays usable for B's own work."""
    token = world.b.tokens[Role.DEVELOPER]
    with world.client.websocket_connect("/v1/sessions/ws", headers=bearer(token)) as session:
        session.send_json({"type": "subscribe", "run_id": world.a_run, "ref": "probe"})
        reply = session.receive_json()
        assert (reply["type"], reply["error"], reply["ref"]) == ("error", "not_found", "probe")
        assert world.a_run in reply["detail"]
        session.send_json({"type": "prompt", "prompt": "b's own", "ref": "mine"})
        assert session.receive_json()["type"] == "accepted"


def test_platform_admin_token_cannot_open_a_session(world: World) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        world.client.websocket_connect("/v1/sessions/ws", headers=bearer(ADMIN_TOKEN)) as session,
    ):
        session.receive_json()
    assert closed.value.code == 4401


def test_every_route_has_an_isolation_case(world: World) -> None:
    """Fails when a route is added without saying how tenant isolation is checked for it."""
    covered = {param.values[0].endpoint for param in CASES}  # type: ignore[union-attr]
    endpoints = app_endpoints(world.client.app)  # type: ignore[arg-type]
    missing = endpoints - covered - set(NOT_TENANT_SCOPED)
    assert not missing, f"routes without a tenant-isolation case in {__name__}: {sorted(missing)}"
    stale = (covered | set(NOT_TENANT_SCOPED)) - endpoints
    assert not stale, f"isolation cases for routes the app no longer has: {sorted(stale)}"
