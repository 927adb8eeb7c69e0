# ruff: noqa: E501  (case tables keep one case per row, unwrapped, so they read as tables)
"""Bad input is a 4xx whose ``detail`` names what was wrong, never a 5xx.

One table of malformed requests (bad JSON, wrong types, unknown and missing fields, an
oversized body, a prompt over the configured limit, a forged cursor, bad query parameters,
an unknown route, a wrong method), each with the status, the ``error`` code and a fragment
the ``detail`` must contain, so a message that stopped saying *what* was wrong fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from target_service.config import Role, Tier

from .helpers import ADMIN_TOKEN, Tenant, bearer, create_tenant, module_client

MAX_BODY = 16384
MAX_PROMPT = 100


@dataclass(frozen=True)
class World:
    client: TestClient
    tenant: Tenant
    agent: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db_file: Path = tmp_path_factory.mktemp("badinput") / "target.db"
    with module_client(db_file, max_body_bytes=MAX_BODY, max_prompt_chars=MAX_PROMPT) as client:
        tenant = create_tenant(client, Tier.ENTERPRISE)
        agent = client.post("/v1/agents", json={"name": "a"}, headers=tenant.headers(Role.ADMIN)).json()["id"]
        yield World(client, tenant, agent)


@dataclass(frozen=True)
class Bad:
    method: str
    path: str
    status: int
    error: str
    detail: str  # must appear in the answer's detail
    json: Any = None
    content: bytes | Callable[[], Iterator[bytes]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    as_platform_admin: bool = False


def _chunks(total: int) -> Callable[[], Iterator[bytes]]:
    """A body without Content-Length (chunked): the limit must be enforced on what arrives."""

    def gen() -> Iterator[bytes]:
        for _ in range(total // 1024):
            yield b" " * 1024

    return gen


JSON = {"content-type": "application/json"}

CASES = [
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "JSON decode error",
                     content=b'{"prompt": "unterminated', headers=JSON), id="bad-json"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body: Input should be a valid dictionary",
                     content=b'["a", "list"]', headers=JSON), id="json-not-an-object"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.prompt: Input should be a valid string",
                     json={"prompt": 42}), id="wrong-type-prompt"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.max_tokens: Input should be a valid integer",
                     json={"prompt": "p", "max_tokens": "many"}), id="wrong-type-max-tokens"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request",
                     "body.max_tokens: Input should be less than or equal to 4096",
                     json={"prompt": "p", "max_tokens": 5000}), id="max-tokens-too-big"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.temperature: Extra inputs are not permitted",
                     json={"prompt": "p", "temperature": 0.2}), id="unknown-field"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.prompt: Field required", json={}),
                 id="missing-field"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.prompt: String should have at least 1 character",
                     json={"prompt": "   "}), id="blank-prompt"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", f"more than this service's limit of {MAX_PROMPT}",
                     json={"prompt": "x" * (MAX_PROMPT + 1)}), id="prompt-over-configured-limit"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body.prompt: String should have at most 8000",
                     json={"prompt": "x" * 8001}, content=None), id="prompt-over-hard-ceiling"),
    pytest.param(Bad("POST", "/v1/runs", 413, "payload_too_large", f"request body larger than {MAX_BODY} bytes",
                     json={"prompt": "x" * (MAX_BODY + 10)}), id="oversized-body"),
    pytest.param(Bad("POST", "/v1/runs", 413, "payload_too_large", f"request body larger than {MAX_BODY} bytes",
                     content=_chunks(2 * MAX_BODY), headers=JSON), id="oversized-chunked-body"),
    pytest.param(Bad("POST", "/v1/runs", 404, "not_found", "agent 'agt_nope' not found",
                     json={"prompt": "p", "agent_id": "agt_nope"}), id="unknown-agent"),
    pytest.param(Bad("GET", "/v1/runs?cursor=not-a-cursor", 422, "invalid_request", "query.cursor: String should match pattern"),
                 id="bad-cursor"),
    pytest.param(Bad("GET", "/v1/audit?cursor=1.5~run_0123456789abcdef0123456789abcdef", 422, "invalid_request", "query.cursor: String should match pattern"),
                 id="cursor-with-wrong-key-type"),
    pytest.param(Bad("POST", "/v1/runs", 422, "invalid_request", "body: There was an error parsing the body",
                     content=b"\xff\xfe{", headers=JSON), id="body-not-utf8"),
    pytest.param(Bad("GET", "/v1/runs?limit=0", 422, "invalid_request",
                     "query.limit: Input should be greater than or equal to 1"), id="limit-zero"),
    pytest.param(Bad("GET", "/v1/agents?limit=many", 422, "invalid_request",
                     "query.limit: Input should be a valid integer"), id="limit-not-int"),
    pytest.param(Bad("GET", "/v1/runs?status=lost", 422, "invalid_request", "query.status: String should match"),
                 id="bad-status-filter"),
    pytest.param(Bad("GET", "/v1/runs?cursor=" + "A" * 201, 422, "invalid_request",
                     "query.cursor: String should have at most 200"), id="huge-cursor"),
    pytest.param(Bad("PATCH", "/v1/agents/{AGENT}", 422, "invalid_request", "body.name: Input should be a valid string",
                     json={"name": ["x"]}), id="patch-wrong-type"),
    pytest.param(Bad("PATCH", "/v1/agents/{AGENT}", 422, "invalid_request", "body.id: Extra inputs are not permitted",
                     json={"id": "agt_mine"}), id="patch-immutable-field"),
    pytest.param(Bad("POST", "/v1/tenants", 422, "invalid_request", "body.tier: Input should be 'starter'",
                     json={"name": "n", "tier": "platinum"}, as_platform_admin=True), id="unknown-tier"),
    pytest.param(Bad("POST", "/v1/tenants/{T}/tokens", 422, "invalid_request", "body.role: Input should be 'admin'",
                     json={"role": "owner"}), id="unknown-role"),
    pytest.param(Bad("PUT", "/v1/admin/faults", 422, "invalid_request",
                     "body.error_rate: Input should be less than or equal to 1",
                     json={"error_rate": 2}, as_platform_admin=True), id="fault-rate-over-one"),
    pytest.param(Bad("PUT", "/v1/admin/faults", 422, "invalid_request", "body.provider: Input should be 'ok'",
                     json={"provider": "flaky"}, as_platform_admin=True), id="fault-unknown-mode"),
    pytest.param(Bad("GET", "/v1/nothing-here", 404, "not_found", "Not Found"), id="unknown-route"),
    pytest.param(Bad("PUT", "/v1/runs", 405, "method_not_allowed", "allowed: GET, OPTIONS, POST"), id="wrong-method"),
    pytest.param(Bad("DELETE", "/v1/runs/{RUN}", 405, "method_not_allowed", "allowed: GET, OPTIONS"),
                 id="runs-cannot-be-deleted"),
]  # fmt: skip


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_a_4xx_that_says_what_was_wrong(world: World, bad: Bad) -> None:
    headers = bearer(ADMIN_TOKEN) if bad.as_platform_admin else world.tenant.headers(Role.ADMIN)
    path = bad.path.format(T=world.tenant.id, AGENT=world.agent, RUN="run_x")
    content = bad.content() if callable(bad.content) else bad.content
    response = world.client.request(
        bad.method, path, json=bad.json, content=content, headers={**headers, **bad.headers}
    )
    assert response.status_code == bad.status, response.text
    body = response.json()
    assert body["error"] == bad.error, body
    assert bad.detail in body["detail"], body
    if bad.status == 422 and bad.error == "invalid_request" and "limit of" not in bad.detail:
        assert body["errors"] and all({"loc", "msg", "type"} <= set(e) for e in body["errors"]), body


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/agents", "GET, OPTIONS, POST"),
        ("/v1/agents/{AGENT}", "DELETE, GET, OPTIONS, PATCH"),
        ("/v1/tenants/{T}", "DELETE, GET, OPTIONS"),
        ("/v1/tenants/{T}/tokens", "GET, OPTIONS, POST"),
        ("/v1/admin/faults", "GET, OPTIONS, PUT"),
        ("/healthz", "GET, OPTIONS"),
    ],
)
def test_options_and_405_list_every_method_of_the_resource(world: World, path: str, allow: str) -> None:
    """RFC 9110: OPTIONS answers 204 with ``Allow`` (no token needed), and a 405 carries the
    same ``Allow`` -- every method the path serves, not only those of the first route matched."""
    url = path.format(T=world.tenant.id, AGENT=world.agent)
    options = world.client.options(url)
    assert options.status_code == 204, options.text
    assert options.headers["allow"] == allow
    assert options.content == b""
    wrong = world.client.request("TRACE", url, headers=world.tenant.headers(Role.ADMIN))
    assert wrong.status_code == 405, wrong.text
    assert wrong.headers["allow"] == allow
    assert wrong.json()["error"] == "method_not_allowed"


def test_options_on_an_unknown_path_is_404(world: World) -> None:
    assert world.client.options("/v1/nothing-here").status_code == 404


def test_refused_run_leaves_no_row(world: World) -> None:
    """A run refused for its input is not stored (nor half-stored) and holds no queue place."""
    headers = world.tenant.headers(Role.ADMIN)
    before = world.client.get("/v1/runs?limit=200", headers=headers).json()["items"]
    world.client.post("/v1/runs", json={"prompt": "x" * (MAX_PROMPT + 1)}, headers=headers)
    world.client.post("/v1/runs", json={"prompt": "p", "agent_id": "agt_nope"}, headers=headers)
    after = world.client.get("/v1/runs?limit=200", headers=headers).json()["items"]
    assert after == before
    services = world.client.app.state.services  # type: ignore[attr-defined]
    assert services.executor._reserved == 0


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        pytest.param("not json", "Invalid JSON", id="not-json"),
        pytest.param('{"type": "dance"}', "does not match any of the expected tags", id="unknown-type"),
        pytest.param('{"type": "prompt"}', "prompt.prompt: Field required", id="missing-prompt"),
        pytest.param('{"type": "prompt", "prompt": 1}', "prompt.prompt: Input should be a valid string",
                     id="wrong-type"),
        pytest.param('{"type": "prompt", "prompt": "p", "x": 1}', "prompt.x: Extra inputs are not permitted",
                     id="unknown-field"),
        pytest.param('{"type": "subscribe"}', "subscribe.run_id: Field required", id="subscribe-no-run"),
    ],
)  # fmt: skip
def test_bad_ws_message_is_an_error_message_naming_the_problem(
    world: World, message: str, detail: str
) -> None:
    with world.client.websocket_connect(
        "/v1/sessions/ws", headers=world.tenant.headers(Role.DEVELOPER)
    ) as ws:
        ws.send_text(message)
        reply = ws.receive_json()
        assert (reply["type"], reply["error"]) == ("error", "invalid_message"), reply
        assert detail in reply["detail"], reply
        ws.send_json({"type": "prompt", "prompt": "x" * (MAX_PROMPT + 1), "ref": "long"})
        reply = ws.receive_json()
        assert (reply["error"], reply["ref"]) == ("invalid_request", "long"), reply


def test_too_many_bad_ws_messages_close_the_session_4400(world: World) -> None:
    with world.client.websocket_connect(
        "/v1/sessions/ws", headers=world.tenant.headers(Role.DEVELOPER)
    ) as ws:
        for _ in range(9):
            ws.send_text("{")
            assert ws.receive_json()["error"] == "invalid_message"
        ws.send_text("{")
        assert ws.receive_json()["error"] == "invalid_message"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert (closed.value.code, closed.value.reason) == (4400, "too many invalid messages")
