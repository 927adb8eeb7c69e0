"""Comparison reports: a :class:`~slo.compare.model.Comparison` as HTML, Markdown, JSON, JUnit.

Rendering only -- every judgement (better / same / worse, the outcome) was made in
:mod:`slo.compare`. Reuses the single-run reports' stylesheet and number formatting;
adds a sparkline for the trend table (:mod:`reports.comparison.sparkline`).

Example::

    from reports.comparison import write_comparison_reports
    write_comparison_reports(comparison, Path("runs/r2"), trend)   # comparison.html, .md, ...
"""

from reports.comparison.html import render_comparison_html
from reports.comparison.junit import render_comparison_junit
from reports.comparison.markdown import LIMIT, render_comparison_markdown
from reports.comparison.render import (
    COMPARISON_FILES,
    COMPARISON_FORMATS,
    render_comparison,
    write_comparison_reports,
)
from reports.comparison.sparkline import sparkline

__all__ = [
    "COMPARISON_FILES",
    "COMPARISON_FORMATS",
    "LIMIT",
    "render_comparison",
    "render_comparison_html",
    "render_comparison_junit",
    "render_comparison_markdown",
    "sparkline",
    "write_comparison_reports",
]
