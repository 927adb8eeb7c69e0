"""The worker supervisor: a killed API process is replaced after the restart delay, the
other worker keeps serving meanwhile, and the state file tells when the deployment is whole.

Real processes: the target started as ``slogate run`` starts it (``start_embedded_target``),
two workers sharing quotas through the machine's Redis.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from target_service.embedded import EmbeddedTarget, EmbeddedTargetOptions, start_embedded_target
from target_service.supervisor import RESTART_DELAY_S, read_state

from ._pg_redis_fixtures import redis_url
from .pinned import HttpOn, Pinned

pytestmark = pytest.mark.slow
__all__ = ["redis_url"]


@pytest.fixture
def target(tmp_path: Path, redis_url: str) -> Iterator[EmbeddedTarget]:
    options = EmbeddedTargetOptions(data_dir=tmp_path / "t", workers=2, redis_url=redis_url)
    with start_embedded_target(options) as running:
        yield running


def _wait(predicate, timeout_s: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``predicate()`` held; fails the test after ``timeout_s``."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, "condition not reached in time"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving(target: EmbeddedTarget) -> None:
    assert target.whole()
    before = target.worker_pids()
    assert len(before) == 2 and all(before)
    victim = before[1]
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    answers: list[int] = []
    with httpx.Client(base_url=target.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        while target.worker_pids()[1] in (victim, None):
            answers.append(c.get("/healthz").status_code)  # the surviving worker answers
            assert time.monotonic() - killed_at < 30
            time.sleep(0.05)
        replaced_after = time.monotonic() - killed_at
        _wait(target.whole, 60)
        assert c.get("/readyz").status_code == 200
    after = target.worker_pids()
    assert after[0] == before[0] and after[1] not in (victim, None)
    # the replacement starts only after the restart delay (not before: no busy restart loop)
    assert replaced_after >= RESTART_DELAY_S * 0.9
    assert answers and set(answers) == {200}
    state = read_state(target.state_file)
    assert state is not None and state["restarts"] == 1
    assert state["restart_delay_s"] == RESTART_DELAY_S


def test_whole_is_false_while_a_worker_is_missing(target: EmbeddedTarget) -> None:
    victim = target.worker_pids()[0]
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    # a killed worker is a zombie until the supervisor reaps it: it must not count as alive
    _wait(lambda: not target.whole(), 5)
    _wait(target.whole, 60)


def test_stop_leaves_no_worker_behind(tmp_path: Path, redis_url: str) -> None:
    options = EmbeddedTargetOptions(data_dir=tmp_path / "t", workers=2, redis_url=redis_url)
    target = start_embedded_target(options)
    procs = [psutil.Process(p) for p in target.pids()]
    assert len(procs) >= 3  # supervisor + 2 workers
    target.stop()
    _gone, alive = psutil.wait_procs(procs, timeout=10)
    assert not alive
    assert not target.state_file.exists()


RUNS_PER_WORKER = 4
LONG_RUN_ENV = {  # a first token after ~5 minutes and a 10-minute deadline: every run is still
    # in flight when the worker is killed and when the test ends, however slow the machine
    "SLOGATE_PROVIDER__TTFT_MEDIAN_MS": "300000", "SLOGATE_PROVIDER__TTFT_P95_MS": "301000",
    "SLOGATE_RUN_TIMEOUT_S": "600",
}


def _start_runs(target: EmbeddedTarget, auth: dict[str, str]) -> dict[int, list[str]]:
    """Start ``RUNS_PER_WORKER`` runs on each of two workers; ``{worker pid: [run id]}``.

    A run executes in the process that accepted its POST. Which worker accepts a connection
    is the kernel's choice (on a loaded machine one worker may take a whole burst), so the
    runs go over connections already known to be held by each worker (``Pinned``).
    """
    pinned = Pinned(target)
    try:
        pinned.open(per_worker=1)
        held: dict[int, list[str]] = {}
        for worker in pinned.workers()[:2]:
            conn = HttpOn(target, pinned.take(worker))
            try:
                for _ in range(RUNS_PER_WORKER):
                    status, body = conn.request("POST", "/v1/runs", auth, {"prompt": "long one"})
                    assert status == 202, body
                    held.setdefault(worker, []).append(body["id"])
            finally:
                conn.close()
    finally:
        pinned.close()
    return held


def test_runs_held_by_a_killed_worker_are_failed_and_live_ones_are_not(
    tmp_path: Path, redis_url: str
) -> None:
    options = EmbeddedTargetOptions(
        data_dir=tmp_path / "t", workers=2, redis_url=redis_url, env=LONG_RUN_ENV
    )
    with start_embedded_target(options) as target, httpx.Client(
        base_url=target.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as c:
        admin = {"Authorization": f"Bearer {target.admin_token}"}
        tenant = c.post("/v1/tenants", json={"name": "k", "tier": "enterprise"}, headers=admin).json()
        token = c.post(f"/v1/tenants/{tenant['id']}/tokens", json={"role": "developer"}, headers=admin)
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        held = _start_runs(target, auth)
        victim, survivor = sorted(held)
        assert sorted(p for p in target.worker_pids() if p) == [victim, survivor]
        os.kill(victim, signal.SIGKILL)

        def status_of(run_ids: list[str]) -> list[dict[str, str]]:
            return [c.get(f"/v1/runs/{i}", headers=auth).json() for i in run_ids]

        _wait(lambda: all(r["status"] == "failed" for r in status_of(held[victim])), 60)
        time.sleep(6)  # one more sweep (every 5 s): it must not touch the live worker's runs
        abandoned, alive = status_of(held[victim]), status_of(held[survivor])
    assert all(r["status"] == "failed" for r in abandoned)
    assert {r["reason"] for r in abandoned} == {"abandoned: its worker process stopped"}
    assert all(r["status"] in ("queued", "running") for r in alive), (
        f"the surviving worker's runs were swept although it still holds them: {alive}"
    )
