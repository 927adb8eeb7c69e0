"""Start and supervise HTTP load worker processes; the runner's only door into Locust.

This module never imports ``locust``: it spawns ``python -m scenarios.http.worker`` processes
(which do) and talks to them through pipes. One reader thread per worker drains its stdout,
keeps the latest :class:`~scenarios.progress.ProgressReport`, and takes part in a start
barrier: once every worker has printed ``ready`` (or died), all of them receive the same
``start <epoch>`` so their schedules line up (open-model constant arrivals of ``K`` workers
interleave exactly) and slow imports never turn into schedule slips.

Several cores: ``plan.processes`` independent workers, worker ``first_worker + i`` running
share ``i/K`` of the users and the rate. Each writes its own sample part, so the record is
exact without a master aggregating anything (see docs/http-load.md for why local processes
do not use Locust's master/worker mode). Several machines: a worker host of
``scenarios.distributed`` runs a slice of the shares (``shares``) held at the barrier
(``hold_start``) until the distributed master names the start.

Example::

    with start_http_load(plan, run_dir, first_worker=0) as handle:
        handle.wait_started(timeout=30)
        while any(rc is None for rc in handle.wait(timeout=1.0).values()):
            show(merge_reports(handle.poll()))
    handle.recover_samples()   # Parquet parts for any worker that crashed
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final
from urllib.parse import urlsplit

from foundation.errors import TargetError
from foundation.layout import RunLayout
from scenarios.http.plan import HttpPlan
from scenarios.loopback import is_loopback_literal
from scenarios.progress import ProgressReport
from scenarios.record import finalize_stream

__all__ = ["HttpLoadHandle", "is_loopback_url", "start_http_load"]

START_LEAD_S: Final = 0.05  # from "all ready" to the shared start instant


def is_loopback_url(url: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1), without resolving."""
    return is_loopback_literal(urlsplit(url).hostname or "")


