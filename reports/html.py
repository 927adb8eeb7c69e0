"""``report.html``: one self-contained file -- inline CSS and SVG, no script, no network.

The readiness page (exec audience) comes first and fits one printed page; the SRE detail
follows on the next page (``audience="sre"``, the default). Jinja2 renders with
autoescape on: every string from the run record (operation names, error texts, scenario
values of a foreign target) is escaped; only the SVG built by :mod:`reports.charts`, which
escapes its own text, is marked safe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reports import fmt
from reports.aggregate import DIST_PCTS
from reports.alerts import alert_rows
from reports.charts import Series, line_chart, percentile_x
from reports.faults import fault_bands, fault_rows, phase_rows
from reports.model import Audience, ReportData
from slo.claims import SCORE_RULE, objective_anchor

__all__ = ["Chart", "build_charts", "render_html"]

_MB: Final = 1e6
MIN_DIST_SAMPLES: Final = 50


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart for the template: its group heading, the SVG, and a caption saying what it is."""

    group: str
    svg: Markup
    caption: str = ""


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        ms=fmt.ms, pct=fmt.percent, count=fmt.count, rate=fmt.rate, dur=fmt.duration,
        status=fmt.status_label, value=fmt.objective_value, anchor=objective_anchor,
    )
    return env


def _warmup(d: ReportData) -> tuple[float, float, str] | None:
    return (0.0, d.warmup_s, "warm-up") if d.warmup_s > 0 else None


def _traffic(d: ReportData) -> list[Chart]:
    agg = d.aggregates
    if not agg.series:
        return []
    n = len(agg.series[0].rps)
    x = [(i + 0.5) * agg.bucket_s for i in range(n)]
    shade, bands = _warmup(d), fault_bands(d)
    per = f"per {agg.bucket_s:g} s bucket" if agg.bucket_s > 1 else "per second"
    charts = [
        Chart("Traffic", line_chart("Operations per second by kind", x,
                                    [Series(s.kind, s.rps) for s in agg.series],
                                    y_unit="ops/s", shade=shade, bands=bands, chart_id="chart-rps"),
              f"Completed operations {per}, by send time."),
        Chart("Traffic", line_chart("Errors per second by kind", x,
                                    [Series(s.kind, s.errors_per_s) for s in agg.series],
                                    y_unit="errors/s", shade=shade, bands=bands, chart_id="chart-errors"),
              "Samples with ok = false."),
    ]
    for s in agg.series:
        if sum(s.rps) * agg.bucket_s < MIN_DIST_SAMPLES or not _chartable(s.p99):
            continue  # a few scattered samples (checks, closes) make a noisy, empty chart
        charts.append(Chart("Latency", line_chart(
            f"{s.kind} latency p50 / p95 / p99", x,
            [Series("p50", s.p50), Series("p95", s.p95), Series("p99", s.p99)],
            y_unit="ms", shade=shade, bands=bands, chart_id=f"chart-latency-{s.kind}"),
            f"Raw latency {per}, nearest-rank percentiles."))
    return charts


def _chartable(values: Sequence[float | None], min_points: int = 10) -> bool:
    present = [v for v in values if v is not None]
    return len(present) >= min_points and max(present) > 0


def _ts_series(d: ReportData, prefix: str) -> list[Series]:
    ts = d.timeseries
    if ts is None:
        return []
    out = []
    for name in sorted(c for c in ts.columns if c.startswith(prefix + "_")):
        values = ts.columns[name]
        if np.nanmax(values, initial=0.0) > 0:
            out.append(Series(name.removeprefix(prefix + "_"), _opt(values)))
    return out


def _opt(values: np.ndarray[Any, Any], scale: float = 1.0) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) / scale for v in values]


def _resources(d: ReportData) -> list[Chart]:
    ts = d.timeseries
    if ts is None or ts.t.size == 0:
        return []
    x = [float(t) - d.load_start for t in ts.t]
    shade, bands = _warmup(d), fault_bands(d)
    charts = []
    for prefix, title in (("ws_sessions", "Active WebSocket sessions by tier"),
                          ("http_users", "Active HTTP users by tier")):
        series = _ts_series(d, prefix)
        if series:
            charts.append(Chart("Sessions", line_chart(title, x, series, y_unit="active",
                                                       shade=shade, bands=bands, chart_id=f"chart-{prefix}")))
    cpu = [Series(label, _opt(ts.columns[c])) for c, label in
           (("target_cpu_percent", "target"), ("generator_cpu_percent", "generator"))
           if c in ts.columns]
    facts = d.evidence.timeseries
    if facts is not None and facts.generator_ceiling and "generator_cpu_percent" in ts.columns:
        cpu.append(Series("generator ceiling", [facts.generator_ceiling] * len(x), "#999999",
                          dashed=True))
    if cpu:
        charts.append(Chart("Resources", line_chart(
            "CPU (100 % = one core)", x, cpu, y_unit="%", shade=shade, bands=bands, chart_id="chart-cpu"),
            "Target: its processes; generator: slogate and every process it started."))
    mem = [Series(label, _opt(ts.columns[c], _MB)) for c, label in
           (("target_rss_bytes", "target"), ("generator_rss_bytes", "generator"))
           if c in ts.columns]
    if mem:
        charts.append(Chart("Resources", line_chart(
            "Resident memory", x, mem, y_unit="MB", shade=shade, bands=bands, chart_id="chart-memory")))
    return charts


