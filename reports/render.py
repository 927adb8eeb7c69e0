"""``render_all``: write every report format of a run into its directory (or ``out``).

The one function ``slogate report`` and ``slogate run`` call. It reads the saved run record,
verdict and readiness (``readiness.json``, judged by ``slo``) once
(:func:`reports.load.load_report_data`) and hands the same :class:`~reports.model.ReportData`
to each renderer, so the formats cannot disagree.

Example::

    paths = render_all(Path("runs/r1"), formats=("html", "md"), audience="sre")
    paths["html"]   # Path("runs/r1/report.html")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from foundation.documents import write_text_atomic
from foundation.errors import ReportError, UsageError
from reports.html import render_html
from reports.json_report import render_json
from reports.junit import render_junit
from reports.load import load_report_data
from reports.markdown import render_markdown
from reports.model import Audience, ReportData
from slo.claims import ReadinessRecord

__all__ = ["AUDIENCES", "FILE_NAMES", "FORMATS", "parse_formats", "render_all", "render_data"]

FORMATS: Final = ("html", "md", "json", "junit")
AUDIENCES: Final = ("exec", "sre")
FILE_NAMES: Final[dict[str, str]] = {
    "html": "report.html", "md": "report.md", "json": "report.json", "junit": "junit.xml",
}

_RENDERERS: Final[dict[str, Callable[[ReportData, Audience], str]]] = {
    "html": render_html,
    "md": lambda d, a: render_markdown(d, a),
    "json": lambda d, _a: render_json(d),
    "junit": lambda d, _a: render_junit(d),
}


def parse_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"html,md"`` -> ``("html", "md")``; an unknown name is a :class:`UsageError`."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(s.strip().lower() for s in items if s.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        what = f"unknown report format {unknown[0]!r}" if unknown else "no report format given"
        raise UsageError(f"{what}; choose from {','.join(FORMATS)} (e.g. --format html,md)")
    return names


def render_data(data: ReportData, formats: Iterable[str], audience: Audience,
                out_dir: Path) -> dict[str, Path]:
    """Write ``formats`` of already loaded ``data`` into ``out_dir``."""
    if audience not in AUDIENCES:
        raise UsageError(f"unknown audience {audience!r}; choose exec or sre")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create {out_dir}: {exc.strerror}; pick another --out") from exc
    written: dict[str, Path] = {}
    for name in parse_formats(list(formats)):
        path = out_dir / FILE_NAMES[name]
        text = _RENDERERS[name](data, audience)
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc.strerror}") from exc
        written[name] = path
    return written


def render_all(
    run_dir: Path,
    formats: Iterable[str] = FORMATS,
    audience: Audience = "sre",
    out_dir: Path | None = None,
    judged: ReadinessRecord | None = None,
) -> dict[str, Path]:
    """Render ``formats`` for the run in ``run_dir``; returns ``{format: path written}``.

    Raises :class:`~foundation.errors.RunIncompleteError` (exit 3) when run.json is missing,
    a complete run has no verdict.json, or the run has no readiness.json and no ``judged``
    readiness is given; :class:`~foundation.errors.UsageError` (exit 2) for an unknown format
    or audience.
    """
    names = parse_formats(list(formats))
    data = load_report_data(Path(run_dir), judged)
    return render_data(data, names, audience, Path(out_dir) if out_dir else Path(run_dir))
