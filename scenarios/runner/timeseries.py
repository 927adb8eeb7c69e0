"""Merge workers' progress reports, and turn them into ``timeseries.parquet`` rows.

Workers report cumulative counters (see :mod:`scenarios.progress`); a row is the difference
between two consecutive merged views, so a row's ``operations_per_s`` and ``p95_ms`` describe
that second alone, and summing a column over rows gives the run's total. Columns
(documented in docs/scenarios.md):

``ts`` (epoch s), ``elapsed_s``, ``http_users``, ``ws_sessions``, ``http_users_<tier>``,
``ws_sessions_<tier>``, ``operations_per_s``, ``errors_per_s``, ``http_p95_ms`` and
``ws_first_token_p95_ms`` (this second, per kind, null if none completed), ``p95_ms`` (this
second, every operation the workers report mixed: HTTP requests and whole WebSocket
messages; prefer the per-kind columns), ``schedule_slips`` (cumulative), ``target_cpu_percent``,
``target_rss_bytes``, ``open_connections``, ``generator_cpu_percent``,
``generator_rss_bytes`` — null where the source could not say, never a made-up zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scenarios.progress import (
    LIVE_KINDS,
    LatencyHistogram,
    ProgressReport,
    kind_histogram,
    merge_reports,
)
from scenarios.runner.resources import ResourceSample

__all__ = ["ProgressTracker", "TimeseriesRecorder", "tier_column"]


def tier_column(prefix: str, tier: str) -> str:
    """``http_users_team``; an empty tier (a target without tenants) is ``untiered``."""
    return f"{prefix}_{tier or 'untiered'}"


class ProgressTracker:
    """The latest report of every worker; a worker that exited holds no users any more."""

    def __init__(self) -> None:
        self._latest: dict[int, ProgressReport] = {}

    def update(self, reports: Iterable[ProgressReport]) -> None:
        for r in reports:
            old = self._latest.get(r.worker)
            if old is None or r.t >= old.t:
                self._latest[r.worker] = r

    def mark_exited(self, worker: int) -> None:
        report = self._latest.get(worker)
        if report is not None:
            report.active = {}

    def merged(self) -> ProgressReport:
        return merge_reports(list(self._latest.values()))

    def histogram(self, kind: str) -> LatencyHistogram:
        """Latencies of one kind so far (see :func:`scenarios.progress.kind_histogram`)."""
        return kind_histogram(list(self._latest.values()), kind)

    def active(self, source: str) -> dict[str, int]:
        """Tier -> live users (``source="http"``) or sessions (``"ws"``), summed over workers."""
        out: dict[str, int] = {}
        for r in self._latest.values():
            if r.source == source:
                for tier, n in r.active.items():
                    out[tier] = out.get(tier, 0) + n
        return out


class TimeseriesRecorder:
    """Accumulates one row per sample tick; writes the table atomically."""

    def __init__(self, tiers: Sequence[str] = ()) -> None:
        self._tiers: dict[str, None] = dict.fromkeys(tiers)
        self._rows: list[dict[str, Any]] = []
        self._prev_ops = 0
        self._prev_errors = 0
        self._prev_hist: dict[int, int] = {}
        self._prev_kind: dict[str, dict[int, int]] = {}
        self._prev_elapsed: float | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def add(
        self,
        *,
        ts: float,
        elapsed_s: float,
        tracker: ProgressTracker,
        target: ResourceSample,
        generator: ResourceSample,
        open_connections: int | None,
    ) -> dict[str, Any]:
        """Append the row for this tick and return it."""
        merged = tracker.merged()
        dt = elapsed_s - self._prev_elapsed if self._prev_elapsed is not None else elapsed_s
        dt = dt if dt > 0 else 1.0
        interval = LatencyHistogram(
            {i: c - self._prev_hist.get(i, 0) for i, c in merged.latency.counts.items()}
        )
        interval.counts = {i: c for i, c in interval.counts.items() if c > 0}
        http, ws = tracker.active("http"), tracker.active("ws")
        row: dict[str, Any] = {
            "ts": ts,
            "elapsed_s": elapsed_s,
            "http_users": sum(http.values()),
            "ws_sessions": sum(ws.values()),
            "operations_per_s": max(0, merged.operations - self._prev_ops) / dt,
            "errors_per_s": max(0, merged.errors - self._prev_errors) / dt,
            "p95_ms": interval.quantile(0.95),
            **{f"{kind}_p95_ms": self._kind_p95(tracker, kind) for kind in LIVE_KINDS},
            "schedule_slips": merged.schedule_slips,
            "target_cpu_percent": target.cpu_percent,
            "target_rss_bytes": target.rss_bytes,
            "open_connections": open_connections,
            "generator_cpu_percent": generator.cpu_percent,
            "generator_rss_bytes": generator.rss_bytes,
        }
        for tier in (*http, *ws):
            self._tiers.setdefault(tier)
        for tier, n in http.items():
            row[tier_column("http_users", tier)] = n
        for tier, n in ws.items():
            row[tier_column("ws_sessions", tier)] = n
        self._rows.append(row)
        self._prev_ops, self._prev_errors = merged.operations, merged.errors
        self._prev_hist = dict(merged.latency.counts)
        self._prev_elapsed = elapsed_s
        return row

    def _kind_p95(self, tracker: ProgressTracker, kind: str) -> float | None:
        """p95 of one kind over this tick alone (cumulative counts minus the last tick's)."""
        now = tracker.histogram(kind).counts
        prev = self._prev_kind.get(kind, {})
        self._prev_kind[kind] = dict(now)
        return LatencyHistogram(
            {i: c - prev.get(i, 0) for i, c in now.items() if c > prev.get(i, 0)}
        ).quantile(0.95)

    def table(self) -> pa.Table:
        fields = [
            pa.field("ts", pa.float64()),
            pa.field("elapsed_s", pa.float64()),
            pa.field("http_users", pa.int64()),
            pa.field("ws_sessions", pa.int64()),
        ]
        for prefix in ("http_users", "ws_sessions"):
            fields += [pa.field(tier_column(prefix, t), pa.int64()) for t in self._tiers]
        fields += [
            pa.field("operations_per_s", pa.float64()),
            pa.field("errors_per_s", pa.float64()),
            pa.field("p95_ms", pa.float64()),
            pa.field("http_p95_ms", pa.float64()),
            pa.field("ws_first_token_p95_ms", pa.float64()),
            pa.field("schedule_slips", pa.int64()),
            pa.field("target_cpu_percent", pa.float64()),
            pa.field("target_rss_bytes", pa.int64()),
            pa.field("open_connections", pa.int64()),
            pa.field("generator_cpu_percent", pa.float64()),
            pa.field("generator_rss_bytes", pa.int64()),
        ]
        schema = pa.schema(fields)
        columns = {
            f.name: [
                row.get(f.name, 0 if f.name.startswith(("http_users_", "ws_sessions_")) else None)
                for row in self._rows
            ]
            for f in schema
        }
        return pa.table(columns, schema=schema)

    def write(self, path: Path) -> None:
        """Replace ``path`` atomically, so a reader (or a crash) never sees half a file."""
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(self.table(), tmp)
        tmp.replace(path)
