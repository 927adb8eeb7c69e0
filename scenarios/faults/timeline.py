"""The fault timeline: apply and undo each fault at its offset from load start.

Runs in a thread of its own so a slow action (``pg_ctl``, an ``exec`` with a 30 s timeout)
never stalls the runner's loop. Records each fault's actual start and end in the shape
run.json's ``faults`` list has (``docs/scenarios.md#faults``). :meth:`FaultTimeline.stop`
is the one clean-up path: every stop of the run (end, Ctrl-C, crashed worker, abort) calls
it, and it undoes every fault still in force before returning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from foundation.layout import WorkerRestart
from scenarios.faults.base import FaultAction, FaultError
from scenarios.spec import FaultModel

__all__ = ["FaultRecord", "FaultTimeline"]


@dataclass
class FaultRecord:
    """One fault's plan and what happened (mutable: the timeline fills it in)."""

    index: int
    name: str
    action: str
    spec: dict[str, Any]
    planned_at: float
    planned_for: float | None
    started_at: float | None = None
    ended_at: float | None = None
    status: str = "skipped"  # while running: "pending" -> "in_force"
    error: str = ""
    interrupted_at: float | None = None  # undone at shutdown (not in run.json: ended_at stays null)
    restart: WorkerRestart | None = None  # a kill's replacement worker, set at the run's end

    def to_json(self) -> dict[str, Any]:
        """The run.json entry, exactly the contract's keys."""
        status = "skipped" if self.status == "pending" else self.status
        restart = {} if self.restart is None else {"restart": self.restart.model_dump(mode="json")}
        return {
            "index": self.index, "name": self.name, "action": self.action, "spec": self.spec,
            "planned_at": self.planned_at, "planned_for": self.planned_for,
            "started_at": self.started_at, "ended_at": self.ended_at,
            "status": "interrupted" if status == "in_force" else status, "error": self.error,
            **restart,
        }


class FaultTimeline:
    """Schedule ``faults`` from the load's start; see the module docstring."""

    def __init__(
        self,
        faults: Sequence[FaultModel],
        actions: Sequence[FaultAction],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.records = [
            FaultRecord(
                index=i, name=f.label(i), action=f.action,
                spec=f.model_dump(mode="json", by_alias=True, exclude_none=True),
                planned_at=f.at, planned_for=f.for_, status="pending",
            )
            for i, f in enumerate(faults)
        ]
        self._faults = list(faults)
        self._actions = list(actions)
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, load_started_at: float) -> None:
        """Start the schedule; offsets count from ``load_started_at`` (epoch seconds)."""
        if not self.records or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, args=(load_started_at,), name="fault-timeline", daemon=True
        )
        self._thread.start()

    def in_force(self) -> list[str]:
        """Names of the faults in force now (for the live display)."""
        with self._lock:
            return [r.name for r in self.records if r.status == "in_force"]

    def stop(self, join_timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """End the schedule, undo every fault still in force; return run.json's list."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(join_timeout_s)
        for record, action in zip(self.records, self._actions, strict=True):
            if record.status == "in_force":
                record.interrupted_at = self._clock()
                try:
                    action.undo()
                    record.error = record.error or "the run ended while the fault was in force; undone then"
                except FaultError as exc:
                    record.error = f"undo at the end of the run failed: {exc}"
                with self._lock:
                    record.status = "interrupted"
        return [r.to_json() for r in self.records]

    def _events(self, t0: float) -> list[tuple[float, int, bool]]:
        """(when, fault index, is_end) in time order; ends before starts at the same instant."""
        events: list[tuple[float, int, bool]] = []
        for i, f in enumerate(self._faults):
            events.append((t0 + f.at, i, False))
            if f.for_ is not None:
                events.append((t0 + f.at + f.for_, i, True))
        return sorted(events, key=lambda e: (e[0], not e[2], e[1]))

    def _run(self, t0: float) -> None:
        for when, i, is_end in self._events(t0):
            if self._stop.wait(max(0.0, when - self._clock())):
                return
            if is_end:
                self._end(i)
            else:
                self._begin(i)

    def _begin(self, i: int) -> None:
        record, action = self.records[i], self._actions[i]
        # stamped before applying: the fault can take effect at any moment of the apply (an
        # immediate PostgreSQL stop is seen by clients before pg_ctl returns), so its start
        # is the earliest moment; its end is stamped after the undo has finished
        began = self._clock()
        try:
            action.apply()
        except FaultError as exc:
            with self._lock:
                record.status, record.error = "failed", str(exc)
            return
        with self._lock:
            record.started_at = began
            if self._faults[i].for_ is None:  # kill, exec without undo: over once applied
                record.ended_at, record.status = began, "done"
            else:
                record.status = "in_force"

    def _end(self, i: int) -> None:
        record, action = self.records[i], self._actions[i]
        if record.status != "in_force" or self._stop.is_set():
            return
        try:
            action.undo()
        except FaultError as exc:
            with self._lock:
                record.status, record.error = "failed", f"undo failed: {exc}"
            return
        with self._lock:
            record.ended_at, record.status = self._clock(), "done"
