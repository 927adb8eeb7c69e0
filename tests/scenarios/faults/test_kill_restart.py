"""A kill's record of its replacement: seconds since the kill, from the supervisor's start-ups,
into run.json (``faults[].restart``) and back out for the verdict and the reports.

The victim is a real process (``sleep``); the supervisor's start-ups are given as values (the
supervisor itself is tested in tests/target_service/test_supervisor_phases.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from foundation.layout import FaultRecord as RunFaultRecord
from foundation.layout import RunInfo, WorkerRestart
from scenarios.faults.kill import KillFault
from scenarios.faults.timeline import FaultRecord
from slo.faults import faults_from_run, faults_of
from target_service.startup_phases import WorkerStartup


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait(5)


def _killed(victim: subprocess.Popen[bytes]) -> KillFault:
    fault = KillFault(lambda: [victim.pid, None], process=0)
    fault.apply()
    assert victim.wait(5) == -9
    assert fault.killed_pid == victim.pid and fault.killed_at is not None
    return fault


def test_the_replacement_is_found_by_the_pid_it_replaced(victim: subprocess.Popen[bytes]) -> None:
    fault = _killed(victim)
    t0 = fault.killed_at
    assert t0 is not None
    other = WorkerStartup(slot=1, pid=5, spawned=t0 - 100, ready=t0 - 97)  # a first worker
    new = WorkerStartup(slot=0, pid=77, spawned=t0 + 1.25, replaced_pid=victim.pid, died=t0 + 0.25,
                        booted=t0 + 2.0, app_created=t0 + 3.5, lifespan_started=t0 + 4.0, ready=t0 + 4.5)
    restart = fault.restart([other, new])
    assert restart == WorkerRestart(killed_pid=victim.pid, pid=77, noticed_s=0.25, spawned_s=1.25,
                                    booted_s=2.0, app_created_s=3.5, lifespan_started_s=4.0, ready_s=4.5)
    assert restart.summary() == ("replacement ready after 4.5 s (noticed 0.2 s, spawned 1.2 s; "
                                 "boot 0.8 s, import 1.5 s, lifespan 0.5 s, listen 0.5 s)")


def test_no_replacement_yet_is_said_plainly(victim: subprocess.Popen[bytes]) -> None:
    fault = _killed(victim)
    restart = fault.restart([])
    assert restart == WorkerRestart(killed_pid=victim.pid)
    assert restart.summary() == f"no replacement of worker {victim.pid} started before the run ended"
    half = WorkerRestart(killed_pid=1, pid=2, noticed_s=0.1, spawned_s=1.1)
    assert half.summary() == "replacement not ready when the run ended (noticed 0.1 s, spawned 1.1 s)"


def test_a_kill_that_never_happened_has_no_restart() -> None:
    assert KillFault(lambda: [None]).restart([]) is None


def test_the_restart_round_trips_through_run_json() -> None:
    restart = WorkerRestart(killed_pid=3, pid=4, noticed_s=0.2, spawned_s=1.2, ready_s=3.0)
    record = FaultRecord(index=2, name="kill API process", action="kill", spec={}, planned_at=120.0,
                         planned_for=None, started_at=1000.0, ended_at=1000.0, status="done",
                         restart=restart)
    entry = record.to_json()
    assert entry["restart"] == restart.model_dump(mode="json")
    plain = FaultRecord(index=0, name="storm", action="target", spec={}, planned_at=1.0, planned_for=2.0)
    assert "restart" not in plain.to_json()
    assert "restart" not in RunFaultRecord.model_validate(plain.to_json()).model_dump()
    info = RunInfo(run_id="r", target_url="http://127.0.0.1:1", started_at=900.0, scenario={},
                   faults=(RunFaultRecord.model_validate(entry),))
    again = RunInfo.model_validate_json(info.model_dump_json())
    assert again.faults is not None and again.faults[0].restart == restart
    assert faults_of(again)[0].restart == restart
    assert faults_from_run([entry])[0].restart == restart
    assert faults_from_run([{**entry, "restart": {"pid": "x"}}])[0].restart is None  # malformed
