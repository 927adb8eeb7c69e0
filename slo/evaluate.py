"""``evaluate(objectives, measurements) -> Verdict``: the pure judgement of a run.

No file, clock, network or logging here: everything comes in as :class:`Measurements`, and
the result is a frozen :class:`~slo.verdict.Verdict`. Sample-based SLIs (latency, ttft,
availability, error rate, WebSocket drop rate) live in this module; server-side and resource
SLIs in :mod:`slo.resources`.

The overall status is the most severe objective status (fail > insufficient_data > warn >
pass), except that an ``optional: true`` objective without data does not make the whole
verdict ``insufficient_data``.

Example::

    verdict = evaluate(load_slo("slo.yaml").objectives, load_measurements(run_dir))
    verdict.status            # Status.PASS / WARN / FAIL / INSUFFICIENT_DATA
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from slo._types import Status, worst
from slo.budget import burn_rate, run_budget, window_budget_consumed
from slo.burn import AlertResult, replay_alerts
from slo.fault_results import AbortResult
from slo.judge import judge, min_events, pick_worst_group, threshold_text
from slo.measurements import Measurements
from slo.recovery import RECOVERY_WINDOW_S, fault_spans, judge_faults, without_spans
from slo.resources import evaluate_cpu, evaluate_memory_slope, evaluate_server_latency
from slo.samples import BoolArray
from slo.sli import aggregate, corrected_latency_ms, percentiles
from slo.spec.model import (
    AvailabilityObjective,
    CpuObjective,
    ErrorRateObjective,
    LatencyObjective,
    MemorySlopeObjective,
    Objective,
    RatioObjective,
    ServerLatencyObjective,
    WsDropRateObjective,
)
from slo.verdict import GroupResult, ObjectiveResult, Verdict

__all__ = ["evaluate", "evaluate_objective", "overall_status"]

GroupFn = Callable[[str, BoolArray], GroupResult]


def evaluate(
    objectives: Sequence[Objective],
    measurements: Measurements,
    *,
    slo: str = "",
    slo_name: str = "",
    abort: AbortResult | None = None,
    recovery_window_s: float = RECOVERY_WINDOW_S,
) -> Verdict:
    """Judge every objective against ``measurements``.

    With faults in the measurements, each is judged too (:mod:`slo.recovery`). ``abort``: the
    run was stopped by an objective's ``abort_on``; the verdict then fails whatever the
    shortened run's objectives say, because the budget was burning too fast to go on
    (docs/slo.md, "abort_on").
    """
    faults = judge_faults(objectives, measurements, measurements.faults, evaluate_objective,
                          recovery_window_s)
    spans = fault_spans(faults, measurements.end_ts)
    steady = without_spans(measurements, spans) if spans else measurements
    results = tuple(
        _steady(evaluate_objective(o, steady)) if o.exclude_faults and spans
        else evaluate_objective(o, measurements)
        for o in objectives
    )
    facts = measurements.facts
    return Verdict(
        status=Status.FAIL if abort is not None else overall_status(results),
        objectives=results,
        run_id=facts.run_id,
        slo=slo,
        slo_name=slo_name,
        run_status=facts.status,
        approximate=facts.approximate,
        approximate_reason=facts.approximate_reason,
        evaluated_from=facts.started_at + facts.warmup_s,
        evaluated_to=measurements.end_ts,
        cross_check=dict(measurements.cross_check),
        faults=faults,
        abort=abort,
    )


def _steady(result: ObjectiveResult) -> ObjectiveResult:
    """Say on the result that fault spans were left out (``exclude_faults``)."""
    return replace(result, statistic=f"{result.statistic} (fault spans excluded)".strip())


def overall_status(results: Sequence[ObjectiveResult]) -> Status:
    """Most severe status; optional objectives without data are left out."""
    counted = [
        r.status for r in results
        if not (r.optional and r.status is Status.INSUFFICIENT_DATA)
    ]
    return worst(counted)


def evaluate_objective(objective: Objective, m: Measurements) -> ObjectiveResult:
    """One objective's result (dispatch on its SLI)."""
    if isinstance(objective, LatencyObjective):
        return _latency(objective, m)
    if isinstance(objective, WsDropRateObjective):
        return _drop_rate(objective, m)
    if isinstance(objective, AvailabilityObjective | ErrorRateObjective):
        return _ratio(objective, m)
    if isinstance(objective, ServerLatencyObjective):
        return evaluate_server_latency(objective, m)
    if isinstance(objective, MemorySlopeObjective):
        return evaluate_memory_slope(objective, m)
    if isinstance(objective, CpuObjective):
        return evaluate_cpu(objective, m)
    raise TypeError(f"no evaluator for {type(objective).__name__}")  # pragma: no cover


def _since(objective: Objective, m: Measurements) -> float:
    warmup = objective.warmup_s if objective.warmup_s is not None else m.facts.warmup_s
    return m.facts.started_at + warmup


def _latency(o: LatencyObjective, m: Measurements) -> ObjectiveResult:
    cols = m.samples
    mask = cols.select(o.select, _since(o, m))
    if o.ok_only:
        mask &= cols.ok
    needed = min_events(o)
    if cols.latency_ms is None:
        raise KeyError("latency_ms was not loaded")
    latency = cols.latency_ms
    intended = cols.intended_ts
    if o.corrected and intended is None:
        raise KeyError("intended_ts was not loaded")

    def group(key: str, gmask: BoolArray) -> GroupResult:
        values = latency[gmask]
        if o.corrected and intended is not None:
            values = corrected_latency_ms(values, cols.ts[gmask], intended[gmask])
        events = int(values.shape[0])
        value: float | None = None
        if events:
            value = (
                float(percentiles(values, [o.percentile], overwrite=True)[0])
                if o.percentile is not None
                else aggregate(values, o.aggregate or "avg")
            )
        status, reason = judge(
            value, o.threshold_ms, o.comparison, o.warn_ms, events=events, needed=needed
        )
        return GroupResult(key, status, value, events, reason=reason)

    groups = _groups(o, m, mask, group)
    statistic = f"p{o.percentile:g}" if o.percentile is not None else str(o.aggregate)
    if o.corrected:
        statistic += " corrected"
    return _result(o, m, groups, statistic=statistic)


