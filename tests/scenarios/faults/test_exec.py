"""``exec`` faults: real shell commands, timeouts that kill everything the command started."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from scenarios.faults import FaultError
from scenarios.faults.exec import ExecFault


def test_run_and_undo_run_the_commands_with_the_target_in_the_environment(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    fault = ExecFault(f"echo $SLOGATE_TARGET_URL > {flag}", f"rm {flag}", 5.0, {"SLOGATE_TARGET_URL": "u"})
    fault.apply()
    assert flag.read_text() == "u\n"
    fault.undo()
    assert not flag.exists()


def test_a_failing_command_is_one_sentence_with_its_output() -> None:
    with pytest.raises(FaultError, match=r"exited with code 3: boom"):
        ExecFault("echo boom; exit 3", None, 5.0).apply()


def test_a_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(FaultError, match=r"did not finish within 0\.5 s"):
        ExecFault(f"sleep 30 & echo $! > {pid_file}; wait", None, 0.5).apply()
    assert time.monotonic() - started < 10
    child = int(pid_file.read_text())
    _gone, alive = psutil.wait_procs([psutil.Process(child)] if psutil.pid_exists(child) else [], timeout=5)
    assert not alive
