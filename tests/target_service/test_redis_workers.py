"""The Redis path: two real worker processes share tenant quotas, faults and run events.

The service runs as ``python -m target_service --workers 2 --redis-url ...`` (uvicorn's own
multi-process mode, exactly as in production). Each test first proves *where* its
connections landed: it opens TCP connections, asks psutil which worker process accepted each
one, and only then speaks HTTP or WebSocket on connections chosen from both workers. So a
refusal on worker 1 while worker 1 itself holds fewer sessions than the quota can only come
from counts kept in Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from target_service.config import Role, Tier
from target_service.embedded import EmbeddedTarget, EmbeddedTargetOptions, start_embedded_target

from ._pg_redis_fixtures import redis_url
from .helpers import Tenant, bearer, create_tenant, scrub_environ
from .pinned import HttpOn, Pinned, new_socket

pytestmark = [pytest.mark.redis, pytest.mark.slow]

__all__ = ["redis_url"]  # the imported fixture is used by name

STARTER_SESSIONS = 4  # small, so the quota is reached with a handful of sessions
TEAM_RATE, TEAM_BURST = 2.0, 10
SESSION_TTL_S = 6.0  # a dead worker's sessions expire after this (default 15 s); refreshed every 2 s

QUOTAS = {
    "starter": {"max_sessions": STARTER_SESSIONS, "requests_per_s": 1000, "burst": 2000},
    "team": {"max_sessions": 50, "requests_per_s": TEAM_RATE, "burst": TEAM_BURST},
    "enterprise": {"max_sessions": 500, "requests_per_s": 1000, "burst": 2000},
}
# First token after ~1 s (lognormal, sigma 0.11: below 0.6 s one time in 10^6), so a second
# session subscribes before any token is produced, even on a loaded machine.
SLOW_PROVIDER = {
    "ttft_median_ms": 1000,
    "ttft_p95_ms": 1200,
    "token_median_ms": 10,
    "token_p95_ms": 20,
    "min_tokens": 10,
    "max_tokens": 15,
}


def _start(redis_url: str, data_dir: Path) -> EmbeddedTarget:
    env = {
        "SLOGATE_QUOTAS": json.dumps(QUOTAS),
        "SLOGATE_PROVIDER": json.dumps(SLOW_PROVIDER),
        "SLOGATE_SESSION_TTL_S": str(SESSION_TTL_S),
    }
    return start_embedded_target(
        EmbeddedTargetOptions(
            data_dir=data_dir, workers=2, redis_url=redis_url, env=env, startup_timeout_s=60
        )
    )


@pytest.fixture(scope="module")
def target(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTarget]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        scrub_environ(monkeypatch)  # the workers inherit this process's environment
        with _start(redis_url, tmp_path_factory.mktemp("two-workers")) as running:
            yield running


def _tenant(target: EmbeddedTarget, tier: Tier) -> Tenant:
    with httpx.Client(base_url=target.url, timeout=20) as client:
        return create_tenant(client, tier, admin_token=target.admin_token, name=f"redis-{tier.value}")


@pytest.fixture
def pinned(target: EmbeddedTarget) -> Iterator[Pinned]:
    connections = Pinned(target)
    yield connections
    connections.close()


def _session(target: EmbeddedTarget, sock: socket.socket, token: str) -> ClientConnection:
    return ws_connect(
        target.ws_url + "/v1/sessions/ws",
        sock=sock,
        additional_headers=bearer(token),
        proxy=None,
        open_timeout=10,
        close_timeout=2,
    )


def _is_admitted(ws: ClientConnection) -> tuple[bool, int | None]:
    """Ask the session something; an admitted one answers, a refused one is closed with a code."""
    try:  # a refusal may arrive before the question is even sent
        ws.send(json.dumps({"type": "subscribe", "run_id": "run_does_not_exist"}))
        reply = json.loads(ws.recv(timeout=10))
    except ConnectionClosed as closed:
        return False, closed.rcvd.code if closed.rcvd else None
    assert reply["type"] == "error" and reply["error"] == "not_found", reply
    return True, None


# ---------------------------------------------------------------------------------------------
# tests


def test_session_quota_is_shared_by_both_workers(target: EmbeddedTarget, pinned: Pinned) -> None:
    """Sessions spread over both workers fill one tenant-wide quota; the next is 4429 on either."""
    tenant = _tenant(target, Tier.STARTER)
    token = tenant.tokens[Role.DEVELOPER]
    half = STARTER_SESSIONS // 2
    pinned.open(per_worker=half + 2)  # half admitted on each worker, then one refused on each
    w1, w2 = pinned.workers()[:2]
    with contextlib.ExitStack() as admitted:
        first: ClientConnection | None = None
        for worker in (w1, w2):
            for _ in range(half):
                ws = admitted.enter_context(_session(target, pinned.take(worker), token))
                first = first or ws
                assert _is_admitted(ws) == (True, None)
        # Each worker holds only `half` < quota sessions itself: a refusal proves shared counts.
        for worker in (w1, w2):
            with _session(target, pinned.take(worker), token) as refused:
                assert _is_admitted(refused) == (False, 4429), f"worker {worker} admitted an extra session"
        # Releasing one (on w1) frees a slot for the tenant as a whole (used on w2).
        assert first is not None
        first.close()
        deadline = time.monotonic() + 5
        while True:  # the release reaches Redis a moment after the close handshake
            with _session(
                target, pinned.take(w2) if pinned.by_worker[w2] else new_socket(target), token
            ) as ws:
                ok, code = _is_admitted(ws)
            if ok or time.monotonic() > deadline:
                break
            assert code == 4429
        assert ok, "closing a session did not free its quota slot"


def _requests_total(target: EmbeddedTarget, route: str, tenant_id: str) -> dict[str, float]:
    text = httpx.get(target.url + "/metrics", timeout=10).text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "slogate_http_requests":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and labels["route"] == route and labels["tenant"] == tenant_id:
                totals[labels["status"]] = totals.get(labels["status"], 0.0) + sample.value
    return totals


def test_request_bucket_is_shared_and_metrics_sum_both_workers(
    target: EmbeddedTarget, pinned: Pinned
) -> None:
    """Alternating requests on both workers draw from one bucket (burst + rate x t in total),
    and /metrics (multiprocess mode) counts every request whichever worker served it."""
    tenant = _tenant(target, Tier.TEAM)
    headers = tenant.headers(Role.VIEWER)
    pinned.open(per_worker=1)
    w1, w2 = pinned.workers()[:2]
    conns = {w1: HttpOn(target, pinned.take(w1)), w2: HttpOn(target, pinned.take(w2))}
    granted = {w1: 0, w2: 0}
    refused_while_own_count_below_burst = {w1: False, w2: False}
    statuses: list[int] = []
    started = time.monotonic()
    try:
        for i in range(3 * TEAM_BURST):
            worker = (w1, w2)[i % 2]
            status, body = conns[worker].request("GET", "/v1/runs?limit=1", headers)
            statuses.append(status)
            if status == 200:
                granted[worker] += 1
            else:
                assert status == 429 and body["error"] == "rate_limited", (status, body)
                if granted[worker] < TEAM_BURST:
                    refused_while_own_count_below_burst[worker] = True
    finally:
        for conn in conns.values():
            conn.close()
    elapsed = time.monotonic() - started
    ok = statuses.count(200)
    assert TEAM_BURST <= ok <= TEAM_BURST + TEAM_RATE * elapsed + 1, (ok, elapsed, granted)
    # Per-worker buckets would have granted each worker its own full burst first.
    assert all(refused_while_own_count_below_burst.values()), granted

    counted = _requests_total(target, "/v1/runs", tenant.id)
    assert counted == {"200": float(ok), "429": float(statuses.count(429))}


def test_one_fault_put_applies_in_every_worker(target: EmbeddedTarget, pinned: Pinned) -> None:
    pinned.open(per_worker=1)
    conns = {w: HttpOn(target, pinned.take(w)) for w in pinned.workers()[:2]}
    admin = bearer(target.admin_token)
    try:
        for conn in conns.values():
            assert conn.request("GET", "/healthz")[0] == 200
        with httpx.Client(base_url=target.url, timeout=10) as client:
            fault = {"error_rate": 1.0, "error_route": "/healthz"}
            assert client.put("/v1/admin/faults", json=fault, headers=admin).status_code == 200
            applied_after = _seconds_until_all(conns, 500)
            assert client.put("/v1/admin/faults", json={}, headers=admin).status_code == 200
            cleared_after = _seconds_until_all(conns, 200)
    finally:
        with httpx.Client(base_url=target.url, timeout=10) as client:
            client.put("/v1/admin/faults", json={}, headers=admin)
        for conn in conns.values():
            conn.close()
    # Workers poll the shared configuration twice a second.
    assert applied_after < 1.5 and cleared_after < 1.5, (applied_after, cleared_after)


def _seconds_until_all(conns: dict[int, HttpOn], status: int, limit_s: float = 5.0) -> float:
    started = time.monotonic()
    pending = set(conns)
    while pending and time.monotonic() - started < limit_s:
        for worker in list(pending):
            if conns[worker].request("GET", "/healthz")[0] == status:
                pending.discard(worker)
        time.sleep(0.02)  # the change arrives by each worker's poll of Redis, not by an event
    assert not pending, f"workers {pending} never answered {status}"
    return time.monotonic() - started


def test_subscribe_follows_a_run_executing_on_the_other_worker(
    target: EmbeddedTarget, pinned: Pinned
) -> None:
    """A prompt on worker 1 runs there; a session on worker 2 subscribes and gets its tokens
    through Redis pub/sub, identical to what the prompting session got."""
    tenant = _tenant(target, Tier.ENTERPRISE)
    pinned.open(per_worker=1)
    w1, w2 = pinned.workers()[:2]
    with (
        _session(target, pinned.take(w1), tenant.tokens[Role.DEVELOPER]) as prompter,
        _session(target, pinned.take(w2), tenant.tokens[Role.VIEWER]) as follower,
    ):
        prompter.send(json.dumps({"type": "prompt", "prompt": "fan me out", "ref": "p1"}))
        accepted = json.loads(prompter.recv(timeout=10))
        assert accepted["type"] == "accepted", accepted
        run_id = accepted["run_id"]
        follower.send(json.dumps({"type": "subscribe", "run_id": run_id, "ref": "s1"}))
        origin = _collect(prompter)
        followed = _collect(follower)
    assert followed["accepted"] == {"type": "accepted", "run_id": run_id, "ref": "s1"}
    assert origin["done"]["status"] == followed["done"]["status"] == "succeeded"
    assert origin["tokens"] and followed["tokens"] == origin["tokens"]


def _collect(ws: ClientConnection) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens": []}
    while True:
        event = json.loads(ws.recv(timeout=20))
        assert event["type"] != "error", event
        if event["type"] == "token":
            out["tokens"].append((event["index"], event["text"]))
        elif event["type"] == "done":
            out["done"] = event
            return out
        else:
            out[event["type"]] = event


def _wait_dead(pid: int) -> None:
    """Until ``pid`` has stopped running: a zombie counts (SIGKILL makes one at once; its
    parent, the supervisor, reaps it on its own schedule, slow on a loaded machine)."""
    proc = psutil.Process(pid)
    with contextlib.suppress(psutil.NoSuchProcess):
        while proc.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)


def test_crashed_workers_sessions_stop_counting_after_ttl(redis_url: str, tmp_path: Path) -> None:
    """Kill a worker holding sessions: its sessions hold quota until their TTL, not forever.

    The quota entries of live sessions are refreshed by their worker; a SIGKILLed worker
    cannot release its sessions, so only the TTL (shortened here to 6 s) frees them."""
    with _start(redis_url, tmp_path) as crashing:
        tenant = _tenant(crashing, Tier.STARTER)
        token = tenant.tokens[Role.DEVELOPER]
        pins = Pinned(crashing)
        with contextlib.ExitStack() as held:
            held.callback(pins.close)
            pins.open(per_worker=STARTER_SESSIONS // 2 + 1)
            victim, survivor = pins.workers()[:2]
            for worker in (victim, survivor):
                for _ in range(STARTER_SESSIONS // 2):
                    ws = held.enter_context(_session(crashing, pins.take(worker), token))
                    assert _is_admitted(ws) == (True, None)
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            _wait_dead(victim)
            with _session(crashing, pins.take(survivor), token) as ws:
                assert _is_admitted(ws) == (False, 4429), "the dead worker's sessions vanished at once"
            while True:  # try once a second until a slot frees up
                with _session(crashing, new_socket(crashing), token) as ws:
                    ok, code = _is_admitted(ws)
                freed_after = time.monotonic() - killed_at
                if ok or freed_after > SESSION_TTL_S + 10:
                    break
                assert code == 4429
                time.sleep(0.25)  # the expiry is a Redis TTL; there is no event to wait on
    assert ok, f"the dead worker's sessions still counted {freed_after:.0f}s after the crash"
    # Refreshed every 2 s: they expire between TTL - 2 s and TTL after the crash.
    assert SESSION_TTL_S - 2.5 <= freed_after <= SESSION_TTL_S + 2, freed_after
