"""``kill:``: a signal to one API process of the supervised (embedded) target.

The supervisor (``target_service/supervisor.py``) notices the death and starts a
replacement after its restart delay, as an orchestrator would; the recovery probe waits
until every worker slot is served again. Nothing to undo. :meth:`KillFault.restart` tells,
from the supervisor's start-up phases, when the replacement got through each phase (run.json
``faults[].restart``).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from foundation.layout import WorkerRestart
from scenarios.faults.base import FaultError

if TYPE_CHECKING:
    from target_service.startup_phases import WorkerStartup

__all__ = ["KillFault"]


class KillFault:
    """Send ``signal_name`` to worker ``process`` (an index) or to a random live one."""

    def __init__(
        self,
        worker_pids: Callable[[], list[int | None]],
        process: int | str = "any",
        signal_name: str = "SIGKILL",
        rng: random.Random | None = None,
    ) -> None:
        self.worker_pids = worker_pids
        self.process = process
        self.signum = signal.Signals[signal_name]
        self._rng = rng or random.Random()
        self.killed_pid: int | None = None
        self.killed_at: float | None = None  # monotonic: the clock the supervisor stamps with

    def apply(self) -> None:
        pids = self.worker_pids()
        if isinstance(self.process, int):
            if self.process >= len(pids) or pids[self.process] is None:
                raise FaultError(f"worker {self.process} is not running (workers: {pids})")
            pid = pids[self.process]
        else:
            live = [p for p in pids if p is not None]
            if not live:
                raise FaultError("no live worker process to kill")
            pid = self._rng.choice(live)
        assert pid is not None
        sent = time.monotonic()
        try:
            os.kill(pid, self.signum)
        except ProcessLookupError as exc:
            raise FaultError(f"worker process {pid} was already gone") from exc
        self.killed_pid, self.killed_at = pid, sent

    def restart(self, startups: Sequence[WorkerStartup]) -> WorkerRestart | None:
        """The killed worker's replacement in seconds since the kill; None if nothing was killed.

        ``startups``: the supervisor's records (``EmbeddedTarget.startups``); the replacement
        is the one that names the killed pid as the worker it replaced.
        """
        if self.killed_pid is None or self.killed_at is None:
            return None
        t0 = self.killed_at
        new = next((s for s in startups if s.replaced_pid == self.killed_pid), None)
        if new is None:
            return WorkerRestart(killed_pid=self.killed_pid)

        def since(t: float | None) -> float | None:
            return None if t is None else round(t - t0, 3)

        return WorkerRestart(
            killed_pid=self.killed_pid, pid=new.pid, noticed_s=since(new.died),
            spawned_s=since(new.spawned), booted_s=since(new.booted),
            app_created_s=since(new.app_created), lifespan_started_s=since(new.lifespan_started),
            ready_s=since(new.ready),
        )

    def undo(self) -> None:
        """A kill is not undone: the supervisor restarts the process."""