def _ratio(o: AvailabilityObjective | ErrorRateObjective, m: Measurements) -> ObjectiveResult:
    cols = m.samples
    since = _since(o, m)
    mask = cols.select(o.select, since)
    bad_all = ~cols.ok
    available = isinstance(o, AvailabilityObjective)
    threshold, warn, _, _ = threshold_text(o)
    assert threshold is not None
    needed = min_events(o)
    duration = max(0.0, m.end_ts - since)

    def group(key: str, gmask: BoolArray) -> GroupResult:
        total = int(np.count_nonzero(gmask))
        bad = int(np.count_nonzero(gmask & bad_all))
        return _ratio_group(o, key, bad, total, duration, available, threshold, warn, needed)

    groups = _groups(o, m, mask, group)
    total = int(np.count_nonzero(mask))
    bad_mask = mask & bad_all
    alerts: tuple[AlertResult, ...] = ()
    if o.alerts and total:
        offsets = cols.ts[mask] - since
        alerts = replay_alerts(
            offsets, bad_all[mask], duration, o.allowed_bad_ratio, o.window
        )
    return _result(
        o, m, groups, statistic=o.sli, bad=int(np.count_nonzero(bad_mask)), total=total,
        duration=duration, alerts=alerts,
    )


def _drop_rate(o: WsDropRateObjective, m: Measurements) -> ObjectiveResult:
    """Unexpected closes per opened session, over the whole run (warm-up does not apply:
    sessions open during it)."""
    cols = m.samples
    kind = cols.categorical("kind")
    base = cols.select(o.select)
    opened = base & kind.mask(("ws_connect",)) & cols.ok
    closed = base & kind.mask(("ws_close",))
    needed = min_events(o)
    threshold = o.threshold_percent
    duration = max(0.0, m.end_ts - m.facts.started_at)

    def group(key: str, gmask: BoolArray) -> GroupResult:
        total = int(np.count_nonzero(gmask & opened))
        bad = min(int(np.count_nonzero(gmask & closed)), total)
        return _ratio_group(
            o, key, bad, total, duration, False, threshold, o.warn_percent, needed
        )

    groups = _groups(o, m, opened | closed, group)
    total = int(np.count_nonzero(opened))
    bad = min(int(np.count_nonzero(closed)), total)
    return _result(o, m, groups, statistic="drops/session", bad=bad, total=total,
                   duration=duration)


def _ratio_group(
    o: RatioObjective, key: str, bad: int, total: int, duration: float, available: bool,
    threshold: float, warn: float | None, needed: int,
) -> GroupResult:
    value = None
    if total:
        value = 100.0 * ((total - bad) if available else bad) / total
    status, reason = judge(value, threshold, o.comparison, warn, events=total, needed=needed)
    rate = burn_rate(bad, total, o.allowed_bad_ratio)
    consumed = None if rate is None else _clip(window_budget_consumed(rate, duration, o.window))
    return GroupResult(key, status, value, total, bad, rate, consumed, reason)


def _groups(o: Objective, m: Measurements, mask: BoolArray, fn: GroupFn) -> list[GroupResult]:
    if o.per is None:
        return [fn("all", mask)]
    return [fn(key, gmask) for key, gmask in m.samples.groups(o.per, mask)]


def _result(
    o: Objective,
    m: Measurements,
    groups: list[GroupResult],
    *,
    statistic: str,
    bad: int | None = None,
    total: int | None = None,
    duration: float | None = None,
    alerts: tuple[AlertResult, ...] = (),
) -> ObjectiveResult:
    """Assemble an objective's result from its groups (one group ``all`` without ``per``)."""
    threshold, warn, unit, text = threshold_text(o)
    comparison = getattr(o, "comparison", "<=")
    decider = pick_worst_group(groups, comparison)
    if decider is None:
        status, reason = judge(None, 0.0, comparison, events=0, needed=min_events(o))
        decider = GroupResult("all", status, None, 0, reason=reason)
    result = ObjectiveResult(
        name=o.name, sli=o.sli, status=worst([g.status for g in groups]) if groups
        else decider.status, value=decider.value, threshold=threshold, threshold_text=text,
        unit=unit, events=sum(g.events for g in groups), comparison=comparison,
        statistic=statistic, warn_threshold=warn, reason=_reason(decider, o.per),
        optional=o.optional, approximate=m.facts.approximate, per=o.per,
        worst_group=decider.key if o.per else None, groups=tuple(groups) if o.per else (),
    )
    if not isinstance(o, RatioObjective) or total is None or bad is None:
        return result
    rate = burn_rate(bad, total, o.allowed_bad_ratio)
    consumed = None
    if rate is not None and duration is not None:
        consumed = _clip(window_budget_consumed(rate, duration, o.window))
    return replace(
        result, burn_rate=rate, budget_consumed=consumed, window_s=o.window, alerts=alerts,
        budget=run_budget(bad, total, o.allowed_bad_ratio) if total else None,
    )


def _reason(decider: GroupResult, per: str | None) -> str:
    if not decider.reason:
        return ""
    return f"{per}={decider.key}: {decider.reason}" if per else decider.reason


def _clip(share: float) -> float:
    return min(1.0, max(0.0, share))
