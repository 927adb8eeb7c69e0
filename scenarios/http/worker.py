"""One HTTP load worker process: ``python -m scenarios.http.worker --plan P --run-dir D --worker N``.

Runs Locust in-process (a ``LocalRunner``) for its share of the plan, records every request
into ``samples/worker-N.arrows`` (a Parquet part on a clean exit), and prints one
:class:`~scenarios.progress.ProgressReport` JSON line per second on stdout.

Why separate processes: importing ``locust`` monkey-patches the whole process with gevent,
which breaks threads and asyncio event loops of the runner (a uvicorn server in a thread
stops answering), so Locust lives only here.

Lifecycle (stdout lines, stdin commands with ``--stdin-control``)::

    {"ready": 1, "worker": N}      users built, open-model pool spawned, writer open
    <- "start <epoch>"             load starts at that instant (all workers share it)
    {"progress": 1, ...}           once a second
    <- EOF, SIGTERM or SIGINT      stop early: in-flight requests finish (bounded), writer closes
    {"progress": 1, "done": true}  final counts after the Parquet part is written; exit 0

The worker always ends by itself after its stages plus a bounded grace, and ``SIGALRM``
(default action: terminate) is armed as a last resort should the event loop ever hang.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import sys
import time
from pathlib import Path

import gevent
import gevent.os
import pyarrow as pa
from gevent.event import AsyncResult, Event
from locust.env import Environment

from scenarios.http.factory import UserSetup, build_user_classes
from scenarios.http.plan import HttpPlan
from scenarios.http.recorder import SampleRecorder
from scenarios.http.users import LoadControl
from scenarios.progress import ProgressReport
from scenarios.record import SampleWriter

__all__ = ["HttpWorker", "main"]

START_TIMEOUT_S = 120.0  # how long a --stdin-control worker waits for "start"
REPORT_INTERVAL_S = 1.0
FLUSH_CHECK_S = 0.25  # fold + maybe_flush cadence: a crash loses at most 1 s + this
log = logging.getLogger("slogate.http.worker")


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class HttpWorker:
    """Drives one worker's share of a plan; see the module docstring for the lifecycle."""

    def __init__(self, plan: HttpPlan, run_dir: Path, worker: int, index: int) -> None:
        self.plan = plan
        self.index = index
        self.control = LoadControl()
        self.setup: UserSetup = build_user_classes(plan, index, self.control)
        self.env = Environment(
            user_classes=list(self.setup.classes),
            host=plan.base_url,
            stop_timeout=self.grace_s,
        )
        self.runner = self.env.create_local_runner()
        self.writer = SampleWriter(run_dir, worker)
        # pyarrow imports pandas lazily on the first list -> array conversion (0.7-3 s here);
        # pay it before "ready", not at the first flush, where it froze every user greenlet
        pa.array([0.0], type=pa.float64())
        self.report = ProgressReport(worker=worker, source="http", t=time.time())
        self.recorder = SampleRecorder(self.writer, self.report)
        self.env.events.request.add_listener(self.recorder.on_request)  # type: ignore[no-untyped-call]
        self.stop_requested = Event()
        self._start_signal: AsyncResult = AsyncResult()

    @property
    def grace_s(self) -> float:
        """Bound on waiting for in-flight requests (and late open-model sends) at the end."""
        return self.plan.request_timeout_s + 1.0

    # ----- control ---------------------------------------------------------------------

    def request_stop(self) -> None:
        self.stop_requested.set()
        if not self._start_signal.ready():
            self._start_signal.set(None)

    def watch_stdin(self) -> None:
        """Read ``start <epoch>`` and EOF from the launcher without blocking the event loop."""
        fd = sys.stdin.fileno()
        gevent.os.make_nonblocking(fd)
        buffer = b""
        while True:
            chunk = gevent.os.nb_read(fd, 4096)
            if not chunk:
                self.request_stop()
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                words = line.decode("ascii", "replace").split()
                if len(words) == 2 and words[0] == "start" and not self._start_signal.ready():
                    self._start_signal.set(float(words[1]))

    def _wait_until(self, deadline: float) -> bool:
        """Wait for ``deadline``; True if a stop was requested first."""
        return bool(self.stop_requested.wait(max(0.0, deadline - time.time())))

    # ----- reporting -------------------------------------------------------------------

    def active(self) -> dict[str, int]:
        """Closed: live users per tier. Open: requests in flight per tier (the concurrency)."""
        if self.setup.gates:
            return {group: gate.in_flight for group, gate in self.setup.gates.items()}
        out: dict[str, int] = {}
        for name, count in self.runner.user_classes_count.items():
            tier = self.setup.tier_of.get(name, "")
            out[tier] = out.get(tier, 0) + count
        return out

    def snapshot(self, done: bool = False) -> str:
        self.recorder.fold()
        r = self.report
        r.t = time.time()
        r.active = self.active()
        r.schedule_slips = sum(g.slips for g in self.setup.gates.values())
        r.done = done
        return r.to_line()

    def report_loop(self) -> None:
        next_at = time.time() + REPORT_INTERVAL_S
        while True:
            gevent.sleep(max(0.0, next_at - time.time()))
            next_at += REPORT_INTERVAL_S
            _emit(self.snapshot())

    def flush_loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_CHECK_S)
            self.recorder.fold()
            self.writer.maybe_flush()

    # ----- load ------------------------------------------------------------------------

    def drive_closed(self, t0: float) -> None:
        """Locust semantics: ramp to each stage's users at the spawn rate (or linearly)."""
        k = self.plan.processes
        previous = 0
        end = t0
        for stage in self.plan.worker_stages(self.index):
            users = stage.users or 0
            if stage.ramp and users != previous:
                rate = abs(users - previous) / stage.duration_s
            else:
                rate = self.plan.spawn_rate / k
            self.runner.start(users, spawn_rate=max(rate, 1e-3))
            end += stage.duration_s
            if self._wait_until(end):
                return
            previous = users

    def drive_open(self, t0: float) -> None:
        """Release the arrival schedule at ``t0``; after the last stage, let late sends go out."""
        for gate in self.setup.gates.values():
            gate.t0 = t0
        self.control.started.set()
        end = t0 + self.plan.duration_s
        if self._wait_until(end):
            return
        for gate in self.setup.gates.values():  # backlog of late arrivals: bounded by grace
            gevent.wait([gate.done, self.stop_requested], count=1, timeout=self.grace_s)

    def shutdown(self) -> None:
        now = time.time()
        dropped = sum(g.drop_due(now) for g in self.setup.gates.values())
        if dropped:
            log.warning("%d due arrivals were never sent (stopped early); counted as slips", dropped)
        self.control.stopping.set()
        self.runner.stop()  # graceful: running tasks finish within stop_timeout
        self.runner.quit()

    def run(self, *, stdin_control: bool, start_at: float | None = None) -> int:
        gevent.signal_handler(signal.SIGTERM, self.request_stop)
        gevent.signal_handler(signal.SIGINT, self.request_stop)
        if self.setup.gates:  # the whole pool exists before t0, so spawning never delays a send
            self.runner.spawn_users(self.setup.pool_sizes)
        _emit(json.dumps({"ready": 1, "worker": self.report.worker}))
        t0: float | None = start_at if start_at is not None else time.time()
        if stdin_control:
            gevent.spawn(self.watch_stdin)
            try:
                t0 = self._start_signal.get(timeout=START_TIMEOUT_S)
            except gevent.Timeout:
                log.warning("no 'start' within %.0f s; exiting without load", START_TIMEOUT_S)
                t0 = None
        elif start_at is not None and start_at - time.time() > START_TIMEOUT_S:
            log.warning("--start-at is more than %.0f s away; exiting", START_TIMEOUT_S)
            t0 = None
        elif start_at is not None:
            self._wait_until(start_at)
        timers = [gevent.spawn(self.report_loop), gevent.spawn(self.flush_loop)]
        try:
            if t0 is not None and not self.stop_requested.is_set():
                (self.drive_open if self.setup.gates else self.drive_closed)(t0)
            self.shutdown()
        finally:
            gevent.killall(timers)
            self.recorder.close()
        _emit(self.snapshot(done=True))
        return 0


