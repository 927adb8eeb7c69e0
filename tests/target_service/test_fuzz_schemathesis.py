"""The reference target keeps its own OpenAPI contract: schemathesis, every check, stateful.

schemathesis' CLI (``schemathesis run --checks all``) runs in a subprocess against a real
uvicorn server serving ``/openapi.json``, once per identity, because they reach different
code: the platform admin (tenants, tokens, export, erasure, faults) and a tenant admin
(runs, agents, audit, and its own tenant's routes, with ``tenant_id`` pinned to it so they
answer 200 rather than 404). Every phase runs -- the schema's examples, coverage (boundary
values, missing and wrong-typed fields, methods the path does not have), random fuzzing,
and **stateful** sequences that follow the OpenAPI links from each create operation to the
reads, updates and deletes of what it created -- with **all** checks (status codes,
headers, bodies and content types as documented, RFC 9110 ``Allow``, schema-valid requests
accepted and invalid ones refused, no 5xx, auth enforced, no use after delete, a created
object readable). The test fails on any failure or error schemathesis reports.

The CLI rather than the pytest plugin: only the CLI's engine runs the coverage phase's
method probes and the stateful phase with every check in one call; its JSON report is
read for the verdict, and the server's own ``slogate_http_requests_total`` for how many
requests it really got (and that the links reached existing objects: 2xx on ``{id}``
routes).

``PUT /v1/admin/faults`` is left out: a fuzzed stall or database-down fault would freeze the
server under test. Its GET is fuzzed. Budget: ``MAX_EXAMPLES`` cases per operation and
phase: about 1,500 test cases (and as many requests) per identity, ~70 s for the module on
a shared 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from target_service.config import Role, Settings, Tier
from target_service.main import create_app
from tests._servers import LiveServer, serve_in_thread

from .helpers import ADMIN_TOKEN, create_tenant, make_settings, scrub_environ

MAX_EXAMPLES = 50
SEED = 20240601  # reproducible in CI; change it locally to explore further
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
TIMEOUT_S = 600
# the suite-wide 120 s would cut the run short of its own bound on a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S + 60)]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real uvicorn server for the module (both identities fuzz the same service)."""
    app_settings = make_settings(tmp_path_factory.mktemp("fuzz") / "target.db")
    with pytest.MonkeyPatch.context() as monkeypatch:
        scrub_environ(monkeypatch)
        with serve_in_thread(create_app(app_settings)) as server:
            yield server


def _requests_by_route(server: LiveServer) -> dict[tuple[str, str, str], float]:
    """``slogate_http_requests_total`` summed over tier and tenant, by (route, method, status)."""
    text = httpx.get(server.url + "/metrics", timeout=10).text
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "slogate_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = (sample.labels["route"], sample.labels["method"], sample.labels["status"])
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def _schemathesis(server: LiveServer, token: str, workdir: Path, config: str = "") -> dict[str, Any]:
    """Run the CLI with every check and phase; return its JSON report."""
    config_file = workdir / "schemathesis.toml"
    # 413 refuses an over-long body as surely as 422 does (schemathesis' list omits it).
    config_file.write_text(
        "[checks.negative_data_rejection]\n"
        "expected-statuses = "
        '["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]\n'
        + config
    )
    report = workdir / "report.json"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config_file),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {token}",
        "--exclude-operation-id",
        "putFaults",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    done = subprocess.run(  # cwd: schemathesis keeps a cache directory (.schemathesis/) there
        command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False, cwd=workdir
    )
    assert report.exists(), done.stdout[-4000:] + done.stderr[-2000:]
    document: dict[str, Any] = json.loads(report.read_text())
    (workdir / "output.txt").write_text(done.stdout)
    failures = done.stdout.find("FAILURES")
    # the failures section, without the (possibly huge) reproduction commands
    document["_output"] = "\n".join(
        line[:300] for line in done.stdout[max(failures, 0) :].splitlines() if not line.startswith("    curl")
    )[:6000]
    return document


def _assert_clean(report: dict[str, Any]) -> None:
    output = report["_output"]
    assert report["failures"] == [], output
    assert report["errors"] == [], output
    assert report["exit_code"] == 0, output
    assert report["complete"], output
    phases = report["phases"]
    for phase in ("coverage", "fuzzing", "stateful"):
        assert phases[phase]["status"] == "success", (phase, phases, output)
    assert report["operations"]["tested"] >= 19, report["operations"]  # 20 operations, PUT faults out


