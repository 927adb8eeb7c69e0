"""Audit log and GDPR: every mutating operation leaves a who/what/when row readable by the
tenant's admin only; the export holds everything; deletion leaves nothing.

"Nothing" is proved by counting rows carrying the tenant's id in every table of
``TENANT_TABLES``, straight from the database file, not through the API being tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from target_service.config import Role, Tier
from target_service.db.models import TENANT_TABLES

from .helpers import ADMIN_TOKEN, Tenant, bearer, create_tenant, settings_of, table_counts, wait_runs

ADMIN = bearer(ADMIN_TOKEN)


@dataclass(frozen=True)
class Op:
    """A mutating operation, the audit action it must leave, and who the actor must be."""

    action: str
    actor: str  # "platform-admin" or the role whose token acted
    perform: Callable[[TestClient, Tenant], str]  # returns the audit target (an object id)


def _create_agent(c: TestClient, t: Tenant) -> str:
    return str(c.post("/v1/agents", json={"name": "x"}, headers=t.headers(Role.DEVELOPER)).json()["id"])


def _update_agent(c: TestClient, t: Tenant) -> str:
    agent = _create_agent(c, t)
    assert (
        c.patch(f"/v1/agents/{agent}", json={"name": "y"}, headers=t.headers(Role.DEVELOPER)).status_code
        == 200
    )
    return agent


def _delete_agent(c: TestClient, t: Tenant) -> str:
    agent = _create_agent(c, t)
    assert c.delete(f"/v1/agents/{agent}", headers=t.headers(Role.ADMIN)).status_code == 204
    return agent


def _create_run(c: TestClient, t: Tenant) -> str:
    return str(c.post("/v1/runs", json={"prompt": "p"}, headers=t.headers(Role.DEVELOPER)).json()["id"])


def _create_run_ws(c: TestClient, t: Tenant) -> str:
    with c.websocket_connect("/v1/sessions/ws", headers=t.headers(Role.DEVELOPER)) as ws:
        ws.send_json({"type": "prompt", "prompt": "p"})
        accepted = ws.receive_json()
        while ws.receive_json()["type"] != "done":
            pass
    return str(accepted["run_id"])


def _create_token(c: TestClient, t: Tenant) -> str:
    response = c.post(f"/v1/tenants/{t.id}/tokens", json={"role": "viewer"}, headers=t.headers(Role.ADMIN))
    return str(response.json()["id"])


def _revoke_token(c: TestClient, t: Tenant) -> str:
    token = _create_token(c, t)
    assert c.delete(f"/v1/tenants/{t.id}/tokens/{token}", headers=t.headers(Role.ADMIN)).status_code == 204
    return token


def _export(c: TestClient, t: Tenant) -> str:
    assert c.get(f"/v1/tenants/{t.id}/export", headers=t.headers(Role.ADMIN)).status_code == 200
    return t.id


OPS = [
    pytest.param(Op("agent.create", "developer", _create_agent), id="agent-create"),
    pytest.param(Op("agent.update", "developer", _update_agent), id="agent-update"),
    pytest.param(Op("agent.delete", "admin", _delete_agent), id="agent-delete"),
    pytest.param(Op("run.create", "developer", _create_run), id="run-create-http"),
    pytest.param(Op("run.create", "developer", _create_run_ws), id="run-create-ws"),
    pytest.param(Op("token.create", "admin", _create_token), id="token-create"),
    pytest.param(Op("token.revoke", "admin", _revoke_token), id="token-revoke"),
    pytest.param(Op("tenant.export", "admin", _export), id="tenant-export"),
]


def _audit(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    """The whole audit log, following cursors (newest first)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = client.get(f"/v1/audit?limit=3{cursor}", headers=tenant.headers(Role.ADMIN)).json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


@pytest.mark.parametrize("op", OPS)
def test_mutation_leaves_an_audit_row(client: TestClient, op: Op) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    before = {e["id"] for e in _audit(client, tenant)}
    started = time.time()
    target = op.perform(client, tenant)
    new = [e for e in _audit(client, tenant) if e["id"] not in before and e["action"] == op.action]
    assert len(new) == 1, new
    entry = new[0]
    actor = "platform-admin" if op.actor == "platform-admin" else tenant.token_ids[Role(op.actor)]
    assert (entry["tenant_id"], entry["actor"], entry["target"]) == (tenant.id, actor, target)
    assert started - 1 <= entry["at"] <= time.time() + 1


def test_tenant_provisioning_is_audited_as_the_platform_admin(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.STARTER)
    entries = _audit(client, tenant)
    assert ("tenant.create", "platform-admin", tenant.id) in {
        (e["action"], e["actor"], e["target"]) for e in entries
    }
    minted = {
        e["target"] for e in entries if e["action"] == "token.create" and e["actor"] == "platform-admin"
    }
    assert minted == set(tenant.token_ids.values())


