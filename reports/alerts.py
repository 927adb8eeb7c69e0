"""Rows of the report's "SLO burn-rate alerts" section, from ``alerts.json`` (formatting only).

Which of the burn-rate rules that ``slogate alerts`` generated (and a local Prometheus
evaluated during the run) fired, when, and when they resolved, in seconds from the load's
start -- the same clock as every chart, so a firing can be read against the errors chart
and the run's faults. Rules that never fired are listed too: silence is also a result.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports import fmt
from slo.alert_history import AlertRecord

__all__ = ["AlertRow", "alert_rows"]


@dataclass(frozen=True, slots=True)
class AlertRow:
    slo: str
    rule: str
    severity: str
    windows: str
    threshold: str
    fired: str
    resolved: str
    lasted: str


def alert_rows(record: AlertRecord, load_start: float) -> list[AlertRow]:
    """One row per firing, then one per rule that never fired."""
    rules = {(r.slo, r.rule): r for r in record.rules}
    rows = []
    for f in record.firings:
        r = rules.get((f.slo, f.rule))
        windows = "-" if r is None else (f"{fmt.duration(r.long_window_s)} / "
                                         f"{fmt.duration(r.short_window_s)}")
        rows.append(AlertRow(
            f.slo, f.rule, f.severity, windows, "-" if r is None else f"{r.threshold:g}x",
            f"+{fmt.duration(f.fired_at - load_start)}",
            "still firing at the end" if f.resolved_at is None
            else f"+{fmt.duration(f.resolved_at - load_start)}",
            "-" if f.resolved_at is None else fmt.duration(f.resolved_at - f.fired_at)))
    fired = {(f.slo, f.rule) for f in record.firings}
    for r in record.rules:
        if (r.slo, r.rule) not in fired:
            rows.append(AlertRow(r.slo, r.rule, r.severity, f"{fmt.duration(r.long_window_s)} / "
                                 f"{fmt.duration(r.short_window_s)}", f"{r.threshold:g}x",
                                 "did not fire", "-", "-"))
    return rows
