"""Orchestration: every accepted run ends ``succeeded`` or ``failed`` with a reason.

Runs are followed to their end through the WebSocket's ``done`` message (``wait_runs``),
never by sleeping. Provider trouble is injected with ``PUT /v1/admin/faults`` (a 429 storm,
an outage) or produced for real by the provider's own small rate limit; small provider
settings (3 attempts, millisecond backoff) keep each test to a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from target_service.config import Role, Tier
from tests._servers import LiveServer

from .helpers import (
    ADMIN_TOKEN,
    FAST_PROVIDER,
    Tenant,
    bearer,
    create_tenant,
    sqlite_path,
    wait_runs,
)

SLOW_PROVIDER = FAST_PROVIDER.model_copy(update={"ttft_median_ms": 5000.0, "ttft_p95_ms": 5000.0})


def _post_runs(client: TestClient, tenant: Tenant, count: int, **body: Any) -> list[dict[str, Any]]:
    runs = []
    for i in range(count):
        response = client.post(
            "/v1/runs", json={"prompt": f"task {i}", **body}, headers=tenant.headers(Role.DEVELOPER)
        )
        assert response.status_code == 202, response.text
        runs.append(response.json())
    return runs


def _final_runs(client: TestClient, tenant: Tenant, run_ids: list[str]) -> list[dict[str, Any]]:
    """Wait for every run's end, then read each one back through the API."""
    wait_runs(client, tenant.tokens[Role.VIEWER], run_ids)
    return [client.get(f"/v1/runs/{rid}", headers=tenant.headers(Role.VIEWER)).json() for rid in run_ids]