def _distribution(d: ReportData) -> list[Chart]:
    charts = []
    pcts = [p for p in DIST_PCTS if p < 100]
    x = [percentile_x(p) for p in pcts]
    ticks = [(percentile_x(p), f"p{p:g}") for p in (50.0, 90.0, 99.0, 99.9, 99.99)]
    for dist in d.aggregates.distributions:
        if dist.count < MIN_DIST_SAMPLES or dist.raw[-1] <= 0:
            continue
        raw, cor = list(dist.raw[: len(pcts)]), list(dist.corrected[: len(pcts)])
        values = [v for v in raw + cor if v > 0]
        log_y = bool(values) and max(values) / min(values) > 50
        charts.append(Chart("Distribution", line_chart(
            f"{dist.kind}: latency by percentile, raw vs corrected", x,
            [Series("raw", raw), Series("corrected", cor, dashed=True)], y_unit="ms",
            x_label="percentile", x_ticks=ticks, log_y=log_y, chart_id=f"chart-dist-{dist.kind}"),
            "Corrected = latency + (ts - intended_ts): what a user arriving on schedule saw."))
    return charts


def _alert_chart(d: ReportData) -> list[Chart]:
    """Errors per second with the first page alert's firing shaded: when the run's Prometheus
    paged, against what the client saw (alerts.json)."""
    agg, alerts = d.aggregates, d.alerts
    pages = [f for f in alerts.firings if f.severity == "page"] if alerts else []
    if not agg.series or not pages or alerts is None:
        return []
    x = [(i + 0.5) * agg.bucket_s for i in range(len(agg.series[0].rps))]
    first = pages[0]
    end = first.resolved_at if first.resolved_at is not None else alerts.end
    shade = (first.fired_at - d.load_start, end - d.load_start, f"{first.rule} firing")
    return [Chart("Alerts", line_chart(
        f"Errors per second and the {first.rule} page ({first.slo})", x,
        [Series(s.kind, s.errors_per_s) for s in agg.series], y_unit="errors/s", shade=shade,
        chart_id="chart-alerts"), "Shaded: the first page alert, from firing to resolved.")]


def build_charts(d: ReportData) -> list[Chart]:
    """Every chart of the SRE detail, in page order."""
    return [*_traffic(d), *_alert_chart(d), *_resources(d), *_distribution(d)]


def _cross_check_tables(d: ReportData) -> list[tuple[str, list[str], list[list[str]]]]:
    cc = d.verdict.cross_check if d.verdict else {}
    out = []
    for key in ("reconciliation", "quantiles", "findings"):
        items = [i for i in (cc.get(key) or []) if isinstance(i, dict)]
        if items:
            headers = list(dict.fromkeys(k for i in items for k in i))
            out.append((key, headers, [[_text(i.get(h, "")) for h in headers] for i in items]))
    return out


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render_html(data: ReportData, audience: Audience = "sre") -> str:
    """The whole report as one HTML document."""
    template = _env().get_template("report.html.j2")
    budgets = [o for o in (data.verdict.objectives if data.verdict else ())
               if o.budget is not None or o.burn_rate is not None]
    saturated = [r for r in data.risks if r.kind in ("generator_saturated", "host_saturated")]
    return template.render(
        d=data, r=data.readiness, i=data.identity, audience=audience, rule=SCORE_RULE,
        budgets=budgets, charts=build_charts(data) if audience == "sre" else [],
        saturated=saturated, cross_check=_cross_check_tables(data),
        alert_rows=alert_rows(data.alerts, data.load_start) if data.alerts else [],
        scenario_text=json.dumps(data.scenario, indent=2, sort_keys=True, default=str),
        routes=_sorted_routes(data), claim_icon=fmt.CLAIM_ICON, status_icon=fmt.STATUS_ICON,
        faults=fault_rows(data), phases=phase_rows(data),
    )


def _sorted_routes(d: ReportData) -> Sequence[Any]:
    return sorted(d.aggregates.routes, key=lambda r: (-r.count, r.kind, r.name))
