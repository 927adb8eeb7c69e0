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