def _provider_calls(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    family = next(f for f in text_string_to_metric_families(text) if f.name == "slogate_provider_calls")
    return {s.labels["outcome"]: s.value for s in family.samples if s.name.endswith("_total")}


def _set_faults(client: TestClient, **config: Any) -> None:
    response = client.put("/v1/admin/faults", json=config, headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 200, response.text


def test_every_accepted_run_succeeds_with_tokens(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.ENTERPRISE)
    accepted = _post_runs(client, tenant, 30)
    assert {r["status"] for r in accepted} == {"queued"}
    capped = _post_runs(client, tenant, 3, max_tokens=2)
    runs = _final_runs(client, tenant, [r["id"] for r in accepted + capped])
    for run in runs:
        assert (run["status"], run["reason"], run["attempts"]) == ("succeeded", None, 1), run
        assert run["tokens"] == len(run["output"].split()), run
        assert run["created_at"] <= run["started_at"] <= run["finished_at"], run
    assert all(FAST_PROVIDER.min_tokens <= r["tokens"] <= FAST_PROVIDER.max_tokens for r in runs[:30])
    assert [r["tokens"] for r in runs[30:]] == [2, 2, 2]
    listed = client.get("/v1/runs?limit=200&status=succeeded", headers=tenant.headers(Role.VIEWER)).json()
    assert len(listed["items"]) == 33
    assert client.get("/v1/runs?status=running", headers=tenant.headers(Role.VIEWER)).json()["items"] == []


def test_ws_prompt_streams_accepted_tokens_done_in_order(client: TestClient) -> None:
    tenant = create_tenant(client, Tier.TEAM)
    with client.websocket_connect("/v1/sessions/ws", headers=tenant.headers(Role.DEVELOPER)) as session:
        for ref in ("a", "b", "c"):  # three at once: their events interleave, each in order
            session.send_json({"type": "prompt", "prompt": f"write {ref}", "ref": ref})
        streams: dict[str, list[dict[str, Any]]] = {}
        refs: dict[str, str] = {}
        while sum(1 for s in streams.values() if s[-1]["type"] == "done") < 3:
            message = session.receive_json()
            if message["type"] == "accepted":
                refs[message["run_id"]] = message["ref"]
            streams.setdefault(message["run_id"], []).append(message)
    assert sorted(refs.values()) == ["a", "b", "c"]
    for run_id, events in streams.items():
        kinds = [e["type"] for e in events]
        n = len(kinds) - 2
        assert kinds == ["accepted"] + ["token"] * n + ["done"], kinds
        assert [e["index"] for e in events[1:-1]] == list(range(n))
        done = events[-1]
        assert (done["status"], done["reason"], done["tokens"]) == ("succeeded", None, n)
        stored = client.get(f"/v1/runs/{run_id}", headers=tenant.headers(Role.VIEWER)).json()
        assert stored["output"] == "".join(e["text"] for e in events[1:-1])
        assert (stored["source"], stored["tokens"]) == ("ws", n)


def test_run_finishes_after_its_session_leaves(live_server_factory: Callable[..., LiveServer]) -> None:
    """A client that disconnects mid-stream loses the stream, not the run."""
    slow_tokens = FAST_PROVIDER.model_copy(
        update={"token_median_ms": 30.0, "token_p95_ms": 40.0, "min_tokens": 5}
    )
    server = live_server_factory(provider=slow_tokens)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        tenant = create_tenant(http, Tier.TEAM)

    async def scenario() -> dict[str, Any]:
        url = server.ws_url + "/v1/sessions/ws"
        async with connect(url, additional_headers=tenant.headers(Role.DEVELOPER)) as ws:
            await ws.send(json.dumps({"type": "prompt", "prompt": "long answer"}))
            accepted = json.loads(await ws.recv())
        async with connect(url, additional_headers=tenant.headers(Role.VIEWER)) as ws:
            await ws.send(json.dumps({"type": "subscribe", "run_id": accepted["run_id"]}))
            while True:
                message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] == "done":
                    return message

    done = asyncio.run(scenario())
    assert (done["status"], done["reason"]) == ("succeeded", None)
    stored = httpx.get(f"{server.url}/v1/runs/{done['run_id']}", headers=tenant.headers(Role.VIEWER)).json()
    assert stored["tokens"] == done["tokens"] >= slow_tokens.min_tokens


def test_provider_rate_limit_is_absorbed_by_backoff(client_factory: Callable[..., TestClient]) -> None:
    """The provider's own 429s (4 calls/s, burst 1, for 5 runs sent at once) are retried,
    never sooner than its Retry-After; with enough attempts no work is lost."""
    provider = FAST_PROVIDER.model_copy(
        update={"rate_limit_per_s": 4.0, "rate_limit_burst": 1, "max_attempts": 30}
    )
    client = client_factory(provider=provider)
    tenant = create_tenant(client)
    with client.websocket_connect("/v1/sessions/ws", headers=tenant.headers(Role.DEVELOPER)) as session:
        for i in range(5):  # pipelined: all five reach the provider within a few milliseconds
            session.send_json({"type": "prompt", "prompt": f"task {i}"})
        done: list[str] = []
        while len(done) < 5:
            message = session.receive_json()
            if message["type"] == "done":
                done.append(message["run_id"])
    runs = _final_runs(client, tenant, done)
    assert [r["status"] for r in runs] == ["succeeded"] * 5, runs
    attempts = sum(r["attempts"] for r in runs)
    assert attempts > 5, "no run was ever rate limited: the test proves nothing"
    calls = _provider_calls(client)
    assert (calls["ok"], calls["rate_limited"]) == (5, attempts - 5)
    # 5 calls through a bucket of 1 refilled at 4/s cannot end sooner than 1 s after the first
    starts = [r["started_at"] for r in runs]
    assert max(r["finished_at"] for r in runs) - min(starts) >= 1.0 - 0.05


@pytest.mark.parametrize(
    ("mode", "reason", "outcome"),
    [
        pytest.param(
            "rate_limit_storm",
            "provider failed after 3 attempt(s): provider rate limit exceeded (429)",
            "rate_limited",
            id="429-storm",
        ),
        pytest.param(
            "outage",
            "provider failed after 3 attempt(s): provider unavailable (503)",
            "unavailable",
            id="outage",
        ),
    ],
)
def test_provider_failure_fails_every_run_with_a_reason(
    client: TestClient, mode: str, reason: str, outcome: str
) -> None:
    tenant = create_tenant(client)
    _set_faults(client, provider=mode)
    runs = _final_runs(client, tenant, [r["id"] for r in _post_runs(client, tenant, 6)])
    for run in runs:
        assert (run["status"], run["reason"], run["attempts"], run["tokens"]) == ("failed", reason, 3, 0), run
        if mode == "rate_limit_storm":  # two waits of at least the provider's Retry-After (1 s)
            assert run["finished_at"] - run["started_at"] >= 2.0, run
    assert _provider_calls(client)[outcome] == 18


def test_runs_recover_when_the_storm_ends(client: TestClient) -> None:
    """Runs caught by a 429 storm that ends within their retries all succeed: no lost work."""
    tenant = create_tenant(client)
    _set_faults(client, provider="rate_limit_storm")
    accepted = _post_runs(client, tenant, 6)
    _set_faults(client)  # {} clears every fault
    runs = _final_runs(client, tenant, [r["id"] for r in accepted])
    assert [(r["status"], r["reason"]) for r in runs] == [("succeeded", None)] * 6
    assert all(r["attempts"] in (1, 2) for r in runs)


def test_run_past_its_deadline_fails_timed_out(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(provider=SLOW_PROVIDER, run_timeout_s=0.3)
    tenant = create_tenant(client)
    (run,) = _final_runs(client, tenant, [_post_runs(client, tenant, 1)[0]["id"]])
    assert (run["status"], run["reason"]) == ("failed", "timed out")
    assert 0.29 <= run["finished_at"] - run["created_at"] < 5.0


def _rows(app: FastAPI) -> list[tuple[str, str, str | None]]:
    with closing(sqlite3.connect(sqlite_path(app.state.services.settings))) as conn:
        return conn.execute("SELECT id, status, reason FROM runs ORDER BY created_at").fetchall()


def test_full_queue_sheds_with_429_and_stopping_fails_what_is_left(
    app_factory: Callable[..., FastAPI],
) -> None:
    """A full queue answers 429 ``queue_full`` and stores nothing for the refused request;
    stopping the service fails every queued and in-flight run with a reason."""
    app = app_factory(provider=SLOW_PROVIDER, run_queue_size=2, run_workers=1)
    with TestClient(app) as client:
        tenant = create_tenant(client)
        answers = [
            client.post("/v1/runs", json={"prompt": str(i)}, headers=tenant.headers(Role.DEVELOPER))
            for i in range(6)
        ]
        statuses = [a.status_code for a in answers]
        # 1 in the worker (maybe not yet picked up) + 2 queued: the 4th at the latest is refused
        assert statuses[:2] == [202, 202] and statuses[3:] == [429, 429, 429], statuses
        refused = answers[-1]
        assert refused.json()["error"] == "queue_full" and refused.json()["detail"], refused.json()
        assert refused.headers["retry-after"] == "1"
        accepted = {a.json()["id"] for a in answers if a.status_code == 202}
        rows = _rows(app)
        assert {r[0] for r in rows} == accepted, "a refused request left a row behind"
        assert {r[1] for r in rows} <= {"queued", "running"}
        depth = client.get("/metrics").text
        assert "slogate_run_queue_depth 2.0" in depth or "slogate_run_queue_depth 1.0" in depth
    rows = _rows(app)
    assert {r[0] for r in rows} == accepted
    assert {(r[1], r[2]) for r in rows} == {("failed", "service stopped before the run finished")}
