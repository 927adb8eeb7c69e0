"""The runner's side of faults: the timeline, the health prober and the recovery samples.

One object per run so ``run.py`` needs only a few calls: :meth:`RunFaults.start` once the
load workers are started (probing begins), :meth:`RunFaults.load_started` when the load's
clock starts (the timeline counts from it), :meth:`RunFaults.undo` first thing on every
stop path, :meth:`RunFaults.finish` after the workers stopped (prober stopped, one
``recovery`` sample per fault, run.json's ``faults`` list returned).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from foundation.errors import TargetError
from scenarios.faults import FaultError, FaultTimeline, HealthProber, make_action, recoveries
from scenarios.faults.kill import KillFault
from scenarios.runner.target import TargetSession
from scenarios.spec import Scenario

__all__ = ["RunFaults"]

REFERENCE_HEALTH_PATH = "/readyz"


class RunFaults:
    """Faults and health probing of one run (see the module docstring)."""

    def __init__(self, scenario: Scenario, target: TargetSession, run_dir: Path) -> None:
        try:
            actions = [make_action(f, target) for f in scenario.faults]
        except FaultError as exc:
            raise TargetError(f"the scenario's faults cannot run on this target: {exc}") from exc
        self.timeline = FaultTimeline(scenario.faults, actions)
        self._actions = actions
        self._path = scenario.health_path or (
            REFERENCE_HEALTH_PATH if scenario.is_reference_target() else None
        )
        self._target = target
        self._run_dir = run_dir
        self._prober: HealthProber | None = None
        self._list: list[dict[str, Any]] | None = None
        self.samples_written = 0  # health + recovery rows (not load: a run of only these failed)
        exec_timeouts = [f.exec_.timeout for f in scenario.faults if f.exec_ is not None]
        self._join_s = max(exec_timeouts, default=0.0) + 60.0

    def start(self, worker: int) -> None:
        """Start probing health; samples go to ``samples/part-<worker>``."""
        if self._path is None:
            return
        whole = self._target.supervised.whole if self._target.supervised is not None else None
        self._prober = HealthProber(self._target.url, self._path, self._run_dir, worker, whole)
        self._prober.start()

    def load_started(self, at: float) -> None:
        self.timeline.start(at)

    def in_force(self) -> tuple[str, ...]:
        return tuple(self.timeline.in_force())

    def undo(self) -> None:
        """Stop the schedule and undo every fault in force (idempotent)."""
        if self._list is None:
            self._list = self.timeline.stop(self._join_s)

    def finish(self) -> list[dict[str, Any]]:
        """Stop probing, write the recovery samples; run.json's ``faults`` list."""
        self.undo()
        self._note_restarts()
        prober = self._prober
        if prober is not None:
            prober.stop()
            try:
                for r in recoveries(self.timeline.records, prober.probes, time.time()):
                    prober.write_recovery(r.name, r.ts, r.latency_ms, r.ok, r.error)
            finally:
                prober.close()
                self.samples_written = prober.rows_written
            self._prober = None
        assert self._list is not None
        return self._list

    def _note_restarts(self) -> None:
        """Each kill's replacement, phase by phase, from the supervisor (target still up)."""
        kills = [(r, a) for r, a in zip(self.timeline.records, self._actions, strict=True)
                 if isinstance(a, KillFault) and a.killed_pid is not None]
        if not kills or self._target.supervised is None:
            return
        startups = self._target.supervised.startups()
        for record, action in kills:
            assert isinstance(action, KillFault)
            record.restart = action.restart(startups)
        self._list = [r.to_json() for r in self.timeline.records]
