"""Assembly shared by the SLIs measured from samples: groups (``per``), the objective result
from its groups, and the error budget of ratio objectives.

A sample SLI computes one :class:`~slo.verdict.GroupResult` per group (a single group
``all`` without ``per``); the objective then takes the most severe group status and the
worst group's value (:func:`slo.judge.pick_worst_group`). Ratio SLIs add their burn rate and
budget over the whole selection (SRE Workbook ch. 2 and 5, via :mod:`slo.budget`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from slo._types import Comparison, worst
from slo.budget import burn_rate, run_budget, window_budget_consumed
from slo.burn import AlertResult
from slo.judge import judge, pick_worst_group
from slo.measurements import Measurements
from slo.samples import BoolArray
from slo.sli_kinds.base import Threshold
from slo.spec.model import Objective, RatioObjective
from slo.verdict import GroupResult, ObjectiveResult

__all__ = ["GroupFn", "by_group", "clip", "grouped_result", "ratio_group", "with_budget"]

GroupFn = Callable[[str, BoolArray], GroupResult]
"""``(group key, mask of the group's samples) -> its result``."""


def by_group(o: Objective, m: Measurements, mask: BoolArray, fn: GroupFn) -> list[GroupResult]:
    """``fn`` over each ``per`` group of the samples under ``mask`` (one group ``all``)."""
    if o.per is None:
        return [fn("all", mask)]
    return [fn(key, gmask) for key, gmask in m.samples.groups(o.per, mask)]


def grouped_result(
    o: Objective, m: Measurements, groups: list[GroupResult], *, statistic: str,
    threshold: Threshold, comparison: Comparison, needed: int,
) -> ObjectiveResult:
    """The objective's result from its groups (module docstring)."""
    decider = pick_worst_group(groups, comparison)
    if decider is None:
        status, reason = judge(None, 0.0, comparison, events=0, needed=needed)
        decider = GroupResult("all", status, None, 0, reason=reason)
    return ObjectiveResult(
        name=o.name, sli=o.sli, status=worst([g.status for g in groups]) if groups
        else decider.status, value=decider.value, threshold=threshold.value,
        threshold_text=threshold.text, unit=threshold.unit,
        events=sum(g.events for g in groups), comparison=comparison, statistic=statistic,
        warn_threshold=threshold.warn, reason=_reason(decider, o.per), optional=o.optional,
        approximate=m.facts.approximate, per=o.per,
        worst_group=decider.key if o.per else None, groups=tuple(groups) if o.per else (),
    )


def with_budget(
    result: ObjectiveResult, o: RatioObjective, *, bad: int, total: int, duration: float,
    alerts: tuple[AlertResult, ...] = (),
) -> ObjectiveResult:
    """``result`` with the burn rate, window budget consumed and run budget of ``bad`` out of
    ``total`` events over ``duration`` seconds."""
    rate = burn_rate(bad, total, o.allowed_bad_ratio)
    consumed = None if rate is None else clip(window_budget_consumed(rate, duration, o.window))
    return replace(
        result, burn_rate=rate, budget_consumed=consumed, window_s=o.window, alerts=alerts,
        budget=run_budget(bad, total, o.allowed_bad_ratio) if total else None,
    )


def ratio_group(
    o: RatioObjective, key: str, bad: int, total: int, *, duration: float, good_share: bool,
    threshold: float, warn: float | None, needed: int,
) -> GroupResult:
    """One group of a ratio SLI: its value in percent (the good share when ``good_share``,
    else the bad share), status, burn rate and window budget consumed."""
    value = None
    if total:
        value = 100.0 * ((total - bad) if good_share else bad) / total
    status, reason = judge(value, threshold, o.comparison, warn, events=total, needed=needed)
    rate = burn_rate(bad, total, o.allowed_bad_ratio)
    consumed = None if rate is None else clip(window_budget_consumed(rate, duration, o.window))
    return GroupResult(key, status, value, total, bad, rate, consumed, reason)


def _reason(decider: GroupResult, per: str | None) -> str:
    if not decider.reason:
        return ""
    return f"{per}={decider.key}: {decider.reason}" if per else decider.reason


def clip(share: float) -> float:
    """A budget share kept within 0..1 (a run longer than its window would exceed 1)."""
    return min(1.0, max(0.0, share))

