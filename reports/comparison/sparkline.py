"""A word-sized inline SVG line (Tufte's sparkline) for the trend table.

:func:`reports.charts.line_chart` draws full charts with axes and legends (680 x 220 px);
a trend table needs one small line per row, beside the numbers, so this draws only the
line, a dot on the last point (the candidate), and nothing that needs a legend. Missing
values break the line. Output is deterministic (0.1 px rounding) for golden tests.

Example::

    sparkline([12.0, 13.5, None, 12.8])   # Markup('<svg class="spark" ...')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from reports.charts import PALETTE

__all__ = ["sparkline"]


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 24,
              title: str = "") -> Markup:
    """An SVG sparkline of ``values`` (oldest first); an empty ``<svg>`` with no data."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    head = (f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<title>{escape(title)}</title>')
    if not finite or len(values) < 1:
        return Markup(head + "</svg>")
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    step = (width - 6) / max(1, len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return round(3 + i * step, 1), round(height - 3 - (v - lo) / span * (height - 6), 1)

    parts, pen = [], False
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            pen = False
            continue
        x, y = xy(i, v)
        parts.append(f"{'L' if pen else 'M'}{x} {y}")
        pen = True
    out = [head]
    if len(finite) > 1:
        out.append(f'<path d="{"".join(parts)}" fill="none" stroke="{PALETTE[0]}" '
                   'stroke-width="1.5"/>')
    last = values[-1]
    if last is not None and math.isfinite(last):
        x, y = xy(len(values) - 1, last)
        out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{PALETTE[1]}"/>')
    out.append("</svg>")
    return Markup("".join(out))
