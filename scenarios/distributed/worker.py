"""A worker host of a distributed run (``slogate worker --master HOST[:PORT]``).

Joins the master as a Locust worker (``WorkerRunner``: ZeroMQ, heartbeats), tells it who it
is, answers its clock pings, takes its :class:`~scenarios.distributed.protocol.Assignment`
and runs it *exactly as a local run would*: HTTP worker processes
(:func:`scenarios.http.start_http_load`) and swarm shards
(:func:`scenarios.swarm.start_swarm`) writing sample streams into a scratch directory. Every
half second it ships what those streams gained as one chunk (Arrow IPC bytes) and, once a
second, their progress; when its processes end it ships the rest, says ``slogate_done`` with
their exit codes, and leaves. A worker killed mid-run loses at most its last chunk.

Imports Locust (gevent): only the worker process imports this module.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import gevent
from gevent.event import AsyncResult, Event
from locust.env import Environment
from locust.rpc.protocol import Message

from foundation.errors import RunIncompleteError, TargetError
from foundation.layout import RunLayout
from scenarios.distributed import protocol as p
from scenarios.distributed.chunks import StreamTailer, encode_chunk
from scenarios.distributed.guard import ListeningWorker
from scenarios.distributed.settings import host_facts
from scenarios.http import start_http_load
from scenarios.http.plan import HttpPlan
from scenarios.progress import ProgressReport
from scenarios.record import finalize_stream
from scenarios.swarm import SwarmPlan, start_swarm

__all__ = ["WorkerOptions", "run_worker"]

log = logging.getLogger("slogate.distributed.worker")

_SHIP_S = 0.5
_PROGRESS_S = 1.0
_READY_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """``slogate worker`` flags, typed.

    ``clock_skew_s`` is a test hook: it makes this host's clock *read* that many seconds
    ahead (pings, start instant, sample timestamps), as a host with a wrong clock would, so
    a test can check the master measures and removes the offset. Time namespaces cannot
    shift ``CLOCK_REALTIME``, hence a hook in slogate's own time source.
    """

    master_host: str
    master_port: int
    join_timeout_s: float = 120.0
    scratch_dir: Path | None = None
    source_addresses: tuple[str, ...] = ()
    clock_skew_s: float = 0.0
    clock_drift_ppm: float = 0.0  # test hook too: the skew grows this fast
    say: Callable[[str], None] = print


class _Handle(Protocol):
    workers: list[int]

    def poll(self) -> list[ProgressReport]: ...
    def stop(self) -> None: ...
    def wait(self, timeout: float) -> dict[int, int | None]: ...
    def kill(self) -> None: ...


class HostClock:
    """This host's clock as the master sees it: real time plus the test skew, which grows by
    ``drift_ppm`` millionths of the time since the clock was made (a clock running fast)."""

    def __init__(self, skew_s: float = 0.0, drift_ppm: float = 0.0) -> None:
        self.base_s = skew_s
        self.drift = drift_ppm * 1e-6
        self.t0 = time.time()

    def skew_at(self, real: float) -> float:
        return self.base_s + self.drift * (real - self.t0)

    @property
    def skewed(self) -> bool:
        return self.base_s != 0.0 or self.drift != 0.0

    def now(self) -> float:
        real = time.time()
        return real + self.skew_at(real)

    def to_real(self, host_time: float) -> float:
        return host_time - self.skew_at(host_time)  # exact to (skew x drift): negligible


class Worker:
    """One joined worker host; see the module docstring."""

    def __init__(self, options: WorkerOptions, scratch: Path) -> None:
        self.options = options
        self.clock = HostClock(options.clock_skew_s, options.clock_drift_ppm)
        self.layout = RunLayout(scratch)
        self.assignment: AsyncResult = AsyncResult()
        self.start_at: AsyncResult = AsyncResult()
        self.stop_requested = Event()
        self.handles: list[_Handle] = []
        self.tailers: list[StreamTailer] = []
        self.chunks_sent = 0
        self.env = Environment(user_classes=[])
        handlers = {
            p.PING: self._on_ping, p.ASSIGN: self._on_assign, p.START: self._on_start, p.STOP: self._on_stop
        }
        try:
            with gevent.Timeout(options.join_timeout_s):
                self.runner = ListeningWorker(self.env, options.master_host, options.master_port, handlers)
        except (gevent.Timeout, ConnectionError) as exc:
            raise TargetError(
                f"no master answered at {options.master_host}:{options.master_port} within "
                f"{options.join_timeout_s:g} s; is 'slogate run --expect-workers N' running "
                "there, and is the port open?"
            ) from exc
        self.env.runner = self.runner
        if self.runner.refusal is not None:
            self.runner.quit()
            raise TargetError(self.runner.refusal)
        self.runner.send_message(p.HELLO, host_facts())

    # ----- handlers ----------------------------------------------------------------------

    def _on_ping(self, environment: Environment, msg: Message, **_: Any) -> None:
        t2 = self.clock.now()
        data = {"seq": msg.data["seq"], "t1": msg.data["t1"], "t2": t2}
        data["t3"] = self.clock.now()
        self.runner.send_message(p.PONG, data)

    def _on_assign(self, environment: Environment, msg: Message, **_: Any) -> None:
        if not self.assignment.ready():
            self.assignment.set(p.Assignment.from_wire(msg.data))

    def _on_start(self, environment: Environment, msg: Message, **_: Any) -> None:
        if not self.start_at.ready():
            self.start_at.set(self.clock.to_real(float(msg.data["at"])))

    def _on_stop(self, environment: Environment, msg: Message, **_: Any) -> None:
        self.request_stop()

    def request_stop(self) -> None:
        self.stop_requested.set()
        for handle in self.handles:
            handle.stop()
        if not self.start_at.ready():
            self.start_at.set(None)

    def master_gone(self) -> bool:
        return all(g.dead for g in self.runner.greenlet)

    # ----- the run -----------------------------------------------------------------------

    def prepare(self, a: p.Assignment) -> None:
        """Start this host's processes, held at the barrier until the master's start."""
        root = self.layout.root
        if a.http_plan is not None and a.http_shares:
            plan = HttpPlan.from_json(a.http_plan)
            http = start_http_load(plan, root, a.first_worker, shares=a.http_shares, hold_start=True)
            self.handles.append(http)
            if not http.wait_ready(_READY_TIMEOUT_S):
                raise RunIncompleteError(f"HTTP workers not ready within {_READY_TIMEOUT_S:g} s")
        if a.swarm_plan is not None and a.swarm_shards:
            swarm = SwarmPlan.from_json(a.swarm_plan)
            if self.options.source_addresses or swarm.source_addresses:
                swarm = replace(swarm, source_addresses=self.options.source_addresses)
            self.handles.append(
                start_swarm(swarm, root, a.swarm_first_worker, shards=a.swarm_shards, hold_start=True)
            )
        self.tailers = [StreamTailer(self.layout, w) for w in a.workers]

    def release(self, at: float) -> None:
        for handle in self.handles:
            handle.release(at)  # type: ignore[attr-defined]

    def ship(self) -> int:
        batches = [b for t in self.tailers for b in t.read_new()]
        if not batches:
            return 0
        if self.clock.skewed:  # what a host with that clock would have recorded
            batches = [_shift_by_clock(b, self.clock) for b in batches]
        self.runner.send_message(p.CHUNK, {"seq": self.chunks_sent, "data": encode_chunk(batches)})
        self.chunks_sent += 1
        return sum(b.num_rows for b in batches)

    def progress(self) -> None:
        reports = [r.to_line() for h in self.handles for r in h.poll()]
        if reports:
            self.runner.send_message(p.PROGRESS, {"reports": reports})

    def exit_codes(self) -> dict[int, int | None]:
        return {w: c for h in self.handles for w, c in h.wait(0).items()}

    def drive(self) -> dict[int, int | None]:
        """Ship and report until every local process has ended (or the master is gone)."""
        next_progress = time.monotonic()
        while True:
            codes = self.exit_codes()
            if all(c is not None for c in codes.values()) or self.master_gone():
                return codes
            self.ship()
            if time.monotonic() >= next_progress:
                self.progress()
                next_progress += _PROGRESS_S
            gevent.sleep(_SHIP_S)

    def finish(self, codes: dict[int, int | None]) -> None:
        for handle in self.handles:
            handle.stop()
            if any(c is None for c in handle.wait(15.0).values()):
                handle.kill()
        codes = self.exit_codes()
        for stream in sorted(self.layout.samples_dir.glob("worker-*.arrows")):
            finalize_stream(self.layout, int(stream.stem.split("-", 1)[1]))  # a crashed process
        self.ship()
        self.progress()
        if not self.master_gone():
            exits = {str(w): (c if c is not None else 255) for w, c in codes.items()}
            self.runner.send_message(p.DONE, {"exit_codes": exits})
            gevent.sleep(0.2)  # let ZeroMQ put the last messages on the wire

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.env.events.quitting.fire(environment=self.env, reverse=True)  # type: ignore[no-untyped-call]
        self.runner.quit()


def run_worker(options: WorkerOptions) -> int:
    """Join, run the assignment, ship everything; 0 when done, raises HarnessError else."""
    scratch = options.scratch_dir or Path(tempfile.mkdtemp(prefix="slogate-worker-"))
    worker = Worker(options, scratch)
    say = options.say
    say(f"joined the master at {options.master_host}:{options.master_port}; waiting for the run to start")
    gevent.signal_handler(signal.SIGTERM, worker.request_stop)
    gevent.signal_handler(signal.SIGINT, worker.request_stop)
    try:
        assignment = _wait_result(worker, worker.assignment)
        if assignment is None:
            say("the master ended the run before giving this worker any load")
            return 0
        say(f"assigned workers {list(assignment.workers)}: starting its processes")
        worker.prepare(assignment)
        worker.runner.send_message(p.READY, {})
        at = _wait_result(worker, worker.start_at)
        if at is not None:
            worker.release(at)
            say(f"load started at {time.strftime('%H:%M:%S', time.gmtime(at))} UTC")
        codes = worker.drive()
        worker.finish(codes)
        rows = sum(t.rows_read for t in worker.tailers)
        say(f"done: {rows} samples shipped in {worker.chunks_sent} chunks")
        return 0
    finally:
        for handle in worker.handles:
            with contextlib.suppress(Exception):
                handle.kill()
        worker.close()
        if options.scratch_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


def _shift_by_clock(batch: Any, clock: HostClock) -> Any:
    """``batch`` as this host's (test) clock would have stamped it, row by row."""
    import pyarrow as pa

    columns = list(batch.columns)
    for name in ("ts", "intended_ts"):
        i = batch.schema.get_field_index(name)
        real = columns[i].to_numpy(zero_copy_only=False)
        columns[i] = pa.array(real + clock.base_s + clock.drift * (real - clock.t0), pa.float64())
    return pa.record_batch(columns, schema=batch.schema)


def _wait_result(worker: Worker, result: AsyncResult) -> Any:
    """The result once set; None when a stop came or the master went away first."""
    while not result.ready():
        if worker.stop_requested.is_set() or worker.master_gone():
            return None
        result.wait(0.5)
    return result.get()
