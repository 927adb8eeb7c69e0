# ruff: noqa: E501  (case tables keep one case per row, unwrapped, so they read as tables)
"""RBAC matrix: who may call what, as one table.

Columns are the principals (platform admin, tenant admin, developer, viewer, no token, a
malformed/unknown token, a revoked token); rows are the app's routes, each acting on the
caller's *own* tenant (cross-tenant access is test_isolation's job). Cells are the expected
status. Destructive rows build a fresh object per call, so one refusal that wrongly succeeds
cannot hide another. ``test_matrix_covers_every_route`` fails when a route has no row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from target_service.config import Role, Tier

from .helpers import (
    ADMIN_TOKEN,
    WEBSOCKET,
    Tenant,
    app_endpoints,
    bearer,
    create_tenant,
    module_client,
    wait_runs,
)

PRINCIPALS = ("platform", "admin", "developer", "viewer", "none", "bad", "revoked")


@dataclass(frozen=True)
class World:
    client: TestClient
    tenant: Tenant
    revoked_token: str
    agent: str
    run: str

    def headers(self, principal: str) -> dict[str, str]:
        if principal == "platform":
            return bearer(ADMIN_TOKEN)
        if principal == "none":
            return {}
        if principal == "bad":
            return bearer("sgt_not-a-token-this-service-issued")
        if principal == "revoked":
            return bearer(self.revoked_token)
        return self.tenant.headers(Role(principal))

    def fresh(self, kind: str) -> str:
        """A new object to destroy (made by a principal that may, so its making cannot fail)."""
        admin = bearer(ADMIN_TOKEN)
        if kind == "tenant":
            response = self.client.post(
                "/v1/tenants", json={"name": "doomed", "tier": "starter"}, headers=admin
            )
        elif kind == "token":
            response = self.client.post(
                f"/v1/tenants/{self.tenant.id}/tokens", json={"role": "viewer"}, headers=admin
            )
        else:
            response = self.client.post(
                "/v1/agents", json={"name": "doomed"}, headers=self.tenant.headers(Role.DEVELOPER)
            )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db_file: Path = tmp_path_factory.mktemp("rbac") / "target.db"
    with module_client(db_file) as client:
        tenant = create_tenant(client, Tier.ENTERPRISE)
        revoked = client.post(
            f"/v1/tenants/{tenant.id}/tokens", json={"role": "admin"}, headers=bearer(ADMIN_TOKEN)
        )
        revoke = client.delete(
            f"/v1/tenants/{tenant.id}/tokens/{revoked.json()['id']}", headers=bearer(ADMIN_TOKEN)
        )
        assert revoke.status_code == 204, revoke.text
        agent = client.post("/v1/agents", json={"name": "a"}, headers=tenant.headers(Role.DEVELOPER)).json()[
            "id"
        ]
        run = client.post("/v1/runs", json={"prompt": "hi"}, headers=tenant.headers(Role.DEVELOPER)).json()[
            "id"
        ]
        wait_runs(client, tenant.tokens[Role.VIEWER], [run])
        yield World(client, tenant, revoked.json()["token"], agent, run)


Request = Callable[[World, str], tuple[str, str, Any]]  # (world, principal) -> method, url, json


def req(method: str, path: str, json: Any = None, *, fresh: str | None = None) -> Request:
    """``path`` may use {T} (own tenant), {AGENT}, {RUN} and {NEW} (a fresh ``fresh`` object;
    for a tenant, only the platform admin gets a fresh one: the others aim at their own)."""

    def build(w: World, principal: str) -> tuple[str, str, Any]:
        new = ""
        if fresh == "tenant":
            new = w.fresh("tenant") if principal == "platform" else w.tenant.id
        elif fresh is not None:
            new = w.fresh(fresh)
        return method, path.format(T=w.tenant.id, AGENT=w.agent, RUN=w.run, NEW=new), json

    return build


def row(endpoint: tuple[str, str], request: Request, expected: str, name: str) -> Any:
    """``expected``: seven statuses in PRINCIPALS order; for the WebSocket, close codes or 'open'."""
    statuses = expected.split()
    assert len(statuses) == len(PRINCIPALS), name
    return pytest.param(endpoint, request, dict(zip(PRINCIPALS, statuses, strict=True)), id=name)


UNAUTH = "401 401 401"
PUBLIC = "200 200 200 200 200 200 200"

MATRIX = [
    #   endpoint                                           request                                   P   A   D   V   -  bad rev
    row(("GET", "/healthz"), req("GET", "/healthz"), PUBLIC, "healthz"),
    row(("GET", "/readyz"), req("GET", "/readyz"), PUBLIC, "readyz"),
    row(("GET", "/metrics"), req("GET", "/metrics"), PUBLIC, "metrics"),
    row(("GET", "/openapi.json"), req("GET", "/openapi.json"), PUBLIC, "openapi"),
    row(("GET", "/docs"), req("GET", "/docs"), PUBLIC, "docs"),
    row(("GET", "/docs/oauth2-redirect"), req("GET", "/docs/oauth2-redirect"), PUBLIC, "docs-oauth2"),
    row(("GET", "/redoc"), req("GET", "/redoc"), PUBLIC, "redoc"),
    row(("POST", "/v1/tenants"), req("POST", "/v1/tenants", {"name": "n", "tier": "team"}),
        f"201 403 403 403 {UNAUTH}", "create-tenant"),
    row(("GET", "/v1/tenants/{tenant_id}"), req("GET", "/v1/tenants/{T}"),
        f"200 200 200 200 {UNAUTH}", "read-tenant"),
    row(("DELETE", "/v1/tenants/{tenant_id}"), req("DELETE", "/v1/tenants/{NEW}", fresh="tenant"),
        f"204 403 403 403 {UNAUTH}", "delete-tenant"),
    row(("POST", "/v1/tenants/{tenant_id}/tokens"), req("POST", "/v1/tenants/{T}/tokens", {"role": "viewer"}),
        f"201 201 403 403 {UNAUTH}", "create-token"),
    row(("GET", "/v1/tenants/{tenant_id}/tokens"), req("GET", "/v1/tenants/{T}/tokens"),
        f"200 200 403 403 {UNAUTH}", "list-tokens"),
    row(("DELETE", "/v1/tenants/{tenant_id}/tokens/{token_id}"),
        req("DELETE", "/v1/tenants/{T}/tokens/{NEW}", fresh="token"),
        f"204 204 403 403 {UNAUTH}", "revoke-token"),
    row(("GET", "/v1/tenants/{tenant_id}/export"), req("GET", "/v1/tenants/{T}/export"),
        f"200 200 403 403 {UNAUTH}", "export"),
    row(("POST", "/v1/runs"), req("POST", "/v1/runs", {"prompt": "p"}), f"403 202 202 403 {UNAUTH}", "create-run"),
    row(("GET", "/v1/runs"), req("GET", "/v1/runs"), f"403 200 200 200 {UNAUTH}", "list-runs"),
    row(("GET", "/v1/runs/{run_id}"), req("GET", "/v1/runs/{RUN}"), f"403 200 200 200 {UNAUTH}", "read-run"),
    row(("POST", "/v1/agents"), req("POST", "/v1/agents", {"name": "n"}), f"403 201 201 403 {UNAUTH}",
        "create-agent"),
    row(("GET", "/v1/agents"), req("GET", "/v1/agents"), f"403 200 200 200 {UNAUTH}", "list-agents"),
    row(("GET", "/v1/agents/{agent_id}"), req("GET", "/v1/agents/{AGENT}"), f"403 200 200 200 {UNAUTH}",
        "read-agent"),
    row(("PATCH", "/v1/agents/{agent_id}"), req("PATCH", "/v1/agents/{AGENT}", {"name": "m"}),
        f"403 200 200 403 {UNAUTH}", "update-agent"),
    row(("DELETE", "/v1/agents/{agent_id}"), req("DELETE", "/v1/agents/{NEW}", fresh="agent"),
        f"403 204 204 403 {UNAUTH}", "delete-agent"),
    row(("GET", "/v1/audit"), req("GET", "/v1/audit"), f"403 200 403 403 {UNAUTH}", "audit"),
    row(("GET", "/v1/admin/faults"), req("GET", "/v1/admin/faults"), f"200 403 403 403 {UNAUTH}", "read-faults"),
    row(("PUT", "/v1/admin/faults"), req("PUT", "/v1/admin/faults", {}), f"200 403 403 403 {UNAUTH}",
        "set-faults"),
    # WebSocket: may the session open (then: may it run a prompt)?  4401 = closed, unauthorized
    row((WEBSOCKET, "/v1/sessions/ws"), req("WS", "/v1/sessions/ws"),
        "4401 accepted accepted forbidden 4401 4401 4401", "ws-session-prompt"),
]  # fmt: skip


def _call_ws(w: World, principal: str) -> str:
    try:
        with w.client.websocket_connect("/v1/sessions/ws", headers=w.headers(principal)) as session:
            session.send_json({"type": "prompt", "prompt": "hello"})
            reply = session.receive_json()
            if reply["type"] == "accepted":  # follow it to the end: leave nothing in flight
                while session.receive_json()["type"] != "done":
                    pass
    except WebSocketDisconnect as closed:
        return str(closed.code)
    return str(reply["error"] if reply["type"] == "error" else reply["type"])


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("endpoint", "request_", "expected"), MATRIX)
def test_rbac_matrix(
    world: World, endpoint: tuple[str, str], request_: Request, expected: dict[str, str], principal: str
) -> None:
    method, url, json = request_(world, principal)
    if method == "WS":
        assert _call_ws(world, principal) == expected[principal]
        return
    response = world.client.request(method, url, json=json, headers=world.headers(principal))
    assert str(response.status_code) == expected[principal], f"{principal} {method} {url}: {response.text}"
    if response.status_code in (401, 403):
        body = response.json()
        assert body["error"] == {401: "unauthorized", 403: "forbidden"}[response.status_code]
        assert body["detail"], body
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_worked_before_it_was_revoked(world: World) -> None:
    """The 'revoked' column is about revocation, not a token that never worked."""
    admin = bearer(ADMIN_TOKEN)
    created = world.client.post(
        f"/v1/tenants/{world.tenant.id}/tokens", json={"role": "viewer"}, headers=admin
    )
    token, token_id = created.json()["token"], created.json()["id"]
    assert world.client.get("/v1/runs", headers=bearer(token)).status_code == 200
    world.client.delete(f"/v1/tenants/{world.tenant.id}/tokens/{token_id}", headers=admin)
    refused = world.client.get("/v1/runs", headers=bearer(token))
    assert (refused.status_code, refused.json()["detail"]) == (401, "invalid or revoked token")
    listed = world.client.get(f"/v1/tenants/{world.tenant.id}/tokens", headers=admin).json()
    assert [t["revoked_at"] is not None for t in listed if t["id"] == token_id] == [True]


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        pytest.param(
            "Basic dXNlcjpwYXNz", "Authorization header must be 'Bearer <token>'", id="basic-scheme"
        ),
        pytest.param("Bearer", "Authorization header must be 'Bearer <token>'", id="no-token"),
        pytest.param("Bearer   ", "Authorization header must be 'Bearer <token>'", id="blank-token"),
        pytest.param(ADMIN_TOKEN, "Authorization header must be 'Bearer <token>'", id="no-scheme"),
        pytest.param("bearer " + ADMIN_TOKEN[:-1], "invalid or revoked token", id="admin-token-prefix"),
    ],
)
def test_malformed_authorization_is_401_saying_why(world: World, authorization: str, detail: str) -> None:
    response = world.client.get("/v1/admin/faults", headers={"Authorization": authorization})
    assert (response.status_code, response.json()["detail"]) == (401, detail)


def test_matrix_covers_every_route(world: World) -> None:
    covered = {param.values[0] for param in MATRIX}
    endpoints = app_endpoints(world.client.app)  # type: ignore[arg-type]
    assert endpoints - covered == set(), f"routes missing from the RBAC matrix: {sorted(endpoints - covered)}"
    assert covered - endpoints == set(), f"RBAC rows for routes the app lacks: {sorted(covered - endpoints)}"
