"""A real outage of a real PostgreSQL slogate owns: the target's pool survives it.

While the owned server is down (``pg_ctl stop -m immediate``), requests that need the
database fail fast with 503 ``database_unavailable`` (never hang, never 500), ``/readyz``
is red, and it is green again once the server is back; every run accepted before the
outage ends ``succeeded`` or ``failed`` with a reason.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from target_service.embedded import EmbeddedTarget, EmbeddedTargetOptions, start_embedded_target
from target_service.owned_postgres import OwnedPostgres

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def owned_pg() -> Iterator[OwnedPostgres]:
    # its own temporary directory: the server may run as the postgres OS user
    with OwnedPostgres.create(Path(tempfile.mkdtemp(prefix="slogate-pg-test-"))) as pg:
        yield pg


@pytest.fixture
def target(owned_pg: OwnedPostgres, tmp_path: Path) -> Iterator[EmbeddedTarget]:
    options = EmbeddedTargetOptions(data_dir=tmp_path / "t", database_url=owned_pg.url)
    with start_embedded_target(options) as running:
        yield running


@pytest.fixture
def c(target: EmbeddedTarget) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.url, timeout=30) as client:
        yield client


def _tenant_token(c: httpx.Client, admin: str) -> dict[str, str]:
    auth = {"Authorization": f"Bearer {admin}"}
    tenant = c.post("/v1/tenants", json={"name": "outage", "tier": "enterprise"}, headers=auth).json()
    token = c.post(f"/v1/tenants/{tenant['id']}/tokens", json={"role": "developer"}, headers=auth)
    return {"Authorization": f"Bearer {token.json()['token']}"}


def test_outage_is_fast_503s_readyz_red_then_green_and_runs_end(
    target: EmbeddedTarget, owned_pg: OwnedPostgres, c: httpx.Client
) -> None:
    auth = _tenant_token(c, target.admin_token)
    statuses: Counter[int] = Counter()
    slowest = [0.0]
    accepted: list[tuple[float, str]] = []
    stop = threading.Event()

    def clients() -> None:
        with httpx.Client(base_url=target.url, timeout=30) as own:
            while not stop.is_set():
                sent = time.monotonic()
                r = own.post("/v1/runs", json={"prompt": "hello there"}, headers=auth)
                slowest[0] = max(slowest[0], time.monotonic() - sent)
                statuses[r.status_code] += 1
                if r.status_code == 202:
                    accepted.append((time.time(), r.json()["id"]))
                elif r.status_code == 503:
                    assert r.json()["error"] == "database_unavailable"
                time.sleep(0.02)

    threads = [threading.Thread(target=clients) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        owned_pg.stop_immediate()
        down_at = time.time()
        assert not owned_pg.is_running()
        red = [c.get("/readyz").status_code for _ in range(8) if not time.sleep(0.25)]
        owned_pg.start()
        up_at = time.time()
        green_after = None
        for _ in range(80):
            if c.get("/readyz").status_code == 200:
                green_after = time.time() - up_at
                break
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert set(red) == {503}
    assert green_after is not None and green_after < 5.0
    assert statuses[503] > 0 and statuses[202] > 0
    assert set(statuses) <= {202, 429, 503}, statuses  # never a 500 (429: the tier's quota)
    assert slowest[0] < 5.0  # failing fast, not hanging on the pool or the driver
    before = [run_id for at, run_id in accepted if at < down_at]
    assert before
    final: dict[str, dict[str, str]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(final) < len(before):
        for run_id in before:
            if run_id not in final:
                answer = c.get(f"/v1/runs/{run_id}", headers=auth)
                assert answer.status_code in (200, 429), answer.text  # 429: the tier's rate limit
                run = answer.json()
                if answer.status_code == 200 and run["status"] in ("succeeded", "failed"):
                    final[run_id] = run
        time.sleep(0.5)
    assert len(final) == len(before), "runs accepted before the outage never ended"
    assert all(r["status"] == "succeeded" or r["reason"] for r in final.values())


def test_close_stops_the_server_and_removes_its_files() -> None:
    root = Path(tempfile.mkdtemp(prefix="slogate-pg-test-"))
    pg = OwnedPostgres.create(root)
    pid = pg.server_pid()
    assert pid is not None and psutil.pid_exists(pid)
    assert pg.url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    pg.close()
    assert not root.exists()
    _gone, alive = psutil.wait_procs([psutil.Process(pid)] if psutil.pid_exists(pid) else [], timeout=10)
    assert not alive
