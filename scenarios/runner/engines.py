"""The runner's one interface to the load engines (Locust HTTP workers, WebSocket shards).

Both engines run their workers as separate processes and hand back a handle with the same
five methods; :class:`HandleGroup` treats any number of them as one. The engines are imported
lazily, inside :func:`start_http` / :func:`start_swarm`, so that importing the runner never
imports Locust (which monkey-patches the importing process with gevent).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scenarios.progress import ProgressReport

if TYPE_CHECKING:
    from scenarios.distributed import DistributedSettings
    from scenarios.http.plan import HttpPlan
    from scenarios.swarm import SwarmPlan

__all__ = ["HandleGroup", "LoadHandle", "start_distributed", "start_http", "start_swarm"]


class LoadHandle(Protocol):
    """What ``start_http_load`` and ``start_swarm`` return."""

    @property
    def workers(self) -> Sequence[int]: ...

    def poll(self) -> list[ProgressReport]:
        """Progress reports received since the last call (non-blocking)."""
        ...

    def stop(self) -> None:
        """Ask every worker to finish: flush samples, close the part file, exit."""
        ...

    def wait(self, timeout: float) -> Mapping[int, int | None]:
        """Worker -> exit code, None for a worker still running after ``timeout`` seconds."""
        ...

    def kill(self) -> None:
        """Kill every worker still running (samples after the last flushed chunk are lost)."""
        ...


def start_http(plan: HttpPlan, run_dir: Path, first_worker: int) -> LoadHandle:
    from scenarios.http import start_http_load

    handle: LoadHandle = start_http_load(plan, run_dir, first_worker)
    return handle


def start_swarm(plan: SwarmPlan, run_dir: Path, first_worker: int) -> LoadHandle:
    from scenarios.swarm import start_swarm as _start

    handle: LoadHandle = _start(plan, run_dir, first_worker)
    return handle


def start_distributed(
    http_plan: HttpPlan | None,
    swarm_plan: SwarmPlan | None,
    run_dir: Path,
    settings: DistributedSettings,
    say: Callable[[str], None],
) -> LoadHandle:
    """Both plans on worker hosts (``slogate worker``); returns once their load started."""
    from scenarios.distributed import start_distributed as _start

    handle: LoadHandle = _start(http_plan, swarm_plan, run_dir, settings, say)
    return handle


class HandleGroup:
    """Several engine handles driven as one: poll, watch exits, stop, then kill stragglers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.handles: list[LoadHandle] = []
        self._clock = clock
        self.exit_codes: dict[int, int] = {}
        self._exits = contextlib.ExitStack()

    def add(self, handle: LoadHandle) -> None:
        self.handles.append(handle)
        if isinstance(handle, contextlib.AbstractContextManager):
            # the engines' own exit also releases their pipes and reader threads
            self._exits.enter_context(handle)

    def close(self) -> None:
        """Leave every handle's context (after :meth:`wait`/:meth:`kill`, this is quick)."""
        self._exits.close()

    @property
    def workers(self) -> list[int]:
        return [w for h in self.handles for w in h.workers]

    def next_worker(self) -> int:
        """The first worker number not used by any handle yet."""
        return max(self.workers, default=-1) + 1

    def poll(self) -> list[ProgressReport]:
        return [r for h in self.handles for r in h.poll()]

    def newly_exited(self) -> dict[int, int]:
        """Workers that exited since the last call, with their exit codes."""
        new: dict[int, int] = {}
        for h in self.handles:
            for worker, code in h.wait(0).items():
                if code is not None and worker not in self.exit_codes:
                    new[worker] = code
        self.exit_codes.update(new)
        return new

    def all_exited(self) -> bool:
        return all(w in self.exit_codes for w in self.workers)

    def stop(self) -> None:
        for h in self.handles:
            h.stop()

    def wait(self, timeout_s: float) -> list[int]:
        """Wait up to ``timeout_s`` for every worker; return the ones still running."""
        deadline = self._clock() + timeout_s
        for h in self.handles:
            remaining = max(0.0, deadline - self._clock())
            for worker, code in h.wait(remaining).items():
                if code is not None:
                    self.exit_codes.setdefault(worker, code)
        return [w for w in self.workers if w not in self.exit_codes]

    def explain(self, worker: int) -> str | None:
        """A handle's own words for why ``worker`` ended (e.g. its host was lost), if any."""
        for h in self.handles:
            explain = getattr(h, "explain", None)
            if explain is not None and worker in h.workers:
                text: str | None = explain(worker)
                return text
        return None

    def facts(self) -> dict[str, Any]:
        """What handles want kept in run.json (a distributed run: its worker hosts)."""
        out: dict[str, Any] = {}
        for h in self.handles:
            facts = getattr(h, "facts", None)
            if facts is not None:
                out.update(facts())
        return out

    def kill(self) -> None:
        for h in self.handles:
            h.kill()
        for h in self.handles:
            for worker, code in h.wait(5.0).items():
                if code is not None:
                    self.exit_codes.setdefault(worker, code)
