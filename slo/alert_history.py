"""Which SLO burn-rate alerts fired during a run, and when: ``RUN_DIR/alerts.json``.

With ``--prometheus local`` the run's Prometheus evaluates the rules of :mod:`slo.alerts`
(windows scaled to the run) every second. After the load, Prometheus's own ``ALERTS``
series is read over the run window at a 1 s step (a range query): every contiguous stretch of
``alertstate="firing"`` samples is one firing, from its first sample to one step past its
last (``resolved_at``; ``None`` when it was still firing at the end of the window).

``alerts.json`` (``schema_version`` 1): ``source``, ``url``, ``start``, ``end`` (epoch s),
``duration_s`` (the run length the windows were scaled for), ``rules_file``, ``rules``
(``{alert, slo, rule, severity, long_window_s, short_window_s, threshold}``), ``firings``
(``{alert, slo, rule, severity, fired_at, resolved_at}``) and ``notes``.

Example::

    record = read_alert_record(RunLayout(run_dir).root / ALERTS_JSON)
    [(f.rule, f.fired_at, f.resolved_at) for f in record.firings]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from foundation.documents import write_text_atomic
from foundation.errors import ConfigError
from slo.alerts import AlertPlan

__all__ = [
    "ALERTS_JSON",
    "AlertRecord",
    "Firing",
    "RuleInfo",
    "firing_intervals",
    "firings_from_range",
    "read_alert_record",
    "rule_infos",
    "write_alert_record",
]

ALERTS_JSON: Final = "alerts.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleInfo(_Model):
    """One loaded alerting rule, as the report lists it."""

    alert: str
    slo: str
    rule: str
    severity: str
    long_window_s: float
    short_window_s: float
    threshold: float


class Firing(_Model):
    """One stretch of time an alert was firing."""

    alert: str
    slo: str
    rule: str
    severity: str
    fired_at: float
    resolved_at: float | None


class AlertRecord(_Model):
    schema_version: Literal[1] = 1
    source: str = "prometheus"
    url: str = ""
    start: float
    end: float
    duration_s: float | None = None
    rules_file: str = ""
    rules: list[RuleInfo] = []
    firings: list[Firing] = []
    notes: list[str] = []


def rule_infos(plan: AlertPlan) -> list[RuleInfo]:
    """The rules of ``plan`` as the record lists them."""
    return [RuleInfo(alert=o.alert_name, slo=o.name, rule=p.rule.name,
                     severity=p.rule.severity, long_window_s=p.long_s,
                     short_window_s=p.short_s, threshold=p.threshold)
            for o in plan.objectives for p in o.pairs]


def firing_intervals(times: Iterable[float], step: float,
                     end: float) -> list[tuple[float, float | None]]:
    """Contiguous stretches of sample times ``step`` apart (a gap of more than two steps
    ends one): ``(first, last + step)``, or ``(first, None)`` when the last sample is within
    two steps of ``end`` (still firing when the window closed)."""
    out: list[tuple[float, float | None]] = []
    ordered = sorted(times)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] - ordered[j] <= 2 * step:
            j += 1
        last = ordered[j]
        out.append((ordered[i], None if end - last <= 2 * step else last + step))
        i = j + 1
    return out


def firings_from_range(result: list[dict[str, Any]], step: float, end: float) -> list[Firing]:
    """``ALERTS{alertstate="firing"}`` range-query result -> firings, by time."""
    out = []
    for item in result:
        m = item.get("metric", {})
        times = [float(t) for t, v in item.get("values", []) if float(v) == 1.0]
        for fired, resolved in firing_intervals(times, step, end):
            out.append(Firing(alert=m.get("alertname", ""), slo=m.get("slo", ""),
                              rule=m.get("rule", ""), severity=m.get("severity", ""),
                              fired_at=fired, resolved_at=resolved))
    return sorted(out, key=lambda f: (f.fired_at, f.slo, f.rule))


def write_alert_record(record: AlertRecord, path: Path) -> Path:
    write_text_atomic(path, record.model_dump_json(indent=2) + "\n")
    return path


def read_alert_record(path: Path) -> AlertRecord:
    """Read ``alerts.json``; a broken or unknown-version file is a ConfigError naming it."""
    try:
        return AlertRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"unreadable alerts record: {exc}", path=str(path)) from exc
