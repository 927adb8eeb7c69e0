"""``availability`` and ``error_rate``: the share of selected samples with ``ok`` true (or
false), in percent, per group, with the error budget, burn rate and multi-window alerts
replayed over the run (SRE Workbook ch. 2 and 5, via :mod:`slo.budget` and :mod:`slo.burn`).

The two differ only in which share is the value (good for availability, bad for error rate)
and which fields hold the levels, so they are one class with two small subclasses.
Recovery (:mod:`slo.recovery`): a failed sample is a bad event, and a window is within while
``bad <= allowed_bad_ratio x n``.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import numpy as np

from slo.burn import AlertResult, replay_alerts
from slo.judge import DEFAULT_MIN_EVENTS
from slo.measurements import Measurements
from slo.samples import BoolArray, SampleColumns
from slo.sli_kinds.base import Threshold, Traits, WindowTest, judged_from, required_events
from slo.sli_kinds.grouped import by_group, grouped_result, ratio_group, with_budget
from slo.spec.model import AvailabilityObjective, ErrorRateObjective
from slo.verdict import GroupResult, ObjectiveResult

__all__ = ["AVAILABILITY", "ERROR_RATE", "Availability", "ErrorRate"]

R = TypeVar("R", AvailabilityObjective, ErrorRateObjective)


class _Ratio(Generic[R]):
    """Shared measurement of the two ratio SLIs; subclasses say where the levels are."""

    good_share: ClassVar[bool]
    """The value is the good share (availability) rather than the bad one (error rate)."""

    def threshold(self, o: R) -> Threshold:  # pragma: no cover - overridden
        raise NotImplementedError

    def traits(self, o: R) -> Traits:
        return Traits(source="samples", sample_kinds=o.select.patterns("kind"),
                      compared_as="error_rate", per_phase=True)

    def default_min_events(self, o: R) -> int:
        return DEFAULT_MIN_EVENTS

    def evaluate(self, o: R, m: Measurements) -> ObjectiveResult:
        cols = m.samples
        since = judged_from(o, m)
        mask = cols.select(o.select, since)
        bad_all = ~cols.ok
        levels = self.threshold(o)
        threshold = levels.value
        assert threshold is not None
        needed = required_events(o, self.default_min_events(o))
        duration = max(0.0, m.end_ts - since)

        def group(key: str, gmask: BoolArray) -> GroupResult:
            total = int(np.count_nonzero(gmask))
            bad = int(np.count_nonzero(gmask & bad_all))
            return ratio_group(o, key, bad, total, duration=duration, good_share=self.good_share,
                               threshold=threshold, warn=levels.warn, needed=needed)

        groups = by_group(o, m, mask, group)
        total = int(np.count_nonzero(mask))
        alerts: tuple[AlertResult, ...] = ()
        if o.alerts and total:
            offsets = cols.ts[mask] - since
            alerts = replay_alerts(offsets, bad_all[mask], duration, o.allowed_bad_ratio, o.window)
        result = grouped_result(o, m, groups, statistic=o.sli, threshold=levels,
                                comparison=o.comparison, needed=needed)
        return with_budget(result, o, bad=int(np.count_nonzero(mask & bad_all)), total=total,
                           duration=duration, alerts=alerts)

    def window_test(self, o: R, cols: SampleColumns) -> WindowTest | None:
        return WindowTest.of(o.name, cols.ts, cols.select(o.select), ~cols.ok,
                             share=o.allowed_bad_ratio, allowed=o.allowed_bad_ratio)


class Availability(_Ratio[AvailabilityObjective]):
    """``target: 99.9`` (percent of good samples, ``>=``)."""

    good_share = True

    def threshold(self, o: AvailabilityObjective) -> Threshold:
        return Threshold.of(o.target, o.warn_target, "%", o.comparison)


class ErrorRate(_Ratio[ErrorRateObjective]):
    """``threshold_percent: 1`` (percent of failed samples, ``<=``)."""

    good_share = False

    def threshold(self, o: ErrorRateObjective) -> Threshold:
        return Threshold.of(o.threshold_percent, o.warn_percent, "%", o.comparison)


AVAILABILITY = Availability()
ERROR_RATE = ErrorRate()
