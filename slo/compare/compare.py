"""``compare_runs(baseline, candidate, settings) -> Comparison``: the pure core of ``slogate compare``.

Per operation present in both runs, five metrics (see :data:`slo.compare.model.METRICS`);
per SLO objective judged in both verdicts, its status transition. The gated metrics with
enough data form the multiple-comparison family; their intervals are computed at the
Bonferroni-adjusted confidence (:mod:`slo.compare.classify`). Every random draw is seeded
from ``settings.seed`` and the (operation, metric) pair, so a comparison is reproducible
and does not change when an unrelated operation is added.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from slo._types import Status
from slo.compare.bootstrap import percentile_difference
from slo.compare.classify import classify, family_confidence
from slo.compare.inputs import RunData
from slo.compare.mannwhitney import hodges_lehmann, mann_whitney_u
from slo.compare.model import (
    METRICS,
    Change,
    CompareSettings,
    Comparison,
    Interval,
    MetricComparison,
    MetricName,
    Mismatch,
    ObjectiveComparison,
    OperationKey,
    Outcome,
)
from slo.compare.operations import OperationSamples
from slo.compare.proportions import proportion_difference
from slo.compare.rates import per_second_counts, rate_difference

__all__ = ["compare_objectives", "compare_runs", "outcome_of"]

_PERCENTILE = {"p95": 95.0, "p99": 99.0}


def _has_data(metric: MetricName, b: OperationSamples, c: OperationSamples,
              base: RunData, cand: RunData, s: CompareSettings) -> str:
    """Empty when ``metric`` can be compared, else why not."""
    if metric == "error_rate":
        n_b, n_c = b.total, c.total
    elif metric == "throughput":
        if min(base.window_seconds, cand.window_seconds) < s.min_seconds:
            return f"a run's judged window is shorter than {s.min_seconds} s"
        return ""
    else:
        n_b, n_c = b.latency_sorted.size, c.latency_sorted.size
    if min(n_b, n_c) < s.min_samples:
        return f"fewer than {s.min_samples} samples ({n_b} baseline, {n_c} candidate)"
    return ""


def _seed(settings: CompareSettings, key: OperationKey, metric: str) -> int:
    return (settings.seed * 1_000_003 + zlib.crc32(f"{key.label}|{metric}".encode())) % 2**32


def _tolerance_text(metric: MetricName, tolerance: float | None) -> str:
    if tolerance is None:
        return "not gated"
    if metric == "error_rate":
        return f"±{tolerance:g} pp"
    basis = "median" if metric == "latency" else "value"
    return f"±{tolerance * 100:g} % of baseline {basis}"


def _pct(interval: Interval | None) -> Interval | None:
    return None if interval is None else interval.scaled(100.0)


@dataclass(frozen=True, slots=True)
class _Measured:
    """One metric's numbers before classification; ``decide`` is the interval judged
    against the tolerance (relative to the baseline, or in pp for error rates)."""

    unit: str
    baseline: float
    candidate: float
    delta: float
    delta_ci: Interval
    rel: float | None
    rel_ci: Interval | None
    decide: Interval | None
    method: str
    p_value: float | None = None


def _latency(key: OperationKey, b: OperationSamples, c: OperationSamples,
             conf: float, s: CompareSettings) -> _Measured:
    mw = mann_whitney_u(c.latency_sorted, b.latency_sorted)
    hl = hodges_lehmann(c.latency_sorted, b.latency_sorted, conf,
                        max_samples=s.max_rank_samples, seed=_seed(s, key, "latency"))
    base_med = float(b.latency_sorted[(b.latency_sorted.size - 1) // 2])  # lower median
    cand_med = float(c.latency_sorted[(c.latency_sorted.size - 1) // 2])
    rel_ci = hl.interval.scaled(1.0 / base_med) if base_med > 0 else None
    method = "Mann-Whitney U + Hodges-Lehmann shift"
    if hl.subsampled:
        method += f" (interval on {s.max_rank_samples:,} values per side, seeded)"
    return _Measured("ms", base_med, cand_med, hl.estimate, hl.interval,
                     hl.estimate / base_med if base_med > 0 else None, rel_ci, rel_ci, method,
                     mw.p_value)


def _percentile(metric: MetricName, key: OperationKey, b: OperationSamples, c: OperationSamples,
                conf: float, s: CompareSettings) -> _Measured:
    d = percentile_difference(b.latency_sorted, c.latency_sorted, _PERCENTILE[metric], conf,
                              resamples=s.bootstrap_resamples, seed=_seed(s, key, metric))
    method = f"bootstrap percentile interval, B={s.bootstrap_resamples:,} (exact order-statistic draws)"
    return _Measured("ms", d.baseline, d.candidate, d.delta, d.delta_ci, d.relative,
                     d.relative_ci, d.relative_ci, method)


def _error_rate(b: OperationSamples, c: OperationSamples, conf: float) -> _Measured:
    d = proportion_difference(b.errors, b.total, c.errors, c.total, conf)
    pp = d.interval.scaled(100.0)
    return _Measured("%", d.baseline * 100, d.candidate * 100, d.delta * 100, pp,
                     d.delta / d.baseline if d.baseline > 0 else None, None, pp,
                     "two-proportion z-test + Newcombe score interval", d.p_value)


def _throughput(b: OperationSamples, c: OperationSamples, base: RunData, cand: RunData,
                conf: float) -> _Measured:
    counts_b = per_second_counts(b.ok_ts, base.window_start, base.window_seconds)
    counts_c = per_second_counts(c.ok_ts, cand.window_start, cand.window_seconds)
    d = rate_difference(counts_b, counts_c, conf)
    rel_ci = d.interval.scaled(1.0 / d.baseline) if d.baseline > 0 else None
    return _Measured("ops/s", d.baseline, d.candidate, d.delta, d.interval,
                     d.delta / d.baseline if d.baseline > 0 else None, rel_ci, rel_ci,
                     "per-second successful operations, Welch normal interval")


def _measure(metric: MetricName, key: OperationKey, b: OperationSamples, c: OperationSamples,
             base: RunData, cand: RunData, conf: float, s: CompareSettings) -> MetricComparison:
    if metric == "latency":
        r = _latency(key, b, c, conf, s)
    elif metric in _PERCENTILE:
        r = _percentile(metric, key, b, c, conf, s)
    elif metric == "error_rate":
        r = _error_rate(b, c, conf)
    else:
        r = _throughput(b, c, base, cand, conf)
    tolerance = s.tolerance(metric)
    if r.decide is None:
        change, reason = Change.NO_DATA, "the baseline value is 0: no relative change exists"
    else:
        change = classify(r.decide, tolerance or 0.0, higher_is_better=metric == "throughput")
        reason = ""
    return MetricComparison(
        operation=key, metric=metric, unit=r.unit, change=change,
        baseline=_num(r.baseline), candidate=_num(r.candidate), delta=_num(r.delta),
        delta_ci=_finite(r.delta_ci), change_pct=None if r.rel is None else _num(r.rel * 100.0),
        change_pct_ci=_finite(_pct(r.rel_ci)), tolerance=tolerance,
        tolerance_text=_tolerance_text(metric, tolerance), confidence=conf,
        p_value=_num(r.p_value), n_baseline=_n(metric, b), n_candidate=_n(metric, c),
        gated=tolerance is not None, method=r.method, reason=reason,
    )


def _finite(interval: Interval | None) -> Interval | None:
    """``None`` for an unbounded interval (too few values to bound it at this confidence)."""
    if interval is None or not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return None
    return interval


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _n(metric: MetricName, o: OperationSamples) -> int:
    """Sample count behind ``metric``: all samples for error rate, successful ones otherwise."""
    return o.total if metric == "error_rate" else int(o.ok_ts.size)


def compare_objectives(base: RunData, cand: RunData) -> tuple[ObjectiveComparison, ...]:
    """Status transitions of objectives judged in both runs' verdicts (by name)."""
    if base.verdict is None or cand.verdict is None:
        return ()
    baseline = {o.name: o for o in base.verdict.objectives}
    found: list[ObjectiveComparison] = []
    for c in cand.verdict.objectives:
        b = baseline.get(c.name)
        if b is None:
            continue
        ok = (Status.PASS, Status.WARN)
        change = Change.SAME
        if c.status is Status.FAIL and b.status in ok:
            change = Change.WORSE
        elif b.status is Status.FAIL and c.status in ok:
            change = Change.BETTER
        pct = None
        if b.value is not None and c.value is not None and b.value != 0:
            pct = (c.value - b.value) / abs(b.value) * 100.0
        found.append(ObjectiveComparison(
            name=c.name, sli=c.sli, unit=c.unit, baseline_status=b.status.value,
            candidate_status=c.status.value, change=change, baseline=b.value,
            candidate=c.value, change_pct=pct, threshold_text=c.threshold_text,
        ))
    return tuple(found)


