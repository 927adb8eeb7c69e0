"""``abort_on``: the live burn-rate check that stops a run early (pure; fed samples).

For every availability / error_rate objective with ``abort_on: {burn_rate: B, window: W}``,
:class:`BurnWatch` keeps the selected sends of the last ``W`` seconds and, on each
:meth:`BurnWatch.check`, computes the burn rate over ``(now - W, now]`` by send time:
``(bad / events) / allowed_bad_ratio`` (SRE Workbook ch. 5, as :func:`slo.budget.burn_rate`).
It fires when that reaches ``B`` with at least ``min_events`` events in the window. Sends
before the objective's warm-up (counted from the first send seen) are ignored, like the
verdict ignores them.

No clock and no file here: the caller (``slogate/pipeline.py``) reads new samples with
``scenarios.record.StreamTail`` once a second and passes ``now``. Memory is bounded by the
sends of one window per rule.

Example::

    watch = BurnWatch(spec.objectives)
    watch.feed(table)                   # new samples (ts, ok, kind, name, tier, tenant)
    stop = watch.check(time.time())     # AbortResult or None
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from foundation.layout import StoppedEarly
from slo.budget import burn_rate
from slo.fault_results import AbortResult
from slo.samples import CATEGORICAL, SampleColumns
from slo.spec.model import AbortOn, Objective, RatioObjective, Select

__all__ = ["ABORT_COLUMNS", "AbortRule", "BurnWatch", "abort_from_record", "abort_rules"]

ABORT_COLUMNS = ["ts", "ok", *CATEGORICAL]

_REASON: Final = re.compile(
    r"objective '(?P<objective>.+?)' burned its error budget at (?P<rate>[0-9.]+)x over the "
    r"last (?P<window>[0-9.e+]+) s .*at or above (?P<threshold>[0-9.e+]+)x"
)


def abort_from_record(stopped: StoppedEarly | Mapping[str, Any] | None) -> AbortResult | None:
    """run.json's ``stopped_early`` ({at, reason}, written by the runner) -> the verdict's
    :class:`AbortResult`. The reason is the one :meth:`BurnWatch.check` wrote, so its figures
    are read back from it; a reason from elsewhere keeps only the text."""
    if isinstance(stopped, StoppedEarly):
        stopped = {"at": stopped.at, "reason": stopped.reason}
    if not isinstance(stopped, Mapping) or not stopped.get("reason"):
        return None
    reason = str(stopped["reason"])
    at = stopped.get("at")
    m = _REASON.search(reason)
    return AbortResult(
        objective=m.group("objective") if m else "",
        reason=reason,
        at=float(at) if isinstance(at, int | float) else None,
        burn_rate=float(m.group("rate")) if m else None,
        threshold=float(m.group("threshold")) if m else None,
        window_s=float(m.group("window")) if m else None,
    )


@dataclass(frozen=True, slots=True)
class AbortRule:
    """One objective's ``abort_on``, with what it selects and its allowed bad share."""

    objective: str
    select: Select
    allowed_bad_ratio: float
    abort_on: AbortOn
    warmup_s: float = 0.0


def abort_rules(objectives: Sequence[Objective], warmup_s: float = 0.0) -> tuple[AbortRule, ...]:
    """The objectives that have ``abort_on`` (``warmup_s``: the file-level default)."""
    out = []
    for o in objectives:
        if isinstance(o, RatioObjective) and o.abort_on is not None:
            warm = o.warmup_s if o.warmup_s is not None else warmup_s
            out.append(AbortRule(o.name, o.select, o.allowed_bad_ratio, o.abort_on, warm))
    return tuple(out)


class BurnWatch:
    """Sliding-window burn rates of the rules, fed incrementally (see module docstring)."""

    def __init__(self, rules: Sequence[AbortRule]) -> None:
        self.rules = tuple(rules)
        self._chunks: list[deque[tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]]] = [
            deque() for _ in self.rules
        ]
        self._first_ts: float | None = None

    def feed(self, table: pa.Table) -> None:
        """Add new samples (any of :data:`ABORT_COLUMNS` present; ``ts`` and ``ok`` needed)."""
        if not self.rules or table.num_rows == 0:
            return
        cols = SampleColumns.from_arrow(table)
        first = float(np.min(cols.ts))
        self._first_ts = first if self._first_ts is None else min(self._first_ts, first)
        for rule, chunks in zip(self.rules, self._chunks, strict=True):
            mask = cols.select(rule.select, self._first_ts + rule.warmup_s)
            if mask.any():
                chunks.append((cols.ts[mask], ~cols.ok[mask]))

    def check(self, now: float) -> AbortResult | None:
        """The first rule whose burn over ``(now - window, now]`` reached its threshold."""
        for rule, chunks in zip(self.rules, self._chunks, strict=True):
            w = rule.abort_on.window
            while chunks and chunks[0][0].size and float(np.max(chunks[0][0])) <= now - w:
                chunks.popleft()  # every send of the oldest chunk left the window
            if not chunks:
                continue
            ts = np.concatenate([c[0] for c in chunks])
            bad = np.concatenate([c[1] for c in chunks])
            inside = (ts > now - w) & (ts <= now)
            total = int(np.count_nonzero(inside))
            if total < rule.abort_on.min_events:
                continue
            n_bad = int(np.count_nonzero(bad & inside))
            rate = burn_rate(n_bad, total, rule.allowed_bad_ratio)
            if rate is not None and rate >= rule.abort_on.burn_rate:
                reason = (
                    f"abort_on: objective '{rule.objective}' burned its error budget at "
                    f"{rate:.1f}x over the last {w:g} s ({n_bad} of {total} sends bad), at or "
                    f"above {rule.abort_on.burn_rate:g}x"
                )
                return AbortResult(rule.objective, reason, now, rate, rule.abort_on.burn_rate, w)
        return None
