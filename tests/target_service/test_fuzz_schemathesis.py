"""API fuzzing with schemathesis against a real running server.

Two identities, because they reach different code: the platform admin (tenant management,
faults) and a tenant admin (runs, agents, audit, its own tenant's tokens and export). For
every operation schemathesis sends the schema's examples, boundary values (coverage phase)
and random valid and invalid inputs to a real uvicorn server, and checks two properties of
every response: no 5xx, and status code, headers and body as the schema documents them.

The schema is built from the app at import time, because pytest must know the operations to
collect them; ``test_fuzzed_schema_is_the_served_one`` checks that it is exactly what the
running server publishes at ``/openapi.json``. (schemathesis's lazy ``from_fixture`` loader
would fetch it from the server instead, but it does not work with pytest 9.2.)

``PUT /v1/admin/faults`` is left out: a fuzzed stall or database-down fault would freeze the
server under test. Its GET is fuzzed.
Budget: at most ``MAX_EXAMPLES`` generated cases per operation and identity (~20 s in all).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from target_service.config import Role, Tier
from target_service.main import create_app

from .helpers import (
    ADMIN_TOKEN,
    LiveServer,
    bearer,
    create_tenant,
    make_settings,
    scrub_environ,
    serve_in_thread,
)

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance]
SEED = 20240601  # reproducible in CI; change it locally to explore further


def _published_schema() -> dict[str, Any]:
    """The OpenAPI document of the service (building the app does no I/O)."""
    with tempfile.TemporaryDirectory() as tmp:
        document: dict[str, Any] = create_app(make_settings(Path(tmp) / "unused.db")).openapi()
    return document


OPENAPI = _published_schema()
schema = schemathesis.openapi.from_dict(
    OPENAPI,
    config=SchemathesisConfig.from_dict({"generation": {"max-examples": MAX_EXAMPLES}, "seed": SEED}),
).exclude(method="PUT", path="/v1/admin/faults")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real uvicorn server for the module (both identities fuzz the same service)."""
    app_settings = make_settings(tmp_path_factory.mktemp("fuzz") / "target.db")
    with pytest.MonkeyPatch.context() as monkeypatch:
        scrub_environ(monkeypatch)
        with serve_in_thread(create_app(app_settings)) as server:
            yield server


@pytest.fixture(scope="module")
def tenant_admin_token(fuzz_server: LiveServer) -> str:
    with httpx.Client(base_url=fuzz_server.url, timeout=10) as client:
        tenant = create_tenant(client, Tier.ENTERPRISE, name="fuzzed")
    return tenant.tokens[Role.ADMIN]


def test_fuzzed_schema_is_the_served_one(fuzz_server: LiveServer) -> None:
    assert httpx.get(fuzz_server.url + "/openapi.json", timeout=10).json() == OPENAPI


@schema.parametrize()
@settings(database=None, deadline=None)  # no .hypothesis/ directory; loopback timing varies
def test_fuzz_as_platform_admin(case: Any, fuzz_server: LiveServer) -> None:
    case.call_and_validate(base_url=fuzz_server.url, headers=bearer(ADMIN_TOKEN), checks=CHECKS)


@schema.parametrize()
@settings(database=None, deadline=None)
def test_fuzz_as_tenant_admin(case: Any, fuzz_server: LiveServer, tenant_admin_token: str) -> None:
    case.call_and_validate(base_url=fuzz_server.url, headers=bearer(tenant_admin_token), checks=CHECKS)
