"""``ws_drop_rate``: unexpected WebSocket closes per opened session, in percent, per group.

Events are successful ``ws_connect`` samples, bad events ``ws_close`` samples (at most one
per session counted). It is judged over the whole run, warm-up included: sessions open
during the warm-up and drop later. For the same reason it is neither judged per fault phase
nor compared between releases: a slice by send time would count closes of sessions opened
outside it. Recovery (:mod:`slo.recovery`) does use it: opens and closes are both events, so
a refused reconnect after a fault keeps the window out of the objective.
"""

from __future__ import annotations

import numpy as np

from slo.judge import DEFAULT_MIN_EVENTS
from slo.measurements import Measurements
from slo.samples import BoolArray, SampleColumns
from slo.sli_kinds.base import Threshold, Traits, WindowTest, required_events
from slo.sli_kinds.grouped import by_group, grouped_result, ratio_group, with_budget
from slo.sli_kinds.ratio import ERROR_RATE
from slo.spec.model import WsDropRateObjective
from slo.verdict import GroupResult, ObjectiveResult

__all__ = ["WS_DROP_RATE", "WsDropRate"]

_OPEN, _CLOSE = ("ws_connect",), ("ws_close",)


class WsDropRate:
    """The drop-rate kind (levels as an error rate: ``threshold_percent``, ``warn_percent``)."""

    def traits(self, o: WsDropRateObjective) -> Traits:
        return Traits(source="samples", sample_kinds=_OPEN + _CLOSE)

    def threshold(self, o: WsDropRateObjective) -> Threshold:
        return ERROR_RATE.threshold(o)

    def default_min_events(self, o: WsDropRateObjective) -> int:
        return DEFAULT_MIN_EVENTS

    def evaluate(self, o: WsDropRateObjective, m: Measurements) -> ObjectiveResult:
        cols = m.samples
        kind = cols.categorical("kind")
        base = cols.select(o.select)
        opened = base & kind.mask(_OPEN) & cols.ok
        closed = base & kind.mask(_CLOSE)
        needed = required_events(o, self.default_min_events(o))
        duration = max(0.0, m.end_ts - m.facts.started_at)

        def group(key: str, gmask: BoolArray) -> GroupResult:
            total = int(np.count_nonzero(gmask & opened))
            bad = min(int(np.count_nonzero(gmask & closed)), total)
            return ratio_group(o, key, bad, total, duration=duration, good_share=False,
                               threshold=o.threshold_percent, warn=o.warn_percent, needed=needed)

        groups = by_group(o, m, opened | closed, group)
        total = int(np.count_nonzero(opened))
        bad = min(int(np.count_nonzero(closed)), total)
        result = grouped_result(o, m, groups, statistic="drops/session",
                                threshold=self.threshold(o), comparison=o.comparison,
                                needed=needed)
        return with_budget(result, o, bad=bad, total=total, duration=duration)

    def window_test(self, o: WsDropRateObjective, cols: SampleColumns) -> WindowTest | None:
        kind = cols.categorical("kind")
        closed = kind.mask(_CLOSE)
        mask = cols.select(o.select) & (closed | (kind.mask(_OPEN) & cols.ok))
        return WindowTest.of(o.name, cols.ts, mask, closed, share=o.allowed_bad_ratio,
                             allowed=o.allowed_bad_ratio)


WS_DROP_RATE = WsDropRate()
