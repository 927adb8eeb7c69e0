"""When each worker process got through each phase of its start-up, on the monotonic clock.

A replaced worker is back for clients only once it is *ready*; when that takes long, the
question is which phase took the time. The phases, in order:

===================  ============  =========================================================
phase                stamped by    the moment
===================  ============  =========================================================
``spawned``          supervisor    ``Process.start()`` of the worker (the previous one died
                                   ``died`` -- noticed -- before that, by the restart delay)
``booted``           worker        the spawned interpreter has unpickled its uvicorn target
                                   (Python, multiprocessing and uvicorn imported)
``app_created``      worker        ``create_app`` returned: the app's modules imported
                                   (FastAPI, SQLAlchemy, ...) and its services built
``lifespan_started`` worker        the lifespan's start-up finished: DB schema checked,
                                   faults read from Redis, executor started
``ready``            supervisor    the worker first answered the supervisor's ping with
                                   "started" (uvicorn serves the socket); to within one
                                   supervisor tick
===================  ============  =========================================================

``CLOCK_MONOTONIC`` is one clock for every process of a Linux machine, so stamps from the
supervisor and from its workers subtract; they mean nothing on another machine or after a
reboot, so only differences leave the target (the supervisor's state file carries the
stamps, the harness keeps seconds since the kill).

A worker writes its own stamps to ``<dir>/<pid>.json`` (temp file + rename, so a reader
never sees half a file); the directory is the settings' ``startup_phases_dir``, set by the
launcher (``serve.py``); without one nothing is written (tests, a single in-process app).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

__all__ = ["WORKER_PHASES", "WorkerPhase", "WorkerStartup", "mark_phase", "read_phases"]

WorkerPhase = Literal["booted", "app_created", "lifespan_started"]
WORKER_PHASES: tuple[WorkerPhase, ...] = ("booted", "app_created", "lifespan_started")
"""The phases a worker stamps itself, in order (the supervisor stamps the others)."""


def mark_phase(directory: str | Path | None, phase: WorkerPhase) -> None:
    """Stamp ``phase`` for this process now; a no-op without a directory.

    Never raises: a full disk must not stop a worker from serving, the stamp is diagnosis.
    """
    if directory is None:
        return
    now = time.monotonic()
    path = Path(directory) / f"{os.getpid()}.json"
    with contextlib.suppress(OSError):
        stamps = read_phases(Path(directory), os.getpid())
        stamps[phase] = now
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(stamps))
        tmp.replace(path)


def read_phases(directory: Path, pid: int) -> dict[str, float]:
    """The stamps worker ``pid`` wrote so far (phase -> monotonic s); {} if none yet."""
    try:
        data = json.loads((directory / f"{pid}.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if k in WORKER_PHASES and isinstance(v, int | float)}


@dataclass(frozen=True, slots=True)
class WorkerStartup:
    """One worker's start-up as the supervisor's state file keeps it (monotonic s; None: not yet).

    ``replaced_pid``/``died``: the worker whose death this one replaces, and when the
    supervisor noticed that death (None for the first workers).

    Example::

        s = WorkerStartup(slot=0, pid=41, spawned=100.0, booted=100.8, app_created=102.1,
                          lifespan_started=102.5, ready=102.7)
        s.summary()  # 'ready 2.7 s after spawn (boot 0.8 s, import 1.3 s, lifespan 0.4 s, ...)'
    """

    slot: int
    pid: int
    spawned: float
    replaced_pid: int | None = None
    died: float | None = None
    booted: float | None = None
    app_created: float | None = None
    lifespan_started: float | None = None
    ready: float | None = None

    def with_stamps(self, stamps: dict[str, float]) -> WorkerStartup:
        """This start-up with the worker's own stamps (``read_phases``) filled in."""
        def pick(phase: WorkerPhase) -> float | None:
            mine = getattr(self, phase)
            return mine if mine is not None else stamps.get(phase)

        return replace(self, booted=pick("booted"), app_created=pick("app_created"),
                       lifespan_started=pick("lifespan_started"))

    def durations(self) -> dict[str, float | None]:
        """Seconds spent in each step: boot, import (app created), lifespan, listen."""
        marks = (self.spawned, self.booted, self.app_created, self.lifespan_started, self.ready)
        steps = ("boot", "import", "lifespan", "listen")
        return {
            step: None if a is None or b is None else b - a
            for step, a, b in zip(steps, marks, marks[1:], strict=False)
        }

    def summary(self) -> str:
        """One line for a log: how long to ready, and where the time went."""
        if self.ready is None:
            head = "not ready yet"
        else:
            head = f"ready {self.ready - self.spawned:.2f} s after spawn"
        parts = [f"{k} {v:.2f} s" for k, v in self.durations().items() if v is not None]
        return head + (f" ({', '.join(parts)})" if parts else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> WorkerStartup | None:
        """Parse a state-file entry; None for anything malformed (the file is diagnosis)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
        except TypeError:
            return None