def start_http_load(
    plan: HttpPlan,
    run_dir: str | Path,
    first_worker: int,
    *,
    shares: Sequence[int] | None = None,
    hold_start: bool = False,
) -> HttpLoadHandle:
    """Spawn ``plan.processes`` workers numbered ``first_worker, first_worker + 1, ...``.

    Returns at once; load begins when every worker is ready (:meth:`HttpLoadHandle.wait_started`).
    Writes ``http/plan-<first_worker>.json`` and one stderr log per worker under ``run_dir``.
    Raises :class:`TargetError` for a non-loopback target unless ``plan.allow_remote``.

    ``shares`` runs only those shares ``i`` of the plan's ``processes`` (a worker host of a
    distributed run takes a slice; default: all of them). ``hold_start`` keeps the workers
    waiting once all are ready until :meth:`HttpLoadHandle.release` names the start instant
    (the master of a distributed run picks one instant for every host).
    """
    if not plan.allow_remote and not is_loopback_url(plan.base_url):
        raise TargetError(
            f"target {plan.base_url} is not a loopback address; pass --allow-remote "
            "to load a remote service you are allowed to test"
        )
    root = Path(run_dir)
    http_dir = root / "http"
    http_dir.mkdir(parents=True, exist_ok=True)
    plan_path = http_dir / f"plan-{first_worker}.json"
    plan_path.write_text(plan.to_json(), encoding="utf-8")
    procs: dict[int, subprocess.Popen[bytes]] = {}
    indices = list(range(plan.processes)) if shares is None else list(shares)
    if any(not 0 <= i < plan.processes for i in indices):
        raise ValueError(f"shares {indices} outside 0..{plan.processes - 1}")
    try:
        for position, i in enumerate(indices):
            worker = first_worker + position
            with open(http_dir / f"worker-{worker}.log", "ab") as log:
                procs[worker] = subprocess.Popen(
                    [
                        sys.executable, "-m", "scenarios.http.worker",
                        "--plan", str(plan_path), "--run-dir", str(root),
                        "--worker", str(worker), "--share", f"{i}/{plan.processes}",
                        "--stdin-control",
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                )
    except OSError:
        for proc in procs.values():
            proc.kill()
            proc.wait()
        raise
    return HttpLoadHandle(procs, root, hold_start=hold_start)


class HttpLoadHandle:
    """The running workers of one :func:`start_http_load` call. Thread-safe."""

    def __init__(
        self, procs: dict[int, subprocess.Popen[bytes]], run_dir: Path, *, hold_start: bool = False
    ) -> None:
        self.workers: list[int] = list(procs)
        self._hold = hold_start
        self._all_ready = threading.Event()
        self.run_dir = run_dir
        self.started_at: float | None = None
        self._procs = procs
        self._lock = threading.Condition()  # notified on every report and on start
        self._latest: dict[int, ProgressReport] = {}
        self._ready: set[int] = set()
        self._gone: set[int] = set()
        self._stopping = False
        self._started = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, args=(w, p), name=f"http-worker-{w}", daemon=True)
            for w, p in procs.items()
        ]
        for t in self._threads:
            t.start()

    # ----- reader threads --------------------------------------------------------------

    def _read(self, worker: int, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # pipe closed under us at exit
            for raw in proc.stdout:
                self._take_line(worker, raw.decode("utf-8", "replace").strip())
        with self._lock:
            self._gone.add(worker)
            self._release_locked()
            self._lock.notify_all()

    def _take_line(self, worker: int, line: str) -> None:
        try:
            report = ProgressReport.from_line(line)
        except (KeyError, TypeError, ValueError):  # a torn or foreign line: not ours to judge
            return
        if report is not None:
            with self._lock:
                self._latest[worker] = report
                self._lock.notify_all()
        elif read_ready_line(line) is not None:
            with self._lock:
                self._ready.add(worker)
                self._release_locked()

    def _release_locked(self) -> None:
        """Send the shared start time once every worker is ready or gone."""
        if self._started.is_set() or len(self._ready | self._gone) < len(self.workers):
            return
        self._all_ready.set()
        if self._hold:
            return
        self._send_start_locked(time.time() + START_LEAD_S)

    def _send_start_locked(self, t0: float) -> None:
        if self._started.is_set():
            return
        if not self._stopping:
            for worker in self._ready - self._gone:
                _write(self._procs[worker].stdin, f"start {t0!r}\n")
            self.started_at = t0
        self._started.set()

    # ----- public API ------------------------------------------------------------------

    @property
    def pids(self) -> dict[int, int]:
        """Process id per worker (for CPU/RSS sampling; stop them through this handle)."""
        return {w: p.pid for w, p in self._procs.items()}

    def wait_ready(self, timeout: float) -> bool:
        """True once every worker is ready (or gone): with ``hold_start``, time to :meth:`release`."""
        return self._all_ready.wait(timeout)

    def release(self, t0: float) -> None:
        """Start every ready worker at epoch ``t0`` (``hold_start`` handles; once only)."""
        with self._lock:
            self._send_start_locked(t0)

    def wait_started(self, timeout: float) -> float | None:
        """The shared start time (epoch s) once released; ``None`` on timeout or early stop."""
        self._started.wait(timeout)
        return self.started_at

    def poll(self) -> list[ProgressReport]:
        """The latest progress report of every worker that has reported, by worker number."""
        with self._lock:
            return [self._latest[w] for w in sorted(self._latest)]

    def wait_for(
        self, predicate: Callable[[list[ProgressReport]], bool], timeout: float
    ) -> bool:
        """Block until ``predicate(latest reports)`` holds (True) or ``timeout`` passes (False).

        Woken by every report, so callers wait for a condition, not for a guessed duration.
        """
        with self._lock:
            return self._lock.wait_for(
                lambda: predicate([self._latest[w] for w in sorted(self._latest)]), timeout
            )

    @property
    def schedule_slips(self) -> int:
        return sum(r.schedule_slips for r in self.poll())

    def stop(self) -> None:
        """Ask every worker to finish now (stdin EOF): in-flight requests end, parts are written."""
        with self._lock:
            self._stopping = True
            for proc in self._procs.values():
                if proc.stdin is not None and not proc.stdin.closed:
                    with contextlib.suppress(OSError):  # the worker is already gone
                        proc.stdin.close()

    def wait(self, timeout: float) -> dict[int, int | None]:
        """Exit code per worker, ``None`` for those still running after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        codes: dict[int, int | None] = {}
        for worker, proc in self._procs.items():
            try:
                codes[worker] = proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                codes[worker] = None
        if all(code is not None for code in codes.values()):
            for t in self._threads:  # let the readers take the final "done" reports
                t.join(max(0.0, deadline - time.monotonic()))
        return codes

    def kill(self) -> None:
        """SIGKILL every worker still running (their flushed samples stay on disk)."""
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self._procs.values():
            proc.wait()
        self.stop()

    def recover_samples(self) -> list[int]:
        """Rewrite the sample stream of any worker that died before closing it as Parquet.

        Returns the workers recovered; workers still running are left alone.
        """
        layout = RunLayout(self.run_dir)
        recovered = []
        for worker, proc in self._procs.items():
            if proc.poll() is not None and layout.stream_path(worker).exists():
                finalize_stream(layout, worker)
                recovered.append(worker)
        return recovered

    def __enter__(self) -> HttpLoadHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Never leave a worker behind: stop, give them their grace, then kill."""
        self.stop()
        if any(code is None for code in self.wait(timeout=10.0).values()):
            self.kill()
        for t in self._threads:  # the workers are gone, so their pipes are at EOF
            t.join(timeout=5.0)
        for proc in self._procs.values():
            if proc.stdout is not None:
                proc.stdout.close()


def _write(stream: IO[bytes] | None, text: str) -> None:
    if stream is None or stream.closed:
        return
    try:
        stream.write(text.encode("ascii"))
        stream.flush()
    except (BrokenPipeError, OSError):  # the worker died between "ready" and now
        pass


def read_ready_line(line: str) -> int | None:
    """Worker number of a ``{"ready": 1, "worker": N}`` line, else ``None``."""
    try:
        data = json.loads(line)
        return int(data["worker"]) if isinstance(data, dict) and data.get("ready") == 1 else None
    except (ValueError, KeyError, TypeError):
        return None
