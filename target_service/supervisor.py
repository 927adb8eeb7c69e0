"""Worker processes under a supervisor that restarts a dead one, as an orchestrator would.

uvicorn's own multiprocess manager (``uvicorn.supervisors.Multiprocess``, 0.30+) already
pings each worker over a pipe and restarts one that died; it is used as is, with three
changes that a fault-injection harness needs:

- one worker is supervised too (``uvicorn.run`` serves a single worker in-process, so a
  killed worker would be a dead service, not a restart);
- a dead worker is replaced after :data:`RESTART_DELAY_S` (like a container restart
  policy's back-off; uvicorn restarts at once, which turns a crash loop into a busy loop);
- a worker that has not yet answered its first ping gets :data:`STARTUP_GRACE_S` before a
  silent pipe counts as hung: a spawned interpreter on a loaded machine can take longer than
  the 5 s ping timeout just to import, and uvicorn would kill it and start another, over and
  over (a restart loop that looked like a 30 s recovery under load);
- the supervisor writes a small JSON *state file* (worker pids, which of them finished
  start-up, restarts) every tick, so the harness can pick a process to kill and can tell
  when the deployment is whole again (every slot served by a started process).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from socket import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["RESTART_DELAY_S", "STARTUP_GRACE_S", "TICK_S", "Supervisor", "read_state"]

RESTART_DELAY_S = 1.0
"""Seconds between noticing a dead worker and starting its replacement."""
TICK_S = 0.2
"""How often the supervisor checks its workers (and rewrites the state file)."""
STARTUP_GRACE_S = 60.0
"""How long a new worker may stay silent (still importing) before it counts as hung."""
"""How often the supervisor checks its workers (and rewrites the state file)."""

log = logging.getLogger("uvicorn.error")


class Supervisor(Multiprocess):
    """uvicorn's ``Multiprocess`` with a restart delay and a state file (see module doc)."""

    def __init__(
        self,
        config: Config,
        sockets: list[socket],
        *,
        state_file: Path | None = None,
        restart_delay_s: float = RESTART_DELAY_S,
    ) -> None:
        super().__init__(config, sockets)
        self.state_file = state_file
        self.restart_delay_s = restart_delay_s
        self.restarts = 0
        self._dead_since: dict[int, float] = {}  # slot -> monotonic time its worker was found dead
        self._ready: dict[int, bool] = {}
        self._silent_until: dict[int, float] = {}  # slot -> end of a new worker's start-up grace

    def run(self) -> None:
        self.init_processes()
        grace_end = time.monotonic() + STARTUP_GRACE_S
        self._silent_until = dict.fromkeys(range(len(self.processes)), grace_end)
        while not self.should_exit.wait(TICK_S):
            self.handle_signals()
            self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()
        if self.state_file is not None:
            self.state_file.unlink(missing_ok=True)

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if slot in self._dead_since:
                self._maybe_restart(slot)
                continue
            started = _health(process, self.config.timeout_worker_healthcheck)
            if started is not None:
                self._ready[slot] = started
                self._silent_until.pop(slot, None)  # it answered: from now on, pings count
                continue
            if process.process.is_alive() and time.monotonic() < self._silent_until.get(slot, 0.0):
                self._ready[slot] = False  # still importing on a busy machine, not hung
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker [%s] failed to start; stopping the supervisor", process.pid)
                self.should_exit.set()
                return
            log.warning(
                "worker [%s] died (exit code %s); restarting it in %g s",
                process.pid, process.exitcode, self.restart_delay_s,
            )
            self._dead_since[slot] = time.monotonic()
            self._ready[slot] = False
        self._write_state()

    def _maybe_restart(self, slot: int) -> None:
        if time.monotonic() - self._dead_since[slot] < self.restart_delay_s:
            return
        del self._dead_since[slot]
        replacement = Process(self.config, self.sockets)
        replacement.start()
        self._silent_until[slot] = time.monotonic() + STARTUP_GRACE_S
        self.processes[slot] = replacement
        self.restarts += 1

    def terminate_all(self) -> None:
        for slot, process in enumerate(self.processes):
            if slot not in self._dead_since:
                process.terminate()

    def join_all(self) -> None:
        for slot, process in enumerate(self.processes):
            if slot not in self._dead_since:
                process.join()

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        workers = [
            {
                "slot": slot,
                "pid": None if slot in self._dead_since else p.pid,
                "ready": slot not in self._dead_since and self._ready.get(slot, False),
            }
            for slot, p in enumerate(self.processes)
        ]
        state = {
            "supervisor_pid": os.getpid(),
            "restart_delay_s": self.restart_delay_s,
            "restarts": self.restarts,
            "updated_at": time.time(),
            "workers": workers,
        }
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)


def _health(process: Process, timeout: float) -> bool | None:
    """True: serving; False: alive, still starting; None: dead or hung."""
    if not process.process.is_alive():
        return None
    return process._healthcheck(timeout)  # uvicorn's ping/pong, started flag


def read_state(path: Path) -> dict[str, object] | None:
    """The supervisor's last state, or None before its first tick (or after it stopped)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