def outcome_of(metrics: Sequence[MetricComparison], objectives: Sequence[ObjectiveComparison]) -> Outcome:
    """Regression if any gated metric or objective got worse; no_data if nothing was tested."""
    gated = [m for m in metrics if m.gated and m.change is not Change.NO_DATA]
    if any(m.change is Change.WORSE for m in gated) or any(o.change is Change.WORSE for o in objectives):
        return Outcome.REGRESSION
    if not gated and not objectives:
        return Outcome.NO_DATA
    if any(m.change is Change.BETTER for m in gated) or any(o.change is Change.BETTER for o in objectives):
        return Outcome.IMPROVEMENT
    return Outcome.SAME


def compare_runs(
    baseline: RunData,
    candidate: RunData,
    settings: CompareSettings | None = None,
    *,
    mismatches: Sequence[Mismatch] = (),
    allowed_different: bool = False,
    created_at: float = 0.0,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare ``candidate`` with ``baseline``; pure (no I/O, no clock: pass ``created_at``).

    ``notes`` (e.g. why objectives were not compared) are carried into the reports.
    """
    s = settings or CompareSettings()
    common = sorted(set(baseline.operations) & set(candidate.operations))
    planned: list[tuple[OperationKey, MetricName, str]] = []
    for key in common:
        b, c = baseline.operations[key], candidate.operations[key]
        wanted = [m for m in METRICS if m in b.metrics and m in c.metrics]
        planned += [(key, m, _has_data(m, b, c, baseline, candidate, s)) for m in wanted]
    tests = sum(1 for _, m, why in planned if not why and s.tolerance(m) is not None)
    per_test = family_confidence(s.confidence, tests, s.correction)
    metrics: list[MetricComparison] = []
    for key, metric, why in planned:
        b, c = baseline.operations[key], candidate.operations[key]
        tolerance = s.tolerance(metric)
        if why:
            metrics.append(MetricComparison(
                operation=key, metric=metric, unit="", change=Change.NO_DATA, reason=why,
                tolerance=tolerance, tolerance_text=_tolerance_text(metric, tolerance),
                n_baseline=_n(metric, b), n_candidate=_n(metric, c), gated=tolerance is not None,
            ))
            continue
        conf = per_test if tolerance is not None else s.confidence
        metrics.append(_measure(metric, key, b, c, baseline, candidate, conf, s))
    objectives = compare_objectives(baseline, candidate)
    notes = list(notes)
    if any("interval on" in m.method for m in metrics):
        notes.append(f"latency shift intervals of operations with more than {s.max_rank_samples:,} "
                     "samples were computed on a seeded subsample (wider, never narrower)")
    return Comparison(
        baseline=baseline.summary, candidate=candidate.summary, settings=s,
        outcome=outcome_of(metrics, objectives), metrics=tuple(metrics), objectives=objectives,
        mismatches=tuple(mismatches), allowed_different=allowed_different,
        only_in_baseline=tuple(sorted(set(baseline.operations) - set(candidate.operations))),
        only_in_candidate=tuple(sorted(set(candidate.operations) - set(baseline.operations))),
        tests=tests, per_test_confidence=per_test, created_at=created_at, notes=tuple(notes),
    )
