"""Watch a run while it goes: merge progress, sample resources each second, feed the display.

One object owns everything sampled during a run so that the runner's loop stays a loop: it
hands reports in and asks for a row each second and a :class:`RunProgress` twice a second.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scenarios.progress import ProgressReport
from scenarios.runner.request import RunProgress
from scenarios.runner.resources import (
    MetricsScraper,
    ProcessGroupMeter,
    ResourceSample,
    count_connections,
    generator_pids,
)
from scenarios.runner.target import TargetSession
from scenarios.runner.timeseries import ProgressTracker, TimeseriesRecorder

__all__ = ["Monitor"]


class Monitor:
    """Progress and resource sampling for one run against one target."""

    def __init__(self, target: TargetSession, tiers: Sequence[str], timeseries_path: Path) -> None:
        self.tracker = ProgressTracker()
        self.recorder = TimeseriesRecorder(tiers)
        self._path = timeseries_path
        self._target = target
        self._generator = ProcessGroupMeter(lambda: generator_pids(exclude=target.pids))
        self._target_meter: ProcessGroupMeter | None = None
        self._scraper: MetricsScraper | None = None
        if target.embedded:
            self._target_meter = ProcessGroupMeter(target.pids)
        else:
            self._scraper = MetricsScraper(target.url)
        parts = urlsplit(target.url)
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._last_row: dict[str, Any] | None = None

    def update(self, reports: Iterable[ProgressReport]) -> None:
        self.tracker.update(reports)

    def mark_exited(self, worker: int) -> None:
        self.tracker.mark_exited(worker)

    def tick(self, elapsed_s: float) -> None:
        """Sample resources and append one timeseries row."""
        target = self._sample_target()
        generator = self._generator.sample()
        connections = count_connections(self._port)
        self._last_row = self.recorder.add(
            ts=time.time(),
            elapsed_s=elapsed_s,
            tracker=self.tracker,
            target=target,
            generator=generator,
            open_connections=connections,
        )

    def _sample_target(self) -> ResourceSample:
        if self._target_meter is not None:
            return self._target_meter.sample()
        assert self._scraper is not None
        return self._scraper.sample()

    def progress(self, phase: str, elapsed_s: float, planned_s: float) -> RunProgress:
        merged = self.tracker.merged()
        rate = float(self._last_row["operations_per_s"]) if self._last_row else 0.0
        return RunProgress(
            phase=phase,
            elapsed_s=elapsed_s,
            planned_s=planned_s,
            operations=merged.operations,
            errors=merged.errors,
            requests_per_s=rate,
            p95_ms=merged.latency.quantile(0.95),
            schedule_slips=merged.schedule_slips,
            http_users=self.tracker.active("http"),
            ws_sessions=self.tracker.active("ws"),
            http_p95_ms=self.tracker.histogram("http").quantile(0.95),
            ws_first_token_p95_ms=self.tracker.histogram("ws_first_token").quantile(0.95),
        )

    def flush(self) -> None:
        """Write ``timeseries.parquet`` (called every few seconds and at the end)."""
        if len(self.recorder):
            self.recorder.write(self._path)

    def summary(self) -> dict[str, Any]:
        """Totals and resource facts for run.json."""
        merged = self.tracker.merged()
        table = self.recorder.table()
        gen = [v for v in table.column("generator_cpu_percent").to_pylist() if v is not None]
        tgt = [v for v in table.column("target_cpu_percent").to_pylist() if v is not None]
        source = "psutil" if self._target_meter is not None else "metrics"
        return {
            "operations": merged.operations,
            "errors": merged.errors,
            "schedule_slips": merged.schedule_slips,
            "timeseries_rows": len(self.recorder),
            "target_resources": {
                "source": source,
                "error": self._scraper.error if self._scraper is not None else None,
                "cpu_percent_median": _median(tgt),
            },
            "generator": {
                "cpu_percent_median": _median(gen),
                "cpu_percent_max": round(max(gen), 1) if gen else None,
            },
        }

    def close(self) -> None:
        if self._scraper is not None:
            self._scraper.close()


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
