"""The runner's side of a distributed run: start the master process, steer it as one handle.

The runner never imports Locust (gevent), so the Locust master lives in its own process
(``python -m scenarios.distributed.master``); this module speaks to it over pipes, like
:mod:`scenarios.http.launcher` does with its workers. :func:`start_distributed` returns
once every worker host has joined and the load has started (or raises), and the
:class:`DistributedHandle` it returns is a :class:`~scenarios.runner.engines.LoadHandle`:
``workers`` are the worker numbers of every process on every host, ``poll`` their latest
progress, ``wait`` their exit codes (255 for those of a host that was lost).

Example::

    handle = start_distributed(http_plan, swarm_plan, run_dir, DistributedSettings(2))
    while any(code is None for code in handle.wait(1.0).values()):
        show(merge_reports(handle.poll()))
    handle.facts()["worker_hosts"]      # what run.json lists
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scenarios
from foundation.errors import RunIncompleteError
from scenarios.distributed.settings import DEFAULT_PORT, MasterConfig
from scenarios.progress import ProgressReport

if TYPE_CHECKING:
    from scenarios.http.plan import HttpPlan
    from scenarios.swarm import SwarmPlan

__all__ = ["DistributedHandle", "DistributedSettings", "start_distributed"]

_LOST_CODE = 255


@dataclass(frozen=True, slots=True)
class DistributedSettings:
    """How many worker hosts to wait for, where to listen, and from where to accept them."""

    expect_workers: int
    bind_host: str = "*"
    bind_port: int = DEFAULT_PORT
    join_timeout_s: float = 120.0
    allowed_networks: tuple[str, ...] = ()
    stop_timeout_s: float = 30.0
    clock_interval_s: float = 30.0  # offsets re-measured this often during the run (drift)


class DistributedHandle:
    """The master process and, through it, every process on every worker host."""

    def __init__(self, proc: subprocess.Popen[bytes], say: Callable[[str], None]) -> None:
        self._proc = proc
        self._say = say
        self._lock = threading.Condition()
        self.workers: list[int] = []
        self.port: int | None = None
        self.started_at: float | None = None
        self.error: str | None = None
        self._latest: dict[int, ProgressReport] = {}
        self._codes: dict[int, int] = {}
        self._lost: dict[int, str] = {}
        self._hosts: dict[str, dict[str, Any]] = {}
        self._summary: dict[str, Any] | None = None
        self._reader = threading.Thread(target=self._read, name="distributed-master", daemon=True)
        self._reader.start()

    # ----- the master's stdout -----------------------------------------------------------

    def _read(self) -> None:
        assert self._proc.stdout is not None
        with contextlib.suppress(ValueError, OSError):
            for raw in self._proc.stdout:
                self._take(raw.decode("utf-8", "replace").strip())
        with self._lock:
            self._lock.notify_all()

    def _take(self, line: str) -> None:
        report = ProgressReport.from_line(line)
        if report is not None:
            with self._lock:
                self._latest[report.worker] = report
            return
        try:
            data = json.loads(line)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            self._take_event(data)
            self._lock.notify_all()

    def _take_event(self, data: dict[str, Any]) -> None:
        if "listening" in data:
            self.port = int(data["listening"])
            self._say(f"waiting for worker hosts on port {self.port}")
        elif "joined" in data:
            host = data["joined"]
            self._hosts[host["node"]] = host
            self._say(
                f"worker host {host.get('hostname', '?')} ({host['address']}) joined, clock offset "
                f"{host['clock_offset_s'] * 1000:+.1f} ms"
            )
        elif "assigned" in data:
            self.workers = sorted(w for h in data["assigned"] for w in h["workers"])
        elif "started" in data:
            self.started_at = float(data["started"])
        elif "exited" in data:
            lost = data.get("lost")
            for w, code in data["exited"].items():
                self._codes.setdefault(int(w), int(code))
                if lost:
                    self._lost[int(w)] = str(lost.get("lost_reason", "lost"))
        elif "summary" in data:
            self._summary = data["summary"]
        elif "error" in data:
            self.error = str(data["error"])

    # ----- LoadHandle --------------------------------------------------------------------

    def wait_started(self, timeout: float) -> None:
        """Block until the load started; raise :class:`RunIncompleteError` if it cannot."""
        with self._lock:
            self._lock.wait_for(
                lambda: self.started_at is not None
                or self.error is not None
                or self._proc.poll() is not None,
                timeout,
            )
            if self.started_at is not None:
                return
            why = self.error or (
                f"the distributed master exited with code {self._proc.poll()} before the load "
                "started; see master.log in the run directory"
                if self._proc.poll() is not None
                else f"the load did not start within {timeout:g} s"
            )
        raise RunIncompleteError(why)

    def poll(self) -> list[ProgressReport]:
        with self._lock:
            return [self._latest[w] for w in sorted(self._latest)]

    def stop(self) -> None:
        """Ask every host to stop (the master tells them), keeping what they ship."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def wait(self, timeout: float) -> dict[int, int | None]:
        """Exit code per worker; a master that ended leaves the rest at its own code."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._lock.wait_for(lambda: self._all_known() or self._proc.poll() is not None, timeout)
        rc = self._proc.poll()
        if rc is not None:
            self._reader.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            codes: dict[int, int | None] = {w: self._codes.get(w) for w in self.workers}
            if rc is not None:
                for w, code in codes.items():
                    if code is None:
                        codes[w] = rc if rc != 0 else _LOST_CODE
            elif not self._all_known():
                return codes
        if rc is None and all(c is not None for c in codes.values()):
            with contextlib.suppress(subprocess.TimeoutExpired):  # the master writes its summary
                self._proc.wait(max(0.1, deadline - time.monotonic()))
        return codes

    def _all_known(self) -> bool:
        return bool(self.workers) and all(w in self._codes for w in self.workers)

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._reader.join(5.0)

    def explain(self, worker: int) -> str | None:
        """Why a worker ended, when its host was lost (the runner's abort reason)."""
        with self._lock:
            return self._lost.get(worker)

    def facts(self) -> dict[str, Any]:
        """What run.json lists: every worker host (address, versions, clock offset...)."""
        with self._lock:
            summary = self._summary or {"worker_hosts": list(self._hosts.values())}
        return {"distributed": summary}

    @property
    def pids(self) -> dict[int, int]:
        return {}

    def __enter__(self) -> DistributedHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=60.0)
        self.kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def start_distributed(
    http_plan: HttpPlan | None,
    swarm_plan: SwarmPlan | None,
    run_dir: Path,
    settings: DistributedSettings,
    say: Callable[[str], None] = lambda _: None,
) -> DistributedHandle:
    """Start the master, wait for the worker hosts and the common start; see the module doc.

    Raises :class:`RunIncompleteError` (and leaves no process behind) when the workers do
    not come within ``join_timeout_s`` or are not ready in time; the master's log is
    ``run_dir/master.log``.
    """
    config = MasterConfig(
        run_dir=run_dir,
        bind_host=settings.bind_host,
        bind_port=settings.bind_port,
        expect_workers=settings.expect_workers,
        join_timeout_s=settings.join_timeout_s,
        allowed_networks=settings.allowed_networks,
        stop_timeout_s=settings.stop_timeout_s,
        clock_interval_s=settings.clock_interval_s,
        http_plan=None if http_plan is None else http_plan.to_json(),
        swarm_plan=None if swarm_plan is None else swarm_plan.to_json(),
    )
    env = dict(os.environ)
    root = str(Path(scenarios.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (root, env.get("PYTHONPATH")) if x)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "master.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scenarios.distributed.master"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            start_new_session=True,  # the runner decides about Ctrl-C
        )
    handle = DistributedHandle(proc, say)
    try:
        assert proc.stdin is not None
        proc.stdin.write(config.model_dump_json().encode() + b"\n")
        proc.stdin.flush()
        handle.wait_started(settings.join_timeout_s + 180.0)
    except BaseException:
        handle.stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5.0)
        handle.kill()
        raise
    return handle
