"""Write a comparison's reports -- ``comparison.{html,md,json,junit.xml}`` -- into a directory.

The one function ``slogate compare`` calls. Every format renders from the same
:class:`~slo.compare.model.Comparison` (and optional trend), so they cannot disagree, and
``comparison.json`` is the saved record the others can be re-rendered from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from foundation.documents import write_text_atomic
from foundation.errors import ReportError, UsageError
from reports.comparison.html import render_comparison_html
from reports.comparison.junit import render_comparison_junit
from reports.comparison.markdown import render_comparison_markdown
from slo.compare.model import Comparison
from slo.compare.record import comparison_to_dict
from slo.history import Trend

__all__ = ["COMPARISON_FILES", "COMPARISON_FORMATS", "render_comparison", "write_comparison_reports"]

COMPARISON_FORMATS: Final = ("html", "md", "json", "junit")
COMPARISON_FILES: Final[dict[str, str]] = {
    "html": "comparison.html",
    "md": "comparison.md",
    "json": "comparison.json",
    "junit": "comparison.junit.xml",
}

_RENDERERS: Final[dict[str, Callable[[Comparison, Trend | None], str]]] = {
    "html": render_comparison_html,
    "md": render_comparison_markdown,
    "json": lambda c, _t: json.dumps(comparison_to_dict(c), indent=2, allow_nan=False) + "\n",
    "junit": lambda c, _t: render_comparison_junit(c),
}


def render_comparison(c: Comparison, fmt: str, trend: Trend | None = None) -> str:
    """One format as text."""
    if fmt not in _RENDERERS:
        raise UsageError(f"unknown comparison format {fmt!r}; choose from {', '.join(COMPARISON_FORMATS)}")
    return _RENDERERS[fmt](c, trend)


def write_comparison_reports(
    c: Comparison,
    out_dir: Path,
    trend: Trend | None = None,
    formats: Iterable[str] = COMPARISON_FORMATS,
) -> dict[str, Path]:
    """Write ``formats`` into ``out_dir`` atomically; returns ``{format: path}``."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create {out_dir}: {exc.strerror}; pick another --out") from exc
    written: dict[str, Path] = {}
    for name in formats:
        text = render_comparison(c, name, trend)
        path = out_dir / COMPARISON_FILES[name]
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc.strerror}") from exc
        written[name] = path
    return written
