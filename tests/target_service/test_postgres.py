"""The PostgreSQL path: main flows on a real server, and row-level security as the second guard.

Every test runs against the real PostgreSQL on 127.0.0.1:5432, in a database created for this
test session (``pg_url``). The RLS tests bypass the routes on purpose: they open the service's
own ``Database.tenant_session`` and issue the queries a buggy route would issue (no tenant
filter), to show that the database itself refuses to leak or touch another tenant's rows.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from websockets.sync.client import connect as ws_connect

from target_service.config import Role, Tier
from target_service.db.engine import APP_ROLE, Database
from target_service.db.models import TENANT_TABLES, Agent, ApiToken, AuditEvent, Base, Run, Tenant, new_id
from tests._servers import LiveServer

from ._pg_redis_fixtures import fresh_pg_database, pg_fetch, pg_url, postgres_down_reason
from .helpers import ADMIN_TOKEN, bearer, create_tenant

pytestmark = pytest.mark.postgres

__all__ = ["pg_url"]  # the imported fixture is used by name

_RLS_VIOLATION = "42501"  # insufficient_privilege: "new row violates row-level security policy"


# ---------------------------------------------------------------------------------------------
# main flows through the real HTTP and WebSocket API


@pytest.fixture
def pg_server(pg_url: str, live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(database_url=pg_url)


def _follow(server: LiveServer, token: str, message: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Send one message on a new session; return the final ``done`` and the token texts."""
    with ws_connect(
        server.ws_url + "/v1/sessions/ws", additional_headers=bearer(token), open_timeout=10
    ) as ws:
        ws.send(json.dumps(message))
        texts: list[str] = []
        while True:
            event = json.loads(ws.recv(timeout=20))
            assert event["type"] != "error", event
            if event["type"] == "token":
                texts.append(event["text"])
            elif event["type"] == "done":
                return event, texts


