"""``comparison.html``: one self-contained file -- inline CSS and SVG, no script, no network.

It shares the single-run report's stylesheet (``reports/templates/report.css``, included at
render time) and number formatting (:mod:`reports.fmt`), so a comparison looks like the
reports it sits beside. Autoescape is on: operation names come from a foreign target's
samples; only the sparklines, which escape their own text, are marked safe.
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from reports import fmt
from reports.comparison.sparkline import sparkline
from reports.comparison.text import METRIC_TITLE, change_text, headline, metric_order, value
from slo.compare.model import Comparison
from slo.history import Trend

__all__ = ["render_comparison_html"]


def _env() -> Environment:
    env = Environment(
        loader=ChoiceLoader([PackageLoader("reports.comparison", "templates"),
                             PackageLoader("reports", "templates")]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(count=fmt.count, dur=fmt.duration, status=fmt.status_label)
    return env


def render_comparison_html(c: Comparison, trend: Trend | None = None) -> str:
    """The comparison as one HTML document; the trend table when ``trend`` has history."""
    template = _env().get_template("comparison.html.j2")
    return template.render(
        c=c,
        base_name=c.baseline.release or c.baseline.run_id,
        cand_name=c.candidate.release or c.candidate.run_id,
        headline=headline(c),
        metrics=sorted(c.metrics, key=metric_order),
        titles=METRIC_TITLE,
        change=change_text,
        fmt_value=value,
        spark=sparkline,
        trend=trend if trend is not None and len(trend.labels) > 1 and trend.lines else None,
    )
