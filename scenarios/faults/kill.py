"""``kill:``: a signal to one API process of the supervised (embedded) target.

The supervisor (``target_service/supervisor.py``) notices the death and starts a
replacement after its restart delay, as an orchestrator would; the recovery probe waits
until every worker slot is served again. Nothing to undo.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable

from scenarios.faults.base import FaultError

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
        try:
            os.kill(pid, self.signum)
        except ProcessLookupError as exc:
            raise FaultError(f"worker process {pid} was already gone") from exc
        self.killed_pid = pid

    def undo(self) -> None:
        """A kill is not undone: the supervisor restarts the process."""
