"""Tier quotas: the request bucket answers 429 with Retry-After and a JSON body; the
concurrent-session cap closes the (N+1)th session with 4429 and a reason; a bad token on the
WebSocket is closed with 4401. Small quotas via the ``quotas`` setting keep this fast.

Sessions are opened against a real uvicorn server with the ``websockets`` client, so the
close codes and reasons are checked as a real client sees them on the wire.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from target_service.config import Role, Tier, TierQuota
from tests._servers import LiveServer

from .helpers import ADMIN_TOKEN, bearer, create_tenant

SMALL = {
    # refills one request per 5 s: a slow, loaded machine cannot refill it mid-test
    Tier.STARTER: TierQuota(max_sessions=2, requests_per_s=0.2, burst=3),
    Tier.TEAM: TierQuota(max_sessions=3, requests_per_s=100.0, burst=200),
    Tier.ENTERPRISE: TierQuota(max_sessions=5, requests_per_s=1000.0, burst=2000),
}


def test_starter_tenant_over_its_bucket_gets_429_with_retry_after(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(quotas=SMALL)
    starter = create_tenant(client, Tier.STARTER, name="small")
    team = create_tenant(client, Tier.TEAM, name="big")
    headers = starter.headers(Role.VIEWER)
    answers = [client.get("/v1/runs", headers=headers) for _ in range(SMALL[Tier.STARTER].burst + 1)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    body = limited.json()
    assert body["error"] == "rate_limited"
    assert "starter tier" in body["detail"] and "0.2/s" in body["detail"], body
    # The bucket refills at 0.2/s and is empty: the next token is (nearly) 5 s away.
    assert 4.0 < body["retry_after"] <= 5.0
    assert limited.headers["retry-after"] == str(math.ceil(body["retry_after"]))
    assert limited.headers["content-type"] == "application/json"
    # The bucket is the tenant's, whatever the token: another role of it is limited too...
    assert client.get("/v1/agents", headers=starter.headers(Role.ADMIN)).status_code == 429
    # ...while another tenant and the platform admin are not.
    assert client.get("/v1/runs", headers=team.headers(Role.VIEWER)).status_code == 200
    assert client.get("/v1/admin/faults", headers=bearer(ADMIN_TOKEN)).status_code == 200
    # Health checks are never rate limited.
    assert client.get("/healthz").status_code == 200


def test_rate_limited_prompt_on_a_session_is_an_error_message(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(quotas=SMALL)
    starter = create_tenant(client, Tier.STARTER)
    with client.websocket_connect("/v1/sessions/ws", headers=starter.headers(Role.DEVELOPER)) as session:
        replies: list[dict[str, Any]] = []
        for i in range(SMALL[Tier.STARTER].burst + 1):
            session.send_json({"type": "prompt", "prompt": "p", "ref": str(i)})
        while len([r for r in replies if r["type"] in ("done", "error")]) < 4:
            replies.append(session.receive_json())
    errors = [r for r in replies if r["type"] == "error"]
    assert [(e["error"], e["ref"]) for e in errors] == [("rate_limited", "3")]
    assert errors[0]["retry_after"] > 0
    assert len([r for r in replies if r["type"] == "done"]) == 3


async def _admitted(ws: Any) -> bool:
    """True once the server answers a message on ``ws``; False if it closed it with 4429.

    The handshake is accepted before the quota is checked (so that a refusal can carry a
    close code), and there is no welcome message: a session knows it was admitted when its
    first request is answered. A subscription to a run that does not exist is answered at once.
    """
    try:
        await ws.send('{"type": "subscribe", "run_id": "run_none"}')
        reply = await asyncio.wait_for(ws.recv(), timeout=5)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4429, closed
        return False
    assert '"error":"not_found"' in reply, reply
    return True


async def _hold(url: str, token: str, count: int) -> list[Any]:
    """``count`` sessions, each admitted before the next is opened."""
    held = []
    for _ in range(count):
        ws = await connect(url, additional_headers=bearer(token), open_timeout=5)
        assert await _admitted(ws)
        held.append(ws)
    return held


async def _closed_with(url: str, token: str) -> tuple[int, str]:
    """Open a session and return the close code and reason the server sends."""
    async with connect(url, additional_headers=bearer(token), open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=5)
    received = closed.value.rcvd
    assert received is not None, "closed without a close frame"
    return received.code, received.reason


async def _reopen(url: str, token: str, attempts: int = 50) -> Any:
    """A session in the place just freed. The server releases the place when its handler
    ends, a moment after the close handshake the client waited for, so an immediate reopen
    may still be refused with 4429: retry on that (as a client should), never on anything else.
    """
    for _ in range(attempts):
        ws = await connect(url, additional_headers=bearer(token), open_timeout=5)
        if await _admitted(ws):
            return ws
    raise AssertionError(f"no place freed after {attempts} attempts")


async def _prompt_ok(ws: Any) -> None:
    await ws.send('{"type": "prompt", "prompt": "still here?"}')
    while True:
        message = await asyncio.wait_for(ws.recv(), timeout=10)
        assert '"type":"error"' not in message, message
        if '"type":"done"' in message:
            assert '"status":"succeeded"' in message, message
            return


@pytest.mark.parametrize("tier", [Tier.STARTER, Tier.TEAM], ids=lambda t: t.value)
def test_session_over_quota_is_closed_4429(
    live_server_factory: Callable[..., LiveServer], tier: Tier
) -> None:
    server = live_server_factory(quotas=SMALL)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        tenant = create_tenant(http, tier)
        other = create_tenant(http, tier, name="other")
    token = tenant.tokens[Role.DEVELOPER]
    url = server.ws_url + "/v1/sessions/ws"
    limit = SMALL[tier].max_sessions

    async def scenario() -> None:
        held = await _hold(url, token, limit)
        try:
            code, reason = await _closed_with(url, token)
            assert code == 4429
            assert (
                reason == f"session quota exceeded: the {tier.value} tier allows {limit} concurrent sessions"
            )
            # the refused session took nothing: the held ones still work...
            await _prompt_ok(held[0])
            # ...and the quota is per tenant: another tenant of the tier opens freely.
            others = await _hold(url, other.tokens[Role.VIEWER], limit)
            for ws in others:
                await ws.close()
            # closing one session frees one place, and only one
            await held.pop().close()
            held.append(await _reopen(url, token))
            assert (await _closed_with(url, token))[0] == 4429
        finally:
            for ws in held:
                await ws.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param("sgt_forged", "invalid or revoked token", id="unknown-token"),
        pytest.param(
            ADMIN_TOKEN, "sessions need a tenant token, not the platform admin token", id="admin-token"
        ),
        pytest.param("", "missing Authorization header; send 'Authorization: Bearer <token>'", id="no-token"),
    ],
)
def test_bad_token_on_the_websocket_is_closed_4401(live_server: LiveServer, token: str, reason: str) -> None:
    async def scenario() -> tuple[int, str]:
        headers = bearer(token) if token else {}
        async with connect(live_server.ws_url + "/v1/sessions/ws", additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=5)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason

    assert asyncio.run(scenario()) == (4401, reason)


def test_idle_session_is_closed_4408(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(ws_idle_timeout_s=0.2)
    tenant = create_tenant(client, Tier.TEAM)
    with (
        client.websocket_connect("/v1/sessions/ws", headers=tenant.headers(Role.VIEWER)) as session,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        session.receive_json()  # nothing sent: the server gives up after the idle timeout
    assert (closed.value.code, closed.value.reason) == (4408, "idle timeout")
