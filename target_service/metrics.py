"""Prometheus metrics of the reference service (names are a contract: docs/ARCHITECTURE.md).

Why a class and not module globals: tests build many apps in one process, each with its
own registry. In multiprocess mode (several uvicorn workers) prometheus_client writes every
value to mmap files under ``PROMETHEUS_MULTIPROC_DIR`` whatever registry a metric was created
in, and ``/metrics`` aggregates the files (see :func:`render_metrics`).

Latency buckets are geometric with ratio 1.2 from 1 ms to 30 s: any quantile between 5 ms and
10 s then lies in a bucket whose bounds differ by 20 %, so its estimate is within about 10 %.

Tenant label cardinality is capped: tenants are labelled by id only while their creation
sequence number is within ``metrics_tenant_label_limit``; all later tenants share ``other``.
Creation order is stored in the database, so every worker process labels alike.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "LATENCY_BUCKETS_S",
    "ServiceMetrics",
    "multiprocess_dir",
    "render_metrics",
]


def _geometric(start: float, stop: float, ratio: float) -> tuple[float, ...]:
    out = [start]
    while out[-1] * ratio < stop:
        out.append(round(out[-1] * ratio, 6))
    out.append(stop)
    return tuple(out)


LATENCY_BUCKETS_S: tuple[float, ...] = _geometric(0.001, 30.0, 1.2)
_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def multiprocess_dir() -> Path | None:
    """The multiprocess directory when running under several workers, else None."""
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


@dataclass
class ServiceMetrics:
    """All metrics of one service process, registered in ``registry``."""

    tenant_label_limit: int = 20
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        r = self.registry
        labels = ("route", "method", "status", "tier", "tenant")
        self.http_requests = Counter("slogate_http_requests", "HTTP requests handled", labels, registry=r)
        self.http_duration = Histogram(
            "slogate_http_request_duration_seconds",
            "HTTP request duration from first byte in to last byte out",
            labels,
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.db_duration = Histogram(
            "slogate_db_query_duration_seconds",
            "Database statement duration at the driver",
            ("operation",),
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.ws_sessions = Gauge(
            "slogate_ws_sessions",
            "Open WebSocket sessions",
            ("tier",),
            multiprocess_mode="livesum",
            registry=r,
        )
        self.ws_latency = Histogram(
            "slogate_ws_message_latency_seconds",
            "From a prompt's arrival on a session to its first token / its final message",
            ("tier", "stage"),
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.ws_closes = Counter(
            "slogate_ws_closes",
            "WebSocket sessions closed by the server, by code",
            ("tier", "code"),
            registry=r,
        )
        self.queue_depth = Gauge(
            "slogate_run_queue_depth",
            "Runs waiting for an executor slot",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.runs = Counter("slogate_runs", "Runs finished, by final status", ("tier", "status"), registry=r)
        self.provider_calls = Counter(
            "slogate_provider_calls",
            "Calls to the LLM provider by outcome",
            ("outcome",),
            registry=r,
        )
        self.process_cpu = Gauge(
            "slogate_process_cpu_seconds",
            "CPU seconds used by the service's processes",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.process_rss = Gauge(
            "slogate_process_resident_memory_bytes",
            "Resident memory of the service's processes",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.loop_lag = Histogram(
            "slogate_event_loop_lag_seconds",
            "How late the event loop woke a 0.5 s timer: time every request waited for the loop",
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.gc_pause = Histogram(
            "slogate_gc_pause_seconds",
            "Garbage-collector pauses (the loop is stopped while they run)",
            ("generation",),
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.process_fds = Gauge(
            "slogate_process_open_fds",
            "Open file descriptors of the service's processes",
            multiprocess_mode="livesum",
            registry=r,
        )
        if multiprocess_dir() is None:
            ProcessCollector(registry=r)
        self._proc = psutil.Process()

    def tenant_label(self, tenant_id: str | None, tenant_seq: int | None) -> str:
        if tenant_id is None:
            return "-"
        if tenant_seq is not None and tenant_seq <= self.tenant_label_limit:
            return tenant_id
        return "other"

    def sample_process(self) -> None:
        """Refresh this process's CPU, memory and descriptor gauges (called once a second)."""
        with self._proc.oneshot():
            cpu = self._proc.cpu_times()
            self.process_cpu.set(cpu.user + cpu.system)
            self.process_rss.set(self._proc.memory_info().rss)
            self.process_fds.set(self._proc.num_fds())


def render_metrics(metrics: ServiceMetrics) -> bytes:
    """The text exposition: this process's registry, or all workers' files in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(metrics.registry)
    _forget_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry)


def _forget_dead_workers(directory: Path) -> None:
    """Drop live-gauge files of worker processes that died, so 'livesum' means live."""
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match and not psutil.pid_exists(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), path=str(directory))
