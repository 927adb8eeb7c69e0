"""Garbage-collector pauses as a metric, and a collector tuned for a long-lived server.

A full collection stops the event loop; with thousands of live sessions it can take
hundreds of milliseconds, which every in-flight request then waits out (PERFORMANCE-NOTES.md
saw 363 ms pauses at 10k sessions). After start-up the service freezes what it has
allocated so far (``gc.freeze``: imports, app, routes never become garbage) and raises the
young-generation threshold, so collections are rarer and walk only recent objects; every
pause is observed in ``slogate_gc_pause_seconds``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from target_service.metrics import ServiceMetrics

__all__ = ["GcWatch"]

_THRESHOLDS = (10_000, 20, 20)


class GcWatch:
    """Install with :meth:`start`, remove with :meth:`stop` (tests build many apps)."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics
        self._started = 0.0
        self._callback: Callable[[str, dict[str, Any]], None] = self._on_gc
        self._previous_thresholds = gc.get_threshold()

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*_THRESHOLDS)
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        gc.set_threshold(*self._previous_thresholds)
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            pause = time.perf_counter() - self._started
            self._metrics.gc_pause.labels(str(info.get("generation", "?"))).observe(pause)
