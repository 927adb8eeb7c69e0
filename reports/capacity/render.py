"""Write a capacity search's reports into its directory, from ``capacity.json`` alone.

``capacity.html`` (curve and step table), ``capacity.md``, ``capacity-report.json`` (the
answer and the step table, for dashboards) and ``capacity.junit.xml``. Reports render from
the saved result, never from a live search (STYLE.md rule 21), so they can be re-rendered
with ``slogate report --capacity DIR``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from foundation.documents import write_text_atomic
from foundation.errors import ReportError, UsageError
from reports.capacity.html import render_capacity_html
from reports.capacity.junit import render_capacity_junit
from reports.capacity.markdown import render_capacity_markdown
from reports.capacity.text import step_rows
from slo.capacity import CapacityResult, read_capacity

__all__ = ["CAPACITY_FILES", "CAPACITY_FORMATS", "render_capacity", "render_capacity_json"]

CAPACITY_FORMATS: Final = ("html", "md", "json", "junit")
CAPACITY_FILES: Final[dict[str, str]] = {
    "html": "capacity.html",
    "md": "capacity.md",
    "json": "capacity-report.json",
    "junit": "capacity.junit.xml",
}
REPORT_SCHEMA_VERSION: Final = 1


def render_capacity_json(r: CapacityResult) -> str:
    data: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "answer": r.sentence,
        "conclusion": r.conclusion,
        "vary": r.vary, "tier": r.tier, "unit": r.unit,
        "level": r.level, "failed_at": r.failed_at, "objective": r.objective, "knee": r.knee,
        "steps": [asdict(row) for row in step_rows(r)],
    }
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


_RENDERERS: Final[dict[str, Callable[[CapacityResult], str]]] = {
    "html": render_capacity_html,
    "md": render_capacity_markdown,
    "json": render_capacity_json,
    "junit": render_capacity_junit,
}


def render_capacity(directory: Path, formats: Iterable[str] = CAPACITY_FORMATS) -> dict[str, Path]:
    """Render ``directory/capacity.json`` into ``formats``; returns ``{format: path}``."""
    result = read_capacity(directory)
    written: dict[str, Path] = {}
    for name in formats:
        if name not in _RENDERERS:
            raise UsageError(f"unknown capacity report format {name!r}; choose from "
                             f"{', '.join(CAPACITY_FORMATS)}")
        path = directory / CAPACITY_FILES[name]
        try:
            write_text_atomic(path, _RENDERERS[name](result))
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc.strerror}") from exc
        written[name] = path
    return written
