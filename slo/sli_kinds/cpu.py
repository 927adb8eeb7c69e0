"""``cpu``: mean CPU % of the target after warm-up, judged against a range -- readiness
claim 4 (headroom, and proof the target was actually loaded).

Above ``max_percent`` there is too little headroom (fail). Below ``min_percent`` the load did
not exercise the target, so the headroom claim is not tested: that fails too, with a reason
that says so, rather than passing on an idle target.
"""

from __future__ import annotations

import numpy as np

from slo._types import Status
from slo.judge import judge
from slo.measurements import Measurements
from slo.samples import SampleColumns
from slo.sli_kinds.base import Threshold, Traits, WindowTest, judged_from, required_events
from slo.sli_kinds.single import TIMESERIES_MIN_ROWS, missing, single_result, timeseries_after
from slo.spec.model import CpuObjective
from slo.verdict import ObjectiveResult

__all__ = ["CPU", "Cpu"]

_RANGE = "range"
"""The ``comparison`` a CPU result carries: the value must lie within two levels."""


class Cpu:
    """The CPU-range kind (``column``, ``min_percent``, ``max_percent``)."""

    def traits(self, o: CpuObjective) -> Traits:
        return Traits(source="timeseries", sample_kinds=o.select.patterns("kind"))

    def threshold(self, o: CpuObjective) -> Threshold:
        return Threshold(o.max_percent, None, "%", f"{o.min_percent:g}..{o.max_percent:g} %")

    def default_min_events(self, o: CpuObjective) -> int:
        return TIMESERIES_MIN_ROWS

    def evaluate(self, o: CpuObjective, m: Measurements) -> ObjectiveResult:
        """Mean of ``o.column`` after warm-up, within ``[min_percent, max_percent]``."""
        picked = timeseries_after(m, o.column, judged_from(o, m))
        levels = self.threshold(o)
        if isinstance(picked, str):
            return missing(o, m, picked, threshold=levels, comparison=_RANGE)
        _, y = picked
        rows = int(y.shape[0])
        needed = required_events(o, self.default_min_events(o))
        value = float(np.mean(y)) if rows else None
        status, reason = judge(value, o.max_percent, "<=", events=rows, needed=needed)
        if status is Status.PASS and value is not None and value < o.min_percent:
            status = Status.FAIL
            reason = (f"mean CPU {value:.1f} % is below {o.min_percent:g} %: the load did not "
                      "exercise the target, so the headroom claim is not tested")
        elif status is Status.FAIL:
            reason = f"mean CPU above {o.max_percent:g} %: not enough headroom"
        return single_result(o, m, threshold=levels, comparison=_RANGE, status=status,
                             value=value, events=rows, reason=reason, statistic="mean")

    def window_test(self, o: CpuObjective, cols: SampleColumns) -> WindowTest | None:
        return None  # a mean over the run has no per-event meaning


CPU = Cpu()