def test_main_flows_on_postgres(pg_url: str, pg_server: LiveServer) -> None:
    """Tenant, tokens, an HTTP run and a WebSocket prompt to the end, export, erasure."""
    with httpx.Client(base_url=pg_server.url, timeout=20) as client:
        tenant = create_tenant(client, Tier.TEAM, name="pg-flows")
        other = create_tenant(client, Tier.STARTER, name="pg-bystander")
        dev = tenant.headers(Role.DEVELOPER)

        created = client.post("/v1/runs", json={"prompt": "summarise the quarter"}, headers=dev)
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        assert created.json()["status"] == "queued"
        # Follow the HTTP run over a session (subscribe) instead of polling for its end.
        done, _ = _follow(pg_server, tenant.tokens[Role.VIEWER], {"type": "subscribe", "run_id": run_id})
        assert done["status"] == "succeeded", done
        fetched = client.get(f"/v1/runs/{run_id}", headers=tenant.headers(Role.VIEWER)).json()
        assert fetched["status"] == "succeeded" and fetched["output"] and fetched["finished_at"]

        done, texts = _follow(pg_server, tenant.tokens[Role.DEVELOPER], {"type": "prompt", "prompt": "hi"})
        assert done["status"] == "succeeded" and texts
        ws_run = client.get(f"/v1/runs/{done['run_id']}", headers=dev).json()
        assert ws_run["source"] == "ws" and ws_run["output"] == "".join(texts)

        other_run = client.post("/v1/runs", json={"prompt": "x"}, headers=other.headers(Role.DEVELOPER))
        assert other_run.status_code == 202
        assert client.get(f"/v1/runs/{other_run.json()['id']}", headers=dev).status_code == 404

        export = client.get(f"/v1/tenants/{tenant.id}/export", headers=tenant.headers(Role.ADMIN))
        assert export.status_code == 200, export.text
        body = export.json()
        assert {r["id"] for r in body["runs"]} == {run_id, done["run_id"]}
        assert {t["role"] for t in body["tokens"]} == {r.value for r in Role}
        assert {"tenant.create", "run.create"} <= {e["action"] for e in body["audit"]}

        assert (
            client.delete(f"/v1/tenants/{tenant.id}", headers=bearer(ADMIN_TOKEN)).status_code
            == 204
        )
        assert client.get("/v1/runs", headers=dev).status_code == 401  # its tokens died with it

    # Counted as the superuser, which RLS does not restrict: nothing of the tenant is left,
    # and the bystander tenant lost nothing.
    for model in TENANT_TABLES:
        table = model.__tablename__
        left = pg_fetch(pg_url, f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1", tenant.id)
        assert left[0]["n"] == 0, f"{table} still holds rows of the erased tenant"
    kept = pg_fetch(pg_url, "SELECT count(*) AS n FROM runs WHERE tenant_id = $1", other.id)
    assert kept[0]["n"] == 1


# ---------------------------------------------------------------------------------------------
# row-level security: a query that forgot its tenant filter


async def _seed(db: Database, tenants: dict[str, int]) -> None:
    """Each tenant with a token, an agent, ``n`` runs and an audit event (system scope)."""
    async with db.system_session() as session:
        for tenant_id, runs in tenants.items():
            session.add(Tenant(id=tenant_id, tenant_id=tenant_id, name=tenant_id, tier="team"))
            await session.flush()
            session.add(ApiToken(id=new_id("tok"), tenant_id=tenant_id, role="admin", token_hash=new_id("h")))
            session.add(Agent(id=new_id("agt"), tenant_id=tenant_id, name="a", model="m"))
            session.add(AuditEvent(tenant_id=tenant_id, actor="test", action="seed", target=tenant_id))
            for i in range(runs):
                session.add(Run(id=new_id("run"), tenant_id=tenant_id, prompt=f"p{i}", status="queued"))


@pytest.fixture
def two_tenants(pg_url: str) -> Iterator[tuple[Database, str, str]]:
    """The service's Database on the test database, with tenants A (3 runs) and B (2 runs)."""
    a, b = new_id("ten"), new_id("ten")
    db = Database(pg_url, pool_size=2)

    async def setup() -> None:
        await db.create_schema()
        await _seed(db, {a: 3, b: 2})
        await db.dispose()  # each test's asyncio.run gets a pool of its own loop

    asyncio.run(setup())
    yield db, a, b
    asyncio.run(db.dispose())


def _run(db: Database, coro_fn: Callable[[], Any]) -> Any:
    async def main() -> Any:
        try:
            return await coro_fn()
        finally:
            await db.dispose()

    return asyncio.run(main())


@pytest.mark.parametrize("model", TENANT_TABLES, ids=lambda m: m.__tablename__)
def test_rls_unfiltered_select_sees_only_own_tenant(
    two_tenants: tuple[Database, str, str], model: type[Base]
) -> None:
    db, a, b = two_tenants

    async def unfiltered() -> list[str]:
        async with db.tenant_session(a) as session:
            return list(await session.scalars(select(model.tenant_id).distinct()))  # type: ignore[attr-defined]

    assert _run(db, unfiltered) == [a]
    # The rows of B exist: a superuser (which bypasses RLS) sees them.
    table = model.__tablename__
    assert pg_fetch(db.url, f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1", b)[0]["n"] >= 1


def test_rls_unfiltered_select_run_returns_only_a(two_tenants: tuple[Database, str, str]) -> None:
    db, a, b = two_tenants

    async def both() -> tuple[list[Run], list[Run]]:
        async with db.tenant_session(a) as session:
            seen_a = list(await session.scalars(select(Run)))
        async with db.tenant_session(b) as session:
            seen_b = list(await session.scalars(select(Run)))
        return seen_a, seen_b

    seen_a, seen_b = _run(db, both)
    assert len(seen_a) == 3 and {r.tenant_id for r in seen_a} == {a}
    assert len(seen_b) == 2 and {r.tenant_id for r in seen_b} == {b}


def test_rls_unfiltered_update_and_delete_cannot_touch_other_tenant(
    two_tenants: tuple[Database, str, str],
) -> None:
    db, a, b = two_tenants

    async def damage() -> tuple[int, int]:
        async with db.tenant_session(a) as session:
            updated = (await session.execute(update(Run).values(status="failed", reason="bug"))).rowcount  # type: ignore[attr-defined]
        async with db.tenant_session(a) as session:
            deleted = (await session.execute(delete(Run))).rowcount  # type: ignore[attr-defined]
        return updated, deleted

    assert _run(db, damage) == (3, 3)  # exactly A's rows, both times
    rows = pg_fetch(db.url, "SELECT tenant_id, status FROM runs WHERE tenant_id IN ($1, $2)", a, b)
    assert [(r["tenant_id"], r["status"]) for r in rows] == [(b, "queued"), (b, "queued")]


@pytest.mark.parametrize("how", ["insert", "update_moves_row"])
def test_rls_with_check_refuses_writing_other_tenants_rows(
    two_tenants: tuple[Database, str, str], how: str
) -> None:
    db, a, b = two_tenants

    async def write() -> None:
        async with db.tenant_session(a) as session:
            if how == "insert":
                await session.execute(
                    insert(Run).values(id=new_id("run"), tenant_id=b, prompt="planted", status="queued")
                )
            else:
                await session.execute(update(Run).values(tenant_id=b))

    with pytest.raises(DBAPIError) as refused:
        _run(db, write)
    assert getattr(refused.value.orig, "sqlstate", None) == _RLS_VIOLATION, refused.value
    assert "row-level security" in str(refused.value)
    counts = pg_fetch(
        db.url,
        "SELECT tenant_id, count(*) AS n FROM runs WHERE tenant_id IN ($1, $2) GROUP BY tenant_id",
        a,
        b,
    )
    assert {r["tenant_id"]: r["n"] for r in counts} == {a: 3, b: 2}


def test_rls_connection_without_tenant_sees_nothing(two_tenants: tuple[Database, str, str]) -> None:
    """A query on a bare pooled connection (no tenant or system scope set) sees no rows."""
    db, _, _ = two_tenants

    async def bare() -> int:
        async with db.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(Run)) or 0)

    assert _run(db, bare) == 0


