"""Reports: render a saved run record and its verdict as HTML, Markdown, JSON and JUnit XML.

Rendering only: every judgement (verdict, readiness claims, score, risks) comes from
``slo/``. Modules: :mod:`~reports.load` (run record -> :class:`~reports.model.ReportData`),
:mod:`~reports.aggregate` (vectorised tables), :mod:`~reports.charts` (inline SVG), and one
renderer per format (:mod:`~reports.html`, :mod:`~reports.markdown`,
:mod:`~reports.json_report`, :mod:`~reports.junit`). :func:`render_all` writes them all.

Imports are lazy, so ``import reports.comparison`` (or another subpackage) does not pull in
Jinja2 and the renderers.

Example::

    from reports import render_all
    render_all(Path("runs/r1"))   # {'html': .../report.html, 'md': ..., 'json': ..., 'junit': ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports.render import FORMATS, render_all

__all__ = ["FORMATS", "render_all"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from reports import render

        return getattr(render, name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
