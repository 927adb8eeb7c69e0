"""The supervisor's start-up phases and its pings: real worker processes, no timers on speed.

- every worker's start-up is in the state file, phase by phase, in order, and a replacement
  names the worker it replaced (the reference target, as ``slogate run`` starts it);
- a worker killed while the supervisor's ping to it is unanswered is replaced without
  waiting for the ping timeout. uvicorn's blocking ping waited the whole timeout (the parent
  holds both ends of the pipe: no end-of-file when the worker dies), which made some kill
  recoveries 30 s longer. Here the timeout is an hour, so the old behaviour would never
  replace the worker within the test's own time limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from target_service.embedded import EmbeddedTarget, EmbeddedTargetOptions, start_embedded_target
from target_service.startup_phases import WorkerStartup
from target_service.supervisor import RESTART_DELAY_S, read_startups, read_state

from ._pg_redis_fixtures import redis_url

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
__all__ = ["redis_url"]

ROOT = Path(__file__).resolve().parents[2]


def _wait(predicate: Callable[[], object], timeout_s: float) -> None:
    """Poll a child process's state (there is no event to wait on); fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _in_order(s: WorkerStartup) -> list[float | None]:
    return [s.spawned, s.booted, s.app_created, s.lifespan_started, s.ready]


@pytest.fixture
def target(tmp_path: Path, redis_url: str) -> Iterator[EmbeddedTarget]:
    # start-up may take long on a busy machine; the tests are about what it records
    options = EmbeddedTargetOptions(
        data_dir=tmp_path / "t", workers=2, redis_url=redis_url, startup_timeout_s=120
    )
    with start_embedded_target(options) as running:
        yield running


def test_every_worker_stamps_its_start_up_phases_in_order(target: EmbeddedTarget) -> None:
    first = target.startups()
    pids = target.worker_pids()
    assert sorted(s.pid for s in first) == sorted(p for p in pids if p is not None)
    for s in first:
        stamps = _in_order(s)
        assert None not in stamps, s
        assert stamps == sorted(stamps), f"phases out of order: {s}"
        assert s.replaced_pid is None and s.died is None
        assert s.slot == pids.index(s.pid)


def test_a_replacement_names_the_worker_it_replaced(target: EmbeddedTarget) -> None:
    victim = target.worker_pids()[1]
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: target.worker_pids()[1] not in (victim, None) and target.whole(), 90)
    new = [s for s in target.startups() if s.replaced_pid == victim]
    assert len(new) == 1
    s = new[0]
    assert s.pid == target.worker_pids()[1] and s.slot == 1
    assert s.died is not None and None not in _in_order(s)
    assert [s.died, *_in_order(s)] == sorted([s.died, *_in_order(s)])
    assert s.spawned - s.died >= RESTART_DELAY_S * 0.99  # the restart delay is kept
    # the supervisor's log says where the replacement's time went
    log = target.log_path.read_text(errors="replace")
    assert f"worker [{s.pid}] replacing [{victim}] ready" in log
    assert "import" in log and "lifespan" in log


_SUPERVISE = """
import sys
from pathlib import Path
import uvicorn
from target_service.supervisor import Supervisor
config = uvicorn.Config("tests.target_service._tiny_asgi:app", host="127.0.0.1", port=0,
                        workers=1, log_level="warning", timeout_worker_healthcheck=3600)
Supervisor(config, [config.bind_socket()], state_file=Path(sys.argv[1])).run()
"""


@pytest.fixture
def tiny_supervisor(tmp_path: Path) -> Iterator[Path]:
    """A supervisor of one tiny worker whose pings time out only after an hour; its state file."""
    state_file = tmp_path / "supervisor.json"
    process = subprocess.Popen(
        [sys.executable, "-c", _SUPERVISE, str(state_file)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield state_file
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _worker(state_file: Path) -> dict[str, object]:
    state = read_state(state_file) or {}
    workers = state.get("workers")
    return workers[0] if isinstance(workers, list) and workers else {}


def test_a_worker_killed_with_a_ping_unanswered_is_replaced(tiny_supervisor: Path) -> None:
    _wait(lambda: _worker(tiny_supervisor).get("ready") is True, 60)
    victim = _worker(tiny_supervisor)["pid"]
    assert isinstance(victim, int)
    os.kill(victim, signal.SIGSTOP)  # it can no longer answer: the next ping stays unanswered
    try:
        _wait(lambda: float(_worker(tiny_supervisor).get("unanswered_ping_s") or 0) > 0.5, 30)
    finally:
        os.kill(victim, signal.SIGKILL)
    # the replacement comes although the ping timeout (an hour) never ran out
    _wait(lambda: _worker(tiny_supervisor).get("pid") not in (victim, None), 60)
    _wait(lambda: _worker(tiny_supervisor).get("ready") is True, 60)
    state = read_state(tiny_supervisor)
    assert state is not None and state["restarts"] == 1
    replaced = [s for s in read_startups(tiny_supervisor) if s.replaced_pid == victim]
    assert len(replaced) == 1 and replaced[0].ready is not None
    # no phases directory here: only the supervisor's own stamps
    assert replaced[0].booted is None and replaced[0].app_created is None
