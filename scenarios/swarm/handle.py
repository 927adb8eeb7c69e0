"""Start a swarm as shard processes and steer it from the runner: poll, stop, wait, kill.

Shards are separate interpreters started with ``subprocess.Popen`` (never ``fork``: the
runner may have threads, and a forked child would inherit their locks). Each shard gets the
plan on its stdin and keeps that pipe open; closing it (or SIGTERM) asks the shard to stop,
and if the runner dies the pipe closes by itself, so shards never outlive their runner.
One daemon thread per shard reads its stdout, keeping the latest progress report, so a
shard never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import scenarios
from foundation.errors import RunIncompleteError
from scenarios.progress import ProgressReport
from scenarios.swarm.plan import SwarmPlan

__all__ = ["SwarmHandle", "start_swarm"]

# Shards load pyarrow, websockets and uvloop and plan their sessions before they can
# connect (about a second on a busy 2-core machine, more under load). start_swarm waits for
# every shard to say it is ready, then gives them all the same start this far ahead.
_READY_TIMEOUT_S = 60.0
_START_LEAD_S = 0.2


class _Shard:
    """One shard process and the thread that reads its progress."""

    def __init__(self, worker: int, proc: subprocess.Popen[bytes]) -> None:
        self.worker = worker
        self.proc = proc
        self.latest: ProgressReport | None = None
        self.ready = threading.Event()  # set by the first report, sent before the ramp
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name=f"swarm-shard-{worker}-stdout", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        for raw in stdout:
            report = ProgressReport.from_line(raw.decode("utf-8", "replace"))
            if report is not None:
                with self.lock:
                    self.latest = report
                self.ready.set()
        stdout.close()
        self.ready.set()  # the shard is gone: nobody waits for it any more


class SwarmHandle:
    """A running swarm: one shard process per ``plan.shards``, worker numbers ``workers``.

    Example::

        handle = start_swarm(plan, run_dir, first_worker=4)
        while any(code is None for code in handle.wait(timeout=1.0).values()):
            show(merge_reports(handle.poll()))
        # or, on Ctrl-C:  handle.stop(); codes = handle.wait(10); handle.kill() if needed
    """

    def __init__(self, shards: list[_Shard]) -> None:
        self._shards = shards
        self.workers: list[int] = [s.worker for s in shards]

    @property
    def pids(self) -> dict[int, int]:
        """worker -> process id, e.g. to sample the generator's own CPU and RSS."""
        return {s.worker: s.proc.pid for s in self._shards}

    def release(self, start_at: float) -> None:
        """Start shards made with ``hold_start=True`` at epoch ``start_at`` (call it once)."""
        _send_start(self._shards, start_at)

    def poll(self) -> list[ProgressReport]:
        """The latest progress report of each shard that has reported (non-blocking)."""
        out: list[ProgressReport] = []
        for s in self._shards:
            with s.lock:
                if s.latest is not None:
                    out.append(s.latest)
        return out

    def stop(self) -> None:
        """Ask every shard to finish replies in flight, close its sessions and write its part."""
        for s in self._shards:
            if s.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    s.proc.send_signal(signal.SIGTERM)
            _close_quietly(s.proc.stdin)

    def wait(self, timeout: float) -> dict[int, int | None]:
        """Wait up to ``timeout`` seconds in all; worker -> exit code (None = still running)."""
        deadline = time.monotonic() + timeout
        codes: dict[int, int | None] = {}
        for s in self._shards:
            try:
                codes[s.worker] = s.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                codes[s.worker] = None
                continue
            # The process is gone: its stdout reaches EOF, so the reader ends promptly.
            s.reader.join(max(0.0, deadline - time.monotonic()))
        return codes

    def kill(self) -> None:
        """SIGKILL every shard still running (after :meth:`wait` timed out) and reap it.

        A killed shard leaves ``samples/worker-N.arrows``; the runner turns it into a part
        with ``scenarios.record.finalize_stream``.
        """
        for s in self._shards:
            if s.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    s.proc.kill()
            _close_quietly(s.proc.stdin)
        for s in self._shards:
            s.proc.wait()
            s.reader.join(5.0)

    def __enter__(self) -> SwarmHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Leaving the block stops the shards, and kills any that do not finish in time."""
        self.stop()
        codes = self.wait(timeout=15.0)
        if any(code is None for code in codes.values()):
            self.kill()


def start_swarm(
    plan: SwarmPlan,
    run_dir: Path,
    first_worker: int,
    *,
    stderr: IO[bytes] | int | None = None,
    shards: Sequence[int] | None = None,
    hold_start: bool = False,
) -> SwarmHandle:
    """Start ``plan.shards`` shard processes writing samples as workers ``first_worker``...

    Returns once every shard is ready (imports done, sessions planned: about a second), with
    all shards about to begin their ramps on one common clock. ``stderr`` is where shards'
    diagnostics go (a file, ``subprocess.DEVNULL``, or ``None`` to inherit ours). Raises
    :class:`~foundation.errors.RunIncompleteError` if a shard exits before it is ready.

    ``shards`` runs only those shard indices of ``plan.shards`` (a worker host of a
    distributed run takes a slice; default: all), as workers ``first_worker + position``.
    ``hold_start`` returns once every shard is ready *without* starting them:
    :meth:`SwarmHandle.release` then names the common start (the distributed master's).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    payload = plan.to_json().encode() + b"\n"
    env = dict(os.environ)
    # The shard runs `-m scenarios.swarm.shard`: make sure it imports this very tree.
    root = str(Path(scenarios.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    indices = list(range(plan.shards)) if shards is None else list(shards)
    if any(not 0 <= k < plan.shards for k in indices):
        raise ValueError(f"shards {indices} outside 0..{plan.shards - 1}")
    started: list[_Shard] = []
    try:
        for position, k in enumerate(indices):
            worker = first_worker + position
            proc = subprocess.Popen(
                [
                    sys.executable, "-m", "scenarios.swarm.shard", "--plan-stdin",
                    "--start-from-stdin", "--run-dir", str(run_dir), "--shard", str(k),
                    "--worker", str(worker),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
                start_new_session=True,  # the runner decides about Ctrl-C, not the terminal
            )  # fmt: skip
            started.append(_Shard(worker, proc))
            assert proc.stdin is not None
            proc.stdin.write(payload)
            proc.stdin.flush()
        _wait_ready(started)
        if not hold_start:
            _send_start(started, time.time() + _START_LEAD_S)
    except BaseException:
        SwarmHandle(started).kill()
        raise
    return SwarmHandle(started)


def _wait_ready(shards: list[_Shard]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    for s in shards:
        s.ready.wait(max(0.0, deadline - time.monotonic()))
        code = s.proc.poll()
        if code is not None or not s.ready.is_set():
            why = f"exited with code {code}" if code is not None else "did not get ready"
            raise RunIncompleteError(
                f"swarm shard {s.worker} {why} within {_READY_TIMEOUT_S:.0f} s of its start; "
                "its stderr says why"
            )


def _send_start(shards: list[_Shard], start_at: float) -> None:
    for s in shards:
        if s.proc.stdin is None or s.proc.stdin.closed:
            continue
        with contextlib.suppress(OSError):  # a shard that died since it was ready
            s.proc.stdin.write(f"{start_at!r}\n".encode())
            s.proc.stdin.flush()


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()
