"""What every report format renders: one frozen :class:`ReportData`, built once per run.

Renderers (HTML, Markdown, JSON, JUnit) only format this; every judgement in it -- the
verdict, the claims, the score, the risks, capacity within SLO -- was made in ``slo/``.
Nothing here reads a clock, so re-rendering the same run record gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from foundation.layout import RunInfo
from reports.aggregate import Aggregates
from slo.alert_history import AlertRecord
from slo.claims import Evidence, Readiness, Risk, TierCapacity
from slo.measurements import Timeseries
from slo.verdict import Verdict

__all__ = ["Audience", "Identity", "ReportData", "WorkerHost", "identity_of", "utc", "worker_hosts_of"]

Audience = Literal["exec", "sre"]


@dataclass(frozen=True, slots=True)
class Identity:
    """The run's identity block: what ran, against what, when, where."""

    run_id: str
    release: str
    git_sha: str
    scenario: str
    slo: str
    target_url: str
    started: str
    ended: str
    duration_s: float | None
    status: str
    reason: str
    machine: str
    harness_version: str


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report shows. ``notes`` are plain statements the reader must see first
    (not judged, aborted, approximate ...)."""

    identity: Identity
    readiness: Readiness
    risks: tuple[Risk, ...]
    capacity: tuple[TierCapacity, ...]
    evidence: Evidence
    aggregates: Aggregates
    timeseries: Timeseries | None
    scenario: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    alerts: AlertRecord | None = None
    """What the SLO burn-rate rules did in the run's Prometheus (``alerts.json``)."""
    worker_hosts: tuple[WorkerHost, ...] = ()  # a distributed run's load generators

    @property
    def verdict(self) -> Verdict | None:
        return self.evidence.verdict

    @property
    def load_start(self) -> float:
        return self.evidence.run.load_start

    @property
    def warmup_s(self) -> float:
        return self.evidence.run.warmup_s


@dataclass(frozen=True, slots=True)
class WorkerHost:
    """One load-generating host of a distributed run, as run.json lists it. The clock
    offset (host minus master, measured NTP-style) was removed from its samples."""

    address: str
    hostname: str
    workers: str  # "0-1"
    status: str  # done | lost | running
    clock_offset_ms: float | None
    clock_rtt_ms: float | None
    rows: int


def worker_hosts_of(info: RunInfo) -> tuple[WorkerHost, ...]:
    """The ``distributed.worker_hosts`` of run.json (empty for a run on one machine)."""
    data = info.distributed
    hosts = data.get("worker_hosts", []) if isinstance(data, dict) else []
    out = []
    for h in hosts:
        workers = [int(w) for w in h.get("workers", [])]
        span = "-" if not workers else (
            str(workers[0]) if len(workers) == 1 else f"{min(workers)}-{max(workers)}"
        )
        offset, rtt = h.get("clock_offset_s"), h.get("clock_rtt_s")
        out.append(WorkerHost(
            address=str(h.get("address", "")), hostname=str(h.get("hostname", "")), workers=span,
            status=str(h.get("status", "")),
            clock_offset_ms=None if offset is None else float(offset) * 1000,
            clock_rtt_ms=None if rtt is None else float(rtt) * 1000, rows=int(h.get("rows", 0)),
        ))
    return tuple(out)


def utc(ts: float | None) -> str:
    """``2026-11-26 06:15:02 UTC`` (second precision), ``-`` when unknown."""
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def identity_of(info: RunInfo, verdict: Verdict | None) -> Identity:
    """The identity block from run.json (and the SLO file named by the verdict)."""
    host = info.host
    parts = [str(host.get("hostname") or "")]
    if host.get("cpu_count"):
        parts.append(f"{host['cpu_count']} cores")
    if isinstance(host.get("memory_bytes"), int | float):
        parts.append(f"{host['memory_bytes'] / 1024**3:.0f} GiB")
    if host.get("platform"):
        parts.append(str(host["platform"]))
    if host.get("python"):
        parts.append(f"Python {host['python']}")
    scenario = str(info.scenario.get("name") or info.scenario_path or "-")
    slo = (verdict.slo_name or verdict.slo) if verdict is not None else (info.slo_path or "-")
    duration = None if info.ended_at is None else info.ended_at - info.started_at
    return Identity(
        run_id=info.run_id,
        release=info.release or "-",
        git_sha=info.git_sha or "-",
        scenario=scenario,
        slo=slo or "-",
        target_url=info.target_url,
        started=utc(info.started_at),
        ended=utc(info.ended_at),
        duration_s=duration,
        status=str(info.status),
        reason=info.reason,
        machine=" · ".join(p for p in parts if p) or "-",
        harness_version=info.harness_version or "-",
    )