def _share(text: str) -> tuple[int, int]:
    i, _, k = text.partition("/")
    index, count = int(i), int(k)
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--share wants i/K with 0 <= i < K, got {text!r}")
    return index, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.http.worker", description=__doc__)
    parser.add_argument("--plan", type=Path, required=True, help="HttpPlan JSON file")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--worker", type=int, required=True, help="worker number in the record")
    parser.add_argument("--share", type=_share, default=(0, 1), help="i/K: this worker's share")
    parser.add_argument("--stdin-control", action="store_true", help="wait for 'start', stop on EOF")
    parser.add_argument(
        "--start-at", type=float, help="epoch second to start at (workers on several machines)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    plan = HttpPlan.from_json(args.plan.read_text(encoding="utf-8"))
    index, count = args.share
    if count != plan.processes:
        parser.error(f"--share {index}/{count} does not match the plan's {plan.processes} processes")
    # last resort against a hung event loop: SIGALRM's default action ends the process
    worker = HttpWorker(plan, args.run_dir, args.worker, index)
    signal.alarm(math.ceil(START_TIMEOUT_S + plan.duration_s + 3 * worker.grace_s + 30))
    return worker.run(stdin_control=args.stdin_control, start_at=args.start_at)


if __name__ == "__main__":
    sys.exit(main())
