"""``capacity.html``: the answer, the latency-throughput curve (inline SVG), the step table.

Self-contained like the run report (its stylesheet, no script, no network). Two curves
show p50/p95/p99 against the *offered* level and against the *achieved* throughput (a
target past its capacity bends back: throughput stops rising while latency climbs), and a
third the error rate against the offered level.
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reports.capacity.text import CONCLUSION_TITLE, curve_points, level_text, step_rows
from reports.charts import Series, line_chart
from slo.capacity import CapacityResult

__all__ = ["render_capacity_html"]


def _env() -> Environment:
    return Environment(
        loader=ChoiceLoader([PackageLoader("reports.capacity", "templates"),
                             PackageLoader("reports", "templates")]),
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _charts(r: CapacityResult) -> list[Markup]:
    points = curve_points(r)
    if not points:
        return []
    facts = [p.facts for p in points if p.facts is not None]
    lat = [Series("p50", [f.p50_ms for f in facts]), Series("p95", [f.p95_ms for f in facts]),
           Series("p99", [f.p99_ms for f in facts])]
    levels = [p.level for p in points]
    by_tp = sorted(facts, key=lambda f: f.throughput_per_s)
    lat_tp = [Series("p50", [f.p50_ms for f in by_tp]), Series("p95", [f.p95_ms for f in by_tp]),
              Series("p99", [f.p99_ms for f in by_tp])]
    return [
        line_chart("Latency against offered load", levels, lat, y_unit="ms",
                   x_label=f"offered ({r.unit})", log_y=True, chart_id="curve-offered"),
        line_chart("Latency against achieved throughput", [f.throughput_per_s for f in by_tp],
                   lat_tp, y_unit="ms", x_label="achieved (successful operations/s)",
                   log_y=True, chart_id="curve-achieved"),
        line_chart("Error rate against offered load", levels,
                   [Series("errors", [None if f.error_rate is None else f.error_rate * 100
                                      for f in facts], color="#D55E00")],
                   y_unit="%", x_label=f"offered ({r.unit})", chart_id="curve-errors"),
    ]


def render_capacity_html(r: CapacityResult) -> str:
    return _env().get_template("capacity.html.j2").render(
        r=r, title=CONCLUSION_TITLE.get(r.conclusion, r.conclusion.upper()),
        rows=step_rows(r), charts=_charts(r), level=level_text,
    )
