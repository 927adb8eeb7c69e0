"""The health prober: ``GET <health path>`` every 0.25 s for the whole run.

Each probe is a ``health`` sample (``name="GET /readyz (probe)"``, ok = 2xx), so the exact
moment the target answered healthy again is in the run record. Every probe opens a new
connection (no keep-alive): with several worker processes sharing one socket, a kept
connection would ask the same process forever. For a supervised target each probe also
notes whether the deployment is whole (every worker slot served by a started process);
recovery uses "2xx and whole" (``recovery.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from scenarios.record import SampleKind, SampleWriter

__all__ = ["INTERVAL_S", "HealthProber", "Probe"]

INTERVAL_S = 0.25
_TIMEOUT_S = 2.0


class Probe:
    """One probe's outcome, kept in memory for the recovery computation."""

    __slots__ = ("answered_at", "good", "sent_at")

    def __init__(self, sent_at: float, answered_at: float, good: bool) -> None:
        self.sent_at, self.answered_at, self.good = sent_at, answered_at, good


class HealthProber:
    """Probe ``url + path`` in a thread until :meth:`stop`; samples go to worker ``worker``."""

    def __init__(
        self,
        url: str,
        path: str,
        run_dir: Path,
        worker: int,
        whole: Callable[[], bool] | None = None,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.url = url.rstrip("/") + path
        self.name = f"GET {path} (probe)"
        self.interval_s = interval_s
        self.probes: list[Probe] = []
        self._whole = whole
        self._writer = SampleWriter(run_dir, worker)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop probing (the writer stays open for :meth:`write_recovery`)."""
        self._stop.set()
        self._thread.join(_TIMEOUT_S + 5.0)

    def close(self) -> None:
        """Flush and turn the stream into ``samples/part-N.parquet``."""
        self._writer.close()

    @property
    def rows_written(self) -> int:
        return self._writer.total_rows

    def write_recovery(self, name: str, ts: float, latency_ms: float, ok: bool, error: str) -> None:
        self._writer.record(
            ts=ts, intended_ts=ts, latency_ms=latency_ms, kind=SampleKind.RECOVERY.value,
            name=name, tenant="", tier="", ok=ok, status=0, error=error, nbytes=0,
        )

    def _run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=_TIMEOUT_S, limits=limits) as client:
            due = time.time()
            while not self._stop.is_set():
                self._probe(client, due)
                self._writer.maybe_flush()
                due += self.interval_s
                now = time.time()
                if due < now:  # a slow probe: skip the missed slots instead of bunching
                    due = now + self.interval_s
                if self._stop.wait(due - now):
                    break

    def _probe(self, client: httpx.Client, intended: float) -> None:
        sent = time.time()
        status, error, nbytes = 0, "", 0
        try:
            response = client.get(self.url)
            status, nbytes = response.status_code, len(response.content)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        answered = time.time()
        ok = not error
        whole = self._whole() if self._whole is not None else True
        self.probes.append(Probe(sent, answered, ok and whole))
        self._writer.record(
            ts=sent, intended_ts=intended, latency_ms=(answered - sent) * 1000.0,
            kind=SampleKind.HEALTH.value, name=self.name, tenant="", tier="", ok=ok,
            status=status, error=error, nbytes=nbytes,
        )
