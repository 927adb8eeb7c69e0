"""The interface every server-metrics source implements, and the shapes they share.

A source answers one narrow question (STYLE.md rule 2): what did the target's own metrics
say over the run window? Implementations: :mod:`.prometheus` (a Prometheus server's HTTP
API), :mod:`.scrape` (``/metrics`` read before and after the run), :mod:`.fake` (tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slo.server import ServerRecord
from slo.spec.model import CrossCheckConfig

__all__ = ["Labels", "MetricsSource", "SeriesKey", "Snapshot", "Window", "series_key"]

Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]
Snapshot = dict[SeriesKey, float]
"""Sample values at one instant: ``(sample name, sorted labels) -> value``."""


def series_key(name: str, labels: dict[str, str]) -> SeriesKey:
    """Canonical key of one series (labels sorted, ``__name__`` dropped)."""
    return name, tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


@dataclass(frozen=True, slots=True)
class Window:
    """The run window: epoch seconds of its start and end instants."""

    start: float
    end: float


class MetricsSource(Protocol):
    """Anything that can say what the server measured between two instants."""

    def measure(self, config: CrossCheckConfig, window: Window) -> ServerRecord:
        """Counter and histogram deltas (end minus start) and gauge summaries for ``window``."""
        ...
