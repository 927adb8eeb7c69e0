"""CPU, memory and connections of the target and of the load generator, sampled each second.

Two sources for the target: psutil over its processes when slogate started it (exact), or its
``/metrics`` page otherwise (``slogate_process_cpu_seconds`` / ``..._resident_memory_bytes``,
falling back to the Prometheus client's standard ``process_*`` metrics). The generator is
always measured with psutil over the harness and every process it started, because on a
2-core machine a saturated generator, not the target, is the usual cause of bad numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "MetricsScraper",
    "ProcessGroupMeter",
    "ResourceSample",
    "count_connections",
    "generator_pids",
]


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """CPU % (100 = one core) over the interval since the previous sample, and RSS now."""

    cpu_percent: float | None
    rss_bytes: int | None


class ProcessGroupMeter:
    """CPU % and RSS of a changing set of processes, from cpu_times deltas.

    A process that appeared since the last sample counts with all its CPU time (it started
    within the interval); one that vanished loses only its last partial interval.
    """

    def __init__(
        self, pids: Callable[[], Iterable[int]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._pids = pids
        self._clock = clock
        self._procs: dict[int, psutil.Process] = {}
        self._last_cpu: dict[int, float] = {}
        self._last_t: float | None = None

    def sample(self) -> ResourceSample:
        now = self._clock()
        cpu_now: dict[int, float] = {}
        rss = 0
        for pid in set(self._pids()):
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                times = proc.cpu_times()
                cpu_now[pid] = times.user + times.system
                rss += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                self._procs.pop(pid, None)
        percent: float | None = None
        if self._last_t is not None and now > self._last_t:
            used = sum(c - self._last_cpu.get(pid, 0.0) for pid, c in cpu_now.items())
            percent = max(0.0, used) / (now - self._last_t) * 100.0
        self._last_cpu, self._last_t = cpu_now, now
        return ResourceSample(percent, rss if cpu_now else None)


def generator_pids(exclude: Callable[[], Iterable[int]]) -> list[int]:
    """This process and all its descendants, minus ``exclude()`` (the embedded target's)."""
    me = psutil.Process(os.getpid())
    try:
        children = [c.pid for c in me.children(recursive=True)]
    except psutil.Error:
        children = []
    skip = set(exclude())
    return [me.pid, *(pid for pid in children if pid not in skip)]


def count_connections(remote_port: int, proc_net: Path = Path("/proc/net")) -> int | None:
    """Established TCP connections from this machine to ``remote_port`` (the target's port).

    Reads ``/proc/net/tcp`` and ``tcp6`` once: about 5 ms for a few thousand sockets, where
    asking psutil per generator process costs ~170 ms each at 1,000 sessions (it maps every
    socket inode of every process), far too much for a once-a-second sample. Only the client
    side is counted (remote port = target port), so an embedded target's own accepted
    sockets are not counted twice. ``None`` where ``/proc`` is not available.
    """
    wanted = f":{remote_port:04X}"
    total = 0
    found = False
    for name in ("tcp", "tcp6"):
        try:
            text = (proc_net / name).read_text()
        except OSError:
            continue
        found = True
        for line in text.splitlines()[1:]:
            fields = line.split(None, 4)
            # fields: sl, local_address, rem_address, st (01 = ESTABLISHED), rest
            if len(fields) > 3 and fields[3] == "01" and fields[2].endswith(wanted):
                total += 1
    return total if found else None


_CPU_NAMES = ("slogate_process_cpu_seconds", "process_cpu_seconds")
_RSS_NAMES = ("slogate_process_resident_memory_bytes", "process_resident_memory_bytes")


class MetricsScraper:
    """Target CPU % and RSS from its Prometheus ``/metrics`` page.

    Gives up after the first failure (404, refused, unparsable) and says why in ``error``,
    so a target without metrics costs one request, and the record says the columns are
    empty on purpose.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s, transport=transport)
        self._clock = clock
        self._last: tuple[float, float] | None = None  # (t, cpu seconds)
        self.error: str | None = None

    def sample(self) -> ResourceSample:
        if self.error is not None:
            return ResourceSample(None, None)
        try:
            response = self._client.get("/metrics")
            if response.status_code != 200:
                self.error = f"GET /metrics answered {response.status_code}"
                return ResourceSample(None, None)
            cpu, rss = _parse_metrics(response.text)
        except (httpx.HTTPError, ValueError) as exc:
            self.error = f"GET /metrics failed: {type(exc).__name__}: {exc}"[:200]
            return ResourceSample(None, None)
        now = self._clock()
        percent = None
        if cpu is not None:
            if self._last is not None and now > self._last[0]:
                percent = max(0.0, cpu - self._last[1]) / (now - self._last[0]) * 100.0
            self._last = (now, cpu)
        return ResourceSample(percent, int(rss) if rss is not None else None)

    def close(self) -> None:
        self._client.close()


def _parse_metrics(text: str) -> tuple[float | None, float | None]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name in _CPU_NAMES or family.name in _RSS_NAMES:
            # A counter family also carries ``_created`` samples (a timestamp): keep the value.
            wanted = (family.name, family.name + "_total")
            found.setdefault(family.name, sum(s.value for s in family.samples if s.name in wanted))
    cpu = next((found[n] for n in _CPU_NAMES if n in found), None)
    rss = next((found[n] for n in _RSS_NAMES if n in found), None)
    return cpu, rss
