"""Live progress that load workers (Locust processes, swarm shards) report to the runner.

Workers run in their own processes (Locust monkey-patches with gevent; shards pin their own
event loop), so they report by printing one JSON line per second on stdout, which the runner
reads and merges. Latencies travel as counts over fixed log-spaced buckets so that merging
is exact addition and p95-so-far is a bucket bound (within 5 %), cheap enough to send
every second.

``latency`` holds every operation a worker completed (HTTP requests; whole WebSocket
messages); ``first_token`` holds a swarm's times to first token. The live display and
``timeseries.parquet`` show one figure per kind (HTTP p95, WS first-token p95), never the two
mixed.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "BUCKET_BOUNDS_MS", "LIVE_KINDS", "LatencyHistogram", "ProgressReport", "kind_histogram",
    "merge_reports",
]

LIVE_KINDS: Final = ("http", "ws_first_token")
"""The kinds the live display and the timeseries give a p95 for."""

# 0.1 ms .. ~600 s in steps of 5 %: 322 buckets, the last one open-ended.
BUCKET_BOUNDS_MS: Final[tuple[float, ...]] = tuple(0.1 * 1.05**i for i in range(322))


@dataclass(slots=True)
class LatencyHistogram:
    """Counts of latencies per bucket of :data:`BUCKET_BOUNDS_MS`; sparse, mergeable."""

    counts: dict[int, int] = field(default_factory=dict)

    def add(self, latency_ms: float) -> None:
        i = bisect.bisect_left(BUCKET_BOUNDS_MS, latency_ms)
        self.counts[i] = self.counts.get(i, 0) + 1

    def merge(self, other: LatencyHistogram) -> None:
        for i, n in other.counts.items():
            self.counts[i] = self.counts.get(i, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def quantile(self, q: float) -> float | None:
        """Upper bound of the bucket holding the q-quantile (nearest rank); None if empty."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for i in sorted(self.counts):
            seen += self.counts[i]
            if seen >= rank:
                return BUCKET_BOUNDS_MS[min(i, len(BUCKET_BOUNDS_MS) - 1)]
        return None  # pragma: no cover - unreachable


@dataclass(slots=True)
class ProgressReport:
    """Cumulative counters of one worker since it started, plus what is live right now."""

    worker: int
    source: str  # "http" or "ws"
    t: float  # epoch s when the report was made
    operations: int = 0
    errors: int = 0
    schedule_slips: int = 0
    active: dict[str, int] = field(default_factory=dict)  # tier -> live users or sessions
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    done: bool = False
    first_token: LatencyHistogram = field(default_factory=LatencyHistogram)

    def to_line(self) -> str:
        return json.dumps(
            {
                "progress": 1,
                "worker": self.worker,
                "source": self.source,
                "t": self.t,
                "operations": self.operations,
                "errors": self.errors,
                "schedule_slips": self.schedule_slips,
                "active": self.active,
                "latency": {str(k): v for k, v in self.latency.counts.items()},
                "done": self.done,
                "first_token": {str(k): v for k, v in self.first_token.counts.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, line: str) -> ProgressReport | None:
        """Parse a worker's stdout line; None for lines that are not progress reports."""
        try:
            data: dict[str, Any] = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("progress") != 1:
            return None
        return cls(
            worker=int(data["worker"]),
            source=str(data["source"]),
            t=float(data["t"]),
            operations=int(data["operations"]),
            errors=int(data["errors"]),
            schedule_slips=int(data.get("schedule_slips", 0)),
            active={str(k): int(v) for k, v in data["active"].items()},
            latency=LatencyHistogram({int(k): int(v) for k, v in data["latency"].items()}),
            done=bool(data.get("done", False)),
            first_token=LatencyHistogram(
                {int(k): int(v) for k, v in (data.get("first_token") or {}).items()}),
        )


def merge_reports(reports: list[ProgressReport]) -> ProgressReport:
    """Sum the latest report of every worker into one view for the live display."""
    total = ProgressReport(worker=-1, source="all", t=max((r.t for r in reports), default=0.0))
    for r in reports:
        total.operations += r.operations
        total.errors += r.errors
        total.schedule_slips += r.schedule_slips
        for tier, n in r.active.items():
            total.active[tier] = total.active.get(tier, 0) + n
        total.latency.merge(r.latency)
        total.first_token.merge(r.first_token)
    return total


def kind_histogram(reports: list[ProgressReport], kind: str) -> LatencyHistogram:
    """One kind's latencies over ``reports``: ``"http"`` (HTTP workers' requests) or
    ``"ws_first_token"`` (swarm shards' times to first token)."""
    total = LatencyHistogram()
    for r in reports:
        if kind == "http" and r.source == "http":
            total.merge(r.latency)
        elif kind == "ws_first_token" and r.source == "ws":
            total.merge(r.first_token)
    return total
