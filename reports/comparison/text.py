"""Wording shared by the comparison's HTML, Markdown and JUnit: one sentence per metric.

Numbers go through :mod:`reports.fmt` (the single-run reports' formatting), so a latency
reads the same in a comparison and in a report. Only the comparison-specific parts live
here: signed changes, intervals and the headline.
"""

from __future__ import annotations

from typing import Final

from reports import fmt
from slo.compare.model import METRICS, Change, Comparison, Interval, MetricComparison, Outcome

__all__ = [
    "CHANGE_ICON",
    "METRIC_TITLE",
    "OUTCOME_ICON",
    "change_text",
    "failure_message",
    "headline",
    "interval_text",
    "metric_order",
    "value",
]

CHANGE_ICON: Final[dict[str, str]] = {"better": "🟢", "same": "⚪", "worse": "🔴", "no_data": "❔"}
OUTCOME_ICON: Final[dict[str, str]] = {
    "regression": "❌", "improvement": "✅", "same": "✅", "no_data": "❔",
}
METRIC_TITLE: Final[dict[str, str]] = {
    "latency": "latency shift", "p95": "P95", "p99": "P99", "error_rate": "error rate",
    "throughput": "throughput",
}
_ORDER: Final[dict[Change, int]] = {Change.WORSE: 0, Change.BETTER: 1, Change.NO_DATA: 2, Change.SAME: 3}


def value(v: float | None, unit: str) -> str:
    """A metric value in its unit: ``12.3 ms``, ``0.10 %``, ``48.2/s``."""
    if unit == "ms":
        return fmt.ms(v)
    if unit == "%":
        return fmt.percent(v, 2)
    if unit == "ops/s":
        return fmt.rate(v)
    return "-" if v is None else f"{v:,.3g} {unit}".strip()


def _signed(v: float, digits: int = 1) -> str:
    return f"{v:+.{digits}f}"


def interval_text(ci: Interval | None, suffix: str, digits: int = 1) -> str:
    """``[+12.0, +31.5] %``; ``-`` when there is no interval."""
    if ci is None:
        return "-"
    return f"[{_signed(ci.low, digits)}, {_signed(ci.high, digits)}]{suffix}"


def change_text(m: MetricComparison) -> str:
    """The change with its interval: ``+23.4 % [+12.0, +35.1] %`` or, for error rates,
    ``+0.52 pp [+0.31, +0.80] pp``."""
    if m.change is Change.NO_DATA and m.delta is None:
        return "-"
    if m.metric == "error_rate":
        if m.delta is None:
            return "-"
        return f"{_signed(m.delta, 2)} pp {interval_text(m.delta_ci, ' pp', 2)}"
    if m.change_pct is None:
        return "-"
    return f"{_signed(m.change_pct)} % {interval_text(m.change_pct_ci, ' %')}"


def failure_message(m: MetricComparison) -> str:
    """Why a metric is worse, for JUnit and summaries: the change, its interval, the rule."""
    title = METRIC_TITLE[m.metric]
    return (
        f"{title} {value(m.baseline, m.unit)} -> {value(m.candidate, m.unit)}: "
        f"{change_text(m)} at {m.confidence * 100:.4g} % confidence, beyond the tolerance "
        f"{m.tolerance_text}"
    )


def headline(c: Comparison) -> str:
    """One sentence for the top of every format."""
    if c.outcome is Outcome.REGRESSION:
        parts = []
        if c.regressions:
            parts.append(f"{_count(len(c.regressions), 'metric')} got worse than the baseline "
                         f"beyond tolerance ({c.settings.confidence * 100:g} % family-wise "
                         "confidence)")
        if c.objective_regressions:
            n = len(c.objective_regressions)
            parts.append(f"{_count(n, 'SLO objective')} that passed in the baseline "
                         f"fail{'s' if n == 1 else ''} now")
        return "Regression: " + "; ".join(parts) + "."
    if c.outcome is Outcome.IMPROVEMENT:
        return (f"No regression; {len(c.improvements)} metric"
                f"{'s' if len(c.improvements) != 1 else ''} improved beyond tolerance.")
    if c.outcome is Outcome.SAME:
        return "No regression: every compared metric is within tolerance of the baseline."
    return "Nothing could be compared: no operation had enough samples in both runs."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def metric_order(m: MetricComparison) -> tuple[int, str, int]:
    """Worse first, then better, no data, same; by operation, then metric, within each."""
    return (_ORDER[m.change], m.operation.label, METRICS.index(m.metric))