def test_reads_and_refusals_leave_no_audit_row(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    before = _audit(client, tenant)
    client.get("/v1/runs", headers=tenant.headers(Role.VIEWER))
    client.get("/v1/agents", headers=tenant.headers(Role.VIEWER))
    client.post("/v1/agents", json={"name": "no"}, headers=tenant.headers(Role.VIEWER))  # 403
    client.post("/v1/runs", json={}, headers=tenant.headers(Role.DEVELOPER))  # 422
    assert _audit(client, tenant) == before


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.VIEWER])
def test_audit_is_for_the_tenant_admin_only(client: TestClient, role: Role) -> None:
    tenant = create_tenant(client, Tier.TEAM)
    response = client.get("/v1/audit", headers=tenant.headers(role))
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


def test_platform_events_are_not_shown_to_tenants(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.TEAM)
    client.put("/v1/admin/faults", json={}, headers=ADMIN)
    assert all(e["action"] != "faults.set" for e in _audit(client, tenant))


def _populate(client: TestClient, tenant: Tenant) -> dict[str, set[str]]:
    agent = _create_agent(client, tenant)
    runs = [_create_run(client, tenant), _create_run_ws(client, tenant)]
    wait_runs(client, tenant.tokens[Role.VIEWER], runs)
    revoked = _revoke_token(client, tenant)
    return {"agents": {agent}, "runs": set(runs), "tokens": {*tenant.token_ids.values(), revoked}}


def test_export_contains_everything_held_about_the_tenant(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    other = create_tenant(client, Tier.ENTERPRISE, name="other")
    made = _populate(client, tenant)
    _populate(client, other)
    export = client.get(f"/v1/tenants/{tenant.id}/export", headers=tenant.headers(Role.ADMIN)).json()
    assert export["format_version"] == 1
    assert export["tenant"]["id"] == tenant.id
    assert {a["id"] for a in export["agents"]} == made["agents"]
    assert {r["id"] for r in export["runs"]} == made["runs"]
    assert all(r["status"] == "succeeded" and r["output"] for r in export["runs"])
    assert {t["id"] for t in export["tokens"]} == made["tokens"]
    assert all(not {"token", "token_hash"} & set(t) for t in export["tokens"])  # no secrets, not even hashed
    # The export holds as many rows as the database does, table by table (the export itself
    # adds one audit row after it is taken).
    counts = table_counts(settings_of(client), tenant.id)
    assert (counts["tenants"], counts["api_tokens"], counts["agents"], counts["runs"]) == (
        1,
        len(export["tokens"]),
        len(export["agents"]),
        len(export["runs"]),
    )
    assert counts["audit_events"] == len(export["audit"]) + 1
    assert {e["tenant_id"] for e in export["audit"]} == {tenant.id}
    assert set(counts) == {m.__tablename__ for m in TENANT_TABLES}


def test_deletion_leaves_nothing_and_touches_no_one_else(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    other = create_tenant(client, Tier.ENTERPRISE, name="other")
    _populate(client, tenant)
    _populate(client, other)
    settings = settings_of(client)
    assert all(n > 0 for n in table_counts(settings, tenant.id).values()), "nothing to delete: proves nothing"
    others_before = table_counts(settings, other.id)
    other_export = client.get(f"/v1/tenants/{other.id}/export", headers=ADMIN).json()

    assert client.delete(f"/v1/tenants/{tenant.id}", headers=ADMIN).status_code == 204

    assert table_counts(settings, tenant.id) == {m.__tablename__: 0 for m in TENANT_TABLES}
    for role in Role:  # tokens stop working at once (this worker drops its cache)
        assert client.get("/v1/runs", headers=tenant.headers(role)).status_code == 401
    assert client.get(f"/v1/tenants/{tenant.id}", headers=ADMIN).status_code == 404
    assert client.delete(f"/v1/tenants/{tenant.id}", headers=ADMIN).status_code == 404
    # the other tenant: same rows (plus the audit row of the export taken above), still working
    others_after = table_counts(settings, other.id)
    assert others_after == {**others_before, "audit_events": others_before["audit_events"] + 1}
    again = client.get(f"/v1/tenants/{other.id}/export", headers=ADMIN).json()
    assert (again["runs"], again["agents"], again["tokens"]) == (
        other_export["runs"],
        other_export["agents"],
        other_export["tokens"],
    )
    assert client.get("/v1/runs", headers=other.headers(Role.VIEWER)).status_code == 200