def test_rls_survives_rollback_on_a_fresh_connection(two_tenants: tuple[Database, str, str]) -> None:
    """Regression: the role switch used to run inside the first transaction, so the first
    rollback on a new connection (any 404 in a route) made it the superuser again."""
    db, a, _ = two_tenants

    class Boom(Exception):
        pass

    async def after_rollback() -> tuple[str, int]:
        with pytest.raises(Boom):
            async with db.tenant_session(a) as session:
                await session.execute(text("SELECT 1"))
                raise Boom
        async with db.tenant_session(a) as session:  # the same pooled connection
            user = str(await session.scalar(text("SELECT current_user")))
            count = int(await session.scalar(select(func.count()).select_from(Run)) or 0)
        return user, count

    assert _run(db, after_rollback) == (APP_ROLE, 3)


def test_app_runs_as_unprivileged_role(pg_url: str, client_factory: Callable[..., TestClient]) -> None:
    """The URL's user is a superuser, the service's queries run as ``slogate_app``."""
    client = client_factory(database_url=pg_url)
    tenant = create_tenant(client, Tier.TEAM, name="role-check")
    viewer = tenant.headers(Role.VIEWER)
    db: Database = client.app.state.services.db  # type: ignore[attr-defined]
    assert client.portal is not None
    assert client.get("/v1/runs", headers=viewer).status_code == 200  # token now cached
    client.portal.call(db.engine.dispose)
    # The new connection's first transaction is rolled back (404): that must not undo the
    # role switch, or every later query on it would bypass row-level security.
    assert client.get("/v1/runs/run_missing", headers=viewer).status_code == 404

    async def who() -> list[tuple[str, str, bool, bool, bool]]:
        out = []
        for _ in range(3):  # several checkouts: every pooled connection acts as the app role
            async with db.tenant_session(tenant.id) as session:
                row = (
                    await session.execute(
                        text(
                            "SELECT current_user, session_user, "
                            "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user), "
                            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
                            "(SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)"
                        )
                    )
                ).one()
                out.append(tuple(row))
        return out

    for current, session_user, session_super, current_super, bypass in client.portal.call(who):
        assert (current, session_user) == (APP_ROLE, "postgres")
        assert session_super and not current_super and not bypass


def _create_schema_in_process(url: str, barrier: Any) -> None:
    barrier.wait(timeout=30)  # both processes issue their DDL at the same moment
    db = Database(url, pool_size=1)

    async def main() -> None:
        try:
            await db.create_schema()
        finally:
            await db.dispose()

    asyncio.run(main())


def test_schema_creation_concurrent_and_idempotent() -> None:
    reason = postgres_down_reason()
    if reason is not None:
        pytest.skip(reason)
    with fresh_pg_database("slogate_test_ddl_") as url:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(2)
        workers = [ctx.Process(target=_create_schema_in_process, args=(url, barrier)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0, 0]
        _create_schema_in_process(url, _NoBarrier())  # a third start on an existing schema

        tables = [m.__tablename__ for m in TENANT_TABLES]
        rls = pg_fetch(
            url,
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1)",
            tables,
        )
        assert sorted((r["relname"], r["relrowsecurity"], r["relforcerowsecurity"]) for r in rls) == sorted(
            (t, True, True) for t in tables
        )
        policies = pg_fetch(url, "SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'")
        assert sorted((p["tablename"], p["policyname"]) for p in policies) == sorted(
            (t, "tenant_isolation") for t in tables
        )


class _NoBarrier:
    def wait(self, timeout: float | None = None) -> int:
        return 0
