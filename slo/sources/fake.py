"""A metrics source that returns given snapshots: for tests of everything downstream."""

from __future__ import annotations

from dataclasses import dataclass, field

from slo.server import GaugeSummary, ServerRecord
from slo.sources.base import Snapshot, Window
from slo.sources.delta import record_from_snapshots
from slo.spec.model import CrossCheckConfig

__all__ = ["FakeSource"]


@dataclass
class FakeSource:
    """Answers :meth:`measure` from ``before``/``after`` snapshots, recording each call.

    Example::

        fake = FakeSource(before={}, after={("x_total", ()): 3.0})
        record = fake.measure(CrossCheckConfig(request_counter="x_total"), Window(0, 1))
    """

    before: Snapshot
    after: Snapshot
    gauges: list[GaugeSummary] | None = None
    calls: list[Window] = field(default_factory=list)

    def measure(self, config: CrossCheckConfig, window: Window) -> ServerRecord:
        self.calls.append(window)
        return record_from_snapshots(self.before, self.after, config, window, source="fake",
                                     gauges=self.gauges)
