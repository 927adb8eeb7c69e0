"""Worker processes under a supervisor that restarts a dead one, as an orchestrator would.

uvicorn's own multiprocess manager (``uvicorn.supervisors.Multiprocess``, 0.30+) pings each
worker over a pipe and restarts one that died; its processes and pipe protocol are used as
they are, with these changes, which a fault-injection harness needs:

- one worker is supervised too (``uvicorn.run`` serves a single worker in-process, so a
  killed worker would be a dead service, not a restart);
- a dead worker is replaced after :data:`RESTART_DELAY_S` (like a container restart
  policy's back-off; uvicorn restarts at once, which turns a crash loop into a busy loop);
- pings never block. uvicorn sends a ping and waits up to ``timeout_worker_healthcheck``
  for the answer; the parent holds both ends of the pipe, so a worker that dies with a
  ping unanswered gives no end-of-file, and the wait ran its full 30 s: a kill that landed
  in that window (a busy worker answers in tens of ms) was noticed 30 s late -- the 33 s
  instead of 3 s kill recoveries. Here each tick collects the last answer if it came and
  sends the next ping; a death is seen from the process itself at the next tick, and a
  worker is hung when a ping stays unanswered for ``timeout_worker_healthcheck``;
- a worker that has not yet answered its first ping gets :data:`STARTUP_GRACE_S` before a
  silent pipe counts as hung: a spawned interpreter on a loaded machine can take long just
  to import, and killing it would start a restart loop;
- the worker builds its uvicorn server before it starts the thread that answers pings
  (:class:`WorkerProcess`): uvicorn builds it lazily from both threads, and a ping already
  waiting could make the thread build a second server whose "started" flag never turns;
- the supervisor writes a small JSON *state file* every tick: worker pids, which of them
  finished start-up, restarts, and each worker's start-up phases
  (:mod:`target_service.startup_phases`), so the harness can pick a process to kill, tell
  when the deployment is whole again, and say where a replacement spent its time.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import time
from dataclasses import dataclass, replace
from pathlib import Path
from socket import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from target_service.startup_phases import WorkerStartup, mark_phase, read_phases

__all__ = [
    "HISTORY",
    "RESTART_DELAY_S",
    "STARTUP_GRACE_S",
    "TICK_S",
    "Supervisor",
    "WorkerProcess",
    "read_startups",
    "read_state",
]

RESTART_DELAY_S = 1.0
"""Seconds between noticing a dead worker and starting its replacement."""
TICK_S = 0.2
"""How often the supervisor checks its workers (and rewrites the state file)."""
STARTUP_GRACE_S = 60.0
"""How long a new worker may stay silent (still importing) before it counts as hung."""
HISTORY = 32
"""Start-ups kept in the state file (the current workers' and the latest replaced ones)."""

log = logging.getLogger("uvicorn.error")


class WorkerProcess(Process):
    """uvicorn's worker process that stamps ``booted`` and builds its server before pinging.

    ``target`` runs in the spawned child (see the module docstring for why the server is
    built first).
    """

    def __init__(self, config: Config, sockets: list[socket], phases_dir: Path | None) -> None:
        super().__init__(config, sockets)
        self.phases_dir = phases_dir

    def target(self, sockets: list[socket] | None = None) -> None:  # pragma: no cover (child)
        mark_phase(self.phases_dir, "booted")
        _ = self.server  # before the ping thread exists: one server, whose flag the pings read
        super().target(sockets)


@dataclass(slots=True)
class _Slot:
    """One worker slot: its current process and what the supervisor knows of it."""

    process: WorkerProcess
    silent_until: float  # end of the start-up grace while it has never answered
    answered: bool = False
    ready: bool = False
    ping_sent_at: float | None = None  # the unanswered ping, if any
    dead_since: float | None = None  # noticed dead, waiting for its replacement


class Supervisor(Multiprocess):
    """uvicorn's ``Multiprocess`` with a restart delay, non-blocking pings and a state file."""

    def __init__(
        self,
        config: Config,
        sockets: list[socket],
        *,
        state_file: Path | None = None,
        restart_delay_s: float = RESTART_DELAY_S,
        phases_dir: Path | None = None,
    ) -> None:
        super().__init__(config, sockets)
        self.state_file = state_file
        self.restart_delay_s = restart_delay_s
        self.phases_dir = phases_dir
        self.restarts = 0
        self.slots: list[_Slot] = []
        self.startups: dict[int, WorkerStartup] = {}  # pid -> start-up, oldest first

    def run(self) -> None:
        self.slots = [self._spawn(i) for i in range(self.processes_num)]
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
        for i, slot in enumerate(self.slots):
            now = time.monotonic()
            if slot.dead_since is not None:
                if now - slot.dead_since >= self.restart_delay_s:
                    self.slots[i] = self._spawn(i, replaced=slot)
                    self.restarts += 1
                continue
            if not self._check(slot, now):
                self._bury(slot, now)
                if self.should_exit.is_set():
                    return
        self._merge_stamps()
        self._write_state()

    def _spawn(self, i: int, replaced: _Slot | None = None) -> _Slot:
        process = WorkerProcess(self.config, self.sockets, self.phases_dir)
        spawned = time.monotonic()
        process.start()
        assert process.pid is not None
        self.startups[process.pid] = WorkerStartup(
            slot=i, pid=process.pid, spawned=spawned,
            replaced_pid=None if replaced is None else replaced.process.pid,
            died=None if replaced is None else replaced.dead_since,
        )
        while len(self.startups) > HISTORY:
            del self.startups[next(iter(self.startups))]
        if i < len(self.processes):
            self.processes[i] = process  # uvicorn's list, kept true for its own methods
        else:
            self.processes.append(process)
        return _Slot(process, silent_until=spawned + STARTUP_GRACE_S)

    def _check(self, slot: _Slot, now: float) -> bool:
        """Collect the last ping's answer and send the next; False: dead or hung."""
        if not slot.process.process.is_alive():
            return False
        conn = slot.process.parent_conn
        try:
            if slot.ping_sent_at is not None and conn.poll():
                started = bool(conn.recv())
                slot.ping_sent_at, slot.answered = None, True
                if started and not slot.ready:
                    slot.ready = True
                    self._stamp_ready(slot.process, now)
            if slot.ping_sent_at is None:
                conn.send(b"ping")
                slot.ping_sent_at = now
        except (OSError, EOFError, pickle.UnpicklingError):
            return False
        if not slot.answered:
            return now < slot.silent_until  # still importing on a busy machine, not hung
        return now - slot.ping_sent_at < self.config.timeout_worker_healthcheck

    def _bury(self, slot: _Slot, now: float) -> None:
        process = slot.process
        process.kill()
        process.join()
        slot.ready, slot.dead_since = False, now
        if process.exitcode == STARTUP_FAILURE:
            log.error("worker [%s] failed to start; stopping the supervisor", process.pid)
            self.should_exit.set()
            return
        log.warning(
            "worker [%s] died (exit code %s); restarting it in %g s",
            process.pid, process.exitcode, self.restart_delay_s,
        )

    def _stamp_ready(self, process: WorkerProcess, now: float) -> None:
        assert process.pid is not None
        startup = self.startups.get(process.pid)
        if startup is None:
            return
        startup = replace(startup, ready=now)
        if self.phases_dir is not None:
            startup = startup.with_stamps(read_phases(self.phases_dir, process.pid))
        self.startups[process.pid] = startup
        if startup.replaced_pid is None:
            log.info("worker [%s] %s", process.pid, startup.summary())
        else:  # a warning, as its predecessor's death was: the two lines tell the restart
            log.warning("worker [%s] replacing [%s] %s", process.pid, startup.replaced_pid,
                        startup.summary())

    def _merge_stamps(self) -> None:
        """Copy the workers' own stamps (``startup_phases``) until each has all of them."""
        if self.phases_dir is None:
            return
        for slot in self.slots:
            pid = slot.process.pid
            startup = self.startups.get(pid) if pid is not None else None
            if startup is not None and startup.lifespan_started is None and pid is not None:
                self.startups[pid] = startup.with_stamps(read_phases(self.phases_dir, pid))

    def terminate_all(self) -> None:
        for slot in self.slots:
            if slot.dead_since is None:
                slot.process.terminate()

    def join_all(self) -> None:
        for slot in self.slots:
            if slot.dead_since is None:
                slot.process.join()

    def handle_hup(self) -> None:
        log.warning("SIGHUP ignored: restarting workers on demand is not supported here")

    def handle_ttin(self) -> None:
        log.warning("SIGTTIN ignored: the worker count is fixed")

    def handle_ttou(self) -> None:
        log.warning("SIGTTOU ignored: the worker count is fixed")

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        now = time.monotonic()
        workers = [
            {
                "slot": i,
                "pid": None if s.dead_since is not None else s.process.pid,
                "ready": s.dead_since is None and s.ready,
                "unanswered_ping_s": 0.0 if s.ping_sent_at is None else round(now - s.ping_sent_at, 3),
            }
            for i, s in enumerate(self.slots)
        ]
        state = {
            "supervisor_pid": os.getpid(),
            "restart_delay_s": self.restart_delay_s,
            "restarts": self.restarts,
            "updated_at": time.time(),
            "monotonic_at": now,
            "workers": workers,
            "startups": [s.to_json() for s in self.startups.values()],
        }
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)


def read_state(path: Path) -> dict[str, object] | None:
    """The supervisor's last state, or None before its first tick (or after it stopped)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_startups(path: Path) -> list[WorkerStartup]:
    """The start-ups in the state file at ``path``, oldest first ([] before the first tick)."""
    state = read_state(path)
    entries = state.get("startups") if state is not None else None
    if not isinstance(entries, list):
        return []
    return [s for s in (WorkerStartup.from_json(e) for e in entries) if s is not None]
