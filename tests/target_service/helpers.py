"""Helpers shared by the reference target's tests (import them; fixtures are in conftest.py).

- ``ADMIN_TOKEN``: the platform admin token every ``settings_factory`` app uses.
- ``make_tenant(client, tier)``: a tenant plus one token per role, through the real API.
- ``bearer(token)``: the Authorization header.
- a real server in a thread (for timing and real WebSocket clients) is
  ``tests._servers.serve_in_thread``; the ``live_server`` fixtures in conftest.py use it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from target_service.config import ProviderSettings, Role, Settings, Tier
from target_service.db.models import TENANT_TABLES
from target_service.main import create_app

__all__ = [
    "ADMIN_TOKEN",
    "FAST_PROVIDER",
    "FINAL",
    "WEBSOCKET",
    "Tenant",
    "app_endpoints",
    "bearer",
    "create_tenant",
    "make_settings",
    "make_tenant",
    "module_client",
    "scrub_environ",
    "settings_of",
    "sqlite_path",
    "table_counts",
    "tenant_rows",
    "wait_runs",
]

ADMIN_TOKEN = "test-platform-admin-token"

FAST_PROVIDER = ProviderSettings(
    ttft_median_ms=2.0,
    ttft_p95_ms=5.0,
    token_median_ms=0.5,
    token_p95_ms=1.0,
    min_tokens=3,
    max_tokens=6,
    max_attempts=3,
    backoff_base_ms=5.0,
    backoff_cap_ms=20.0,
)
"""Milliseconds instead of the production-like 120 ms TTFT, so runs end quickly in tests."""


def make_settings(db_file: Path, **overrides: Any) -> Settings:
    """Settings for a test app: SQLite at ``db_file``, ``ADMIN_TOKEN``, ``FAST_PROVIDER``."""
    fields: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "database_url": f"sqlite+aiosqlite:///{db_file}",
        "provider": FAST_PROVIDER,
        "run_workers": 8,
        "run_timeout_s": 10.0,
    }
    fields.update(overrides)
    return Settings(**fields)


class _Client(Protocol):
    """What make_tenant needs: TestClient and httpx.Client both fit."""

    def post(
        self, url: str, *, json: object = ..., headers: dict[str, str] | None = ...
    ) -> httpx.Response: ...


def scrub_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``tests/conftest.py::clean_environ`` does, for module-scoped fixtures that run
    before it: no ``SLOGATE_*`` / ``PROMETHEUS_MULTIPROC_DIR`` from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("SLOGATE_") or name == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)


@contextmanager
def module_client(db_file: Path, **overrides: Any) -> Iterator[TestClient]:
    """An entered TestClient for a module-scoped fixture (environment scrubbed meanwhile)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        scrub_environ(monkeypatch)
        with TestClient(create_app(make_settings(db_file, **overrides))) as client:
            yield client


def settings_of(client: TestClient) -> Settings:
    settings: Settings = client.app.state.services.settings  # type: ignore[attr-defined]
    return settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    tokens: dict[Role, str]
    token_ids: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return bearer(self.tokens[role])


def make_tenant(
    client: _Client, tier: Tier | str = Tier.ENTERPRISE, *, admin_token: str = ADMIN_TOKEN, name: str = "acme"
) -> tuple[str, dict[Role, str]]:
    """Create a tenant and one token per role; return ``(tenant_id, {role: token})``."""
    tenant = create_tenant(client, tier, admin_token=admin_token, name=name)
    return tenant.id, tenant.tokens


def create_tenant(
    client: _Client, tier: Tier | str = Tier.ENTERPRISE, *, admin_token: str = ADMIN_TOKEN, name: str = "acme"
) -> Tenant:
    """Like :func:`make_tenant`, also keeping the token ids (for revocation tests)."""
    response = client.post("/v1/tenants", json={"name": name, "tier": str(tier)}, headers=bearer(admin_token))
    assert response.status_code == 201, response.text
    tenant_id = response.json()["id"]
    tokens: dict[Role, str] = {}
    token_ids: dict[Role, str] = {}
    for role in Role:
        created = client.post(
            f"/v1/tenants/{tenant_id}/tokens", json={"role": role.value}, headers=bearer(admin_token)
        )
        assert created.status_code == 201, created.text
        tokens[role] = created.json()["token"]
        token_ids[role] = created.json()["id"]
    return Tenant(tenant_id, tokens, token_ids)


# --- route enumeration ------------------------------------------------------------------

WEBSOCKET = "WS"


def app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """Every ``(method, path template)`` the app serves; WebSocket routes as ``("WS", path)``.

    FastAPI >= 0.16x nests included routers (``_IncludedRouter``); ``iter_route_contexts``
    flattens them. Older versions list the routes directly. HEAD (added by Starlette for
    GET) is left out: it is the GET route.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI < 0.160: routes are flat
        routes: list[Any] = list(app.routes)
    else:
        routes = list(iter_route_contexts(app.routes))
    endpoints: set[tuple[str, str]] = set()
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        methods = getattr(route, "methods", None)
        if methods is None:
            endpoints.add((WEBSOCKET, path))
        else:
            endpoints.update((m, path) for m in methods if m != "HEAD")
    return endpoints


# --- waiting for runs (event-driven: the WebSocket's "done", never a sleep) -------------

FINAL = ("succeeded", "failed")


def wait_runs(client: TestClient, token: str, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Follow each run over one WebSocket session until its ``done`` message arrives."""
    done: dict[str, dict[str, Any]] = {}
    with client.websocket_connect("/v1/sessions/ws", headers=bearer(token)) as ws:
        for run_id in run_ids:
            ws.send_json({"type": "subscribe", "run_id": run_id, "ref": run_id})
        while len(done) < len(set(run_ids)):
            message = ws.receive_json()
            assert message["type"] in ("accepted", "token", "done"), message
            if message["type"] == "done":
                done[message["run_id"]] = message
    for message in done.values():
        assert message["status"] in FINAL, f"'done' for a run that has not ended: {message}"
    return done


# --- the database, read directly (not through the API under test) ----------------------


def sqlite_path(settings: Settings) -> Path:
    prefix = "sqlite+aiosqlite:///"
    assert settings.database_url.startswith(prefix), settings.database_url
    return Path(settings.database_url[len(prefix) :])


def tenant_rows(settings: Settings, tenant_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row carrying ``tenant_id``, per table of ``TENANT_TABLES``, in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with closing(sqlite3.connect(sqlite_path(settings))) as conn:
        for model in TENANT_TABLES:
            table = model.__tablename__
            cursor = conn.execute(f"SELECT * FROM {table} WHERE tenant_id = ?", (tenant_id,))
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


def table_counts(settings: Settings, tenant_id: str) -> dict[str, int]:
    return {table: len(rows) for table, rows in tenant_rows(settings, tenant_id).items()}