def test_schemathesis_all_checks_as_platform_admin(fuzz_server: LiveServer, tmp_path: Path) -> None:
    before = _requests_by_route(fuzz_server)
    report = _schemathesis(fuzz_server, ADMIN_TOKEN, tmp_path)
    after = _requests_by_route(fuzz_server)
    _assert_clean(report)
    sent = sum(after.values()) - sum(before.values())
    print(f"platform admin: {report['test_cases']['generated']} test cases, {sent:.0f} requests served")
    # The stateful phase followed the links: tenants created by POST were read, exported and
    # erased, and the tokens minted there revoked.
    for route, method, ok in [
        ("/v1/tenants/{tenant_id}", "GET", "200"),
        ("/v1/tenants/{tenant_id}/export", "GET", "200"),
        ("/v1/tenants/{tenant_id}", "DELETE", "204"),
        ("/v1/tenants/{tenant_id}/tokens/{token_id}", "DELETE", "204"),
    ]:
        assert after.get((route, method, ok), 0) > before.get((route, method, ok), 0), (route, method)


def test_schemathesis_all_checks_as_tenant_admin(fuzz_server: LiveServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=fuzz_server.url, timeout=10) as client:
        tenant = create_tenant(client, Tier.ENTERPRISE, name="fuzzed")
    before = _requests_by_route(fuzz_server)
    report = _schemathesis(
        fuzz_server,
        tenant.tokens[Role.ADMIN],
        tmp_path,
        config=f'[parameters]\n"path.tenant_id" = "{tenant.id}"\n',
    )
    after = _requests_by_route(fuzz_server)
    _assert_clean(report)
    sent = sum(after.values()) - sum(before.values())
    print(f"tenant admin: {report['test_cases']['generated']} test cases, {sent:.0f} requests served")
    for route, method, ok in [
        ("/v1/agents/{agent_id}", "GET", "200"),
        ("/v1/agents/{agent_id}", "PATCH", "200"),
        ("/v1/agents/{agent_id}", "DELETE", "204"),
        ("/v1/runs/{run_id}", "GET", "200"),
        ("/v1/tenants/{tenant_id}/tokens", "GET", "200"),
    ]:
        assert after.get((route, method, ok), 0) > before.get((route, method, ok), 0), (route, method)


def test_largest_schema_valid_body_fits_under_the_body_limit() -> None:
    """A request valid by the schema must not be a 413: the worst-case JSON encoding of each
    create/update body at its maxLengths (astral characters, escaped) fits ``max_body_bytes``."""
    astral = "\U0001f600"  # json.dumps escapes it as a 12-byte surrogate pair
    bodies = {
        "AgentCreate": {"name": astral * 200, "model": astral * 100, "system_prompt": astral * 8000},
        "RunCreate": {"prompt": astral * 8000, "agent_id": astral * 40, "max_tokens": 4096},
        "TenantCreate": {"name": astral * 200, "tier": "enterprise"},
    }
    limit = Settings.model_fields["max_body_bytes"].default
    for name, body in bodies.items():
        assert len(json.dumps(body)) < limit, name


def test_contract_declares_every_error_with_its_body() -> None:
    """What the fuzzer relies on, checked on the document itself: every non-2xx response has
    the ErrorOut body (readiness its own), 401 comes with the bearer scheme, creates link on."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        document = create_app(make_settings(Path(tmp) / "unused.db")).openapi()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "413" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith("2"):
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[-1] in {"ErrorOut", "Readiness"}, (method, path, status)
            if "401" in responses:
                assert operation["security"] == [{"bearer": []}], (method, path)
                assert "429" in responses and "503" in responses, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
    linked = {
        op["operationId"]: sorted(
            link["operationId"] for r in op["responses"].values() for link in r.get("links", {}).values()
        )
        for ops in document["paths"].values()
        for op in ops.values()
    }
    assert linked["createAgent"] == ["deleteAgent", "getAgent", "updateAgent"]
    assert linked["createRun"] == ["getRun"]
    assert linked["createToken"] == ["revokeToken"]
    assert set(linked["createTenant"]) == {
        "getTenant",
        "createToken",
        "listTokens",
        "exportTenant",
        "deleteTenant",
    }
