"""Small inline-SVG line charts: no JavaScript, no CDN, no matplotlib.

The report must be one self-contained file that reads with JavaScript off, so charts are
plain ``<svg>`` markup: axes with "nice" ticks (1, 2, 5 x 10^k), one polyline per series
(a ``None`` value breaks the line rather than drawing a fake zero), an optional shaded span
(the warm-up), fault bands (each fault's actual start to end, hatched red; a kill, which has
no duration, is a vertical line), and a legend. Coordinates are rounded to 0.1 px, so the same data always
gives the same bytes and golden files stay stable.

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies. Every text (series names come from sample names of a foreign target) is
escaped.

Example::

    svg = line_chart("Requests/s", [0, 1, 2], [Series("http", [10, 12, None])], y_unit="/s")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Series", "line_chart", "nice_ticks", "percentile_x"]

PALETTE: Final = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9",
                  "#000000", "#F0E442")
_PAD_L, _PAD_R, _PAD_B = 58.0, 26.0, 34.0
_TITLE_H, _LEGEND_ROW = 22.0, 15.0


@dataclass(frozen=True, slots=True)
class Series:
    """One line: ``values`` aligned with the chart's ``x``; ``None`` = no data there."""

    name: str
    values: Sequence[float | None]
    color: str | None = None
    dashed: bool = False


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """About ``target`` round tick values covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def percentile_x(p: float) -> float:
    """Position of percentile ``p`` on a "nines" axis: p90 -> 1, p99 -> 2, p99.9 -> 3."""
    return -math.log10(max(1e-6, 1.0 - p / 100.0))


def _label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 10_000:
        return f"{v / 1000:,.0f}k"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def line_chart(
    title: str,
    x: Sequence[float],
    series: Sequence[Series],
    *,
    y_unit: str = "",
    x_label: str = "seconds since load start",
    width: int = 680,
    height: int = 220,
    shade: tuple[float, float, str] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    log_y: bool = False,
    chart_id: str = "",
    bands: Sequence[tuple[float, float | None, str]] = (),
) -> Markup:
    """An SVG line chart as markup safe to embed in an autoescaped template.

    ``bands``: ``(start, end, label)`` in x units; ``end`` None runs to the right edge.
    """
    finite = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    if log_y:
        finite = [v for v in finite if v > 0]
    if not x or not finite:
        return Markup(f'<p class="nochart">{escape(title)}: no data recorded.</p>')
    ty = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    y_lo = math.floor(ty(min(finite))) if log_y else min(0.0, min(finite))
    y_hi = math.ceil(ty(max(finite))) if log_y else max(finite)
    if y_hi <= y_lo:
        y_hi = y_lo + 1.0
    if log_y:
        yt = [float(v) for v in range(int(y_lo), int(y_hi) + 1)]
    else:
        yt = nice_ticks(y_lo, y_hi)
        y_hi = max(y_hi, yt[-1])
    x_lo, x_hi = min(x), max(x)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    legend, rows = _legend(series, width)
    top = _TITLE_H + rows * _LEGEND_ROW + 6.0
    pw, ph = width - _PAD_L - _PAD_R, height - top - _PAD_B

    def px(v: float) -> float:
        return round(_PAD_L + (v - x_lo) / (x_hi - x_lo) * pw, 1)

    def py(v: float) -> float:
        return round(top + ph - (ty(v) - y_lo) / (y_hi - y_lo) * ph, 1)

    def py_raw(t: float) -> float:
        return round(top + ph - (t - y_lo) / (y_hi - y_lo) * ph, 1)

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
           f' width="{width}" height="{height}" role="img"'
           + (f' id="{escape(chart_id)}"' if chart_id else "") + f'><title>{escape(title)}</title>',
           f'<text class="ct" x="{_PAD_L}" y="16">{escape(title)}</text>']
    if shade is not None and shade[1] > x_lo:
        a, b = px(max(x_lo, shade[0])), px(min(x_hi, shade[1]))
        out.append(f'<rect class="shade" x="{a}" y="{top}" width="{round(b - a, 1)}" '
                   f'height="{round(ph, 1)}"/><text class="sl" x="{a + 3}" y="{top + 11}">'
                   f'{escape(shade[2])}</text>')
    out += _bands(bands, x_lo, x_hi, top, ph, px)
    for t in yt:
        y = py_raw(t)
        text = _label(10 ** t) if log_y else _label(t)
        out.append(f'<line class="grid" x1="{_PAD_L}" x2="{width - _PAD_R}" y1="{y}" y2="{y}"/>'
                   f'<text class="yl" x="{_PAD_L - 5}" y="{y + 3.5}">{escape(text)}</text>')
    for xv, text in (x_ticks if x_ticks is not None else
                     [(t, _label(t)) for t in nice_ticks(x_lo, x_hi, 8)]):
        if x_lo <= xv <= x_hi:
            out.append(f'<text class="xl" x="{px(xv)}" y="{height - _PAD_B + 14}">'
                       f'{escape(text)}</text>')
    out.append(f'<line class="axis" x1="{_PAD_L}" x2="{width - _PAD_R}" y1="{top + ph}" '
               f'y2="{top + ph}"/>')
    out.append(f'<text class="al" x="{_PAD_L + pw / 2}" y="{height - 4}">{escape(x_label)}'
               f'</text><text class="al" transform="translate(12 {top + ph / 2}) rotate(-90)">'
               f'{escape(y_unit)}</text>')
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        path = _path(x, s.values, px, py, log_y)
        if path:
            out.append(f'<path d="{path}" stroke="{color}"{dash} class="line"/>')
    out.append(legend)
    out.append("</svg>")
    return Markup("".join(out))


def _bands(bands: Sequence[tuple[float, float | None, str]], x_lo: float, x_hi: float,
           top: float, ph: float, px: Callable[[float], float]) -> list[str]:
    """Fault spans: a translucent rect (at least 2 px wide, so a kill shows) and its label."""
    out = []
    for start, end, label in bands:
        stop = x_hi if end is None else end
        if stop < x_lo or start > x_hi:
            continue
        a, b = px(max(x_lo, start)), px(min(x_hi, stop))
        w = max(2.0, round(b - a, 1))
        out.append(f'<rect class="fault" x="{a}" y="{top}" width="{w}" height="{round(ph, 1)}">'
                   f'<title>{escape(label)}</title></rect><text class="fl" x="{a + 2}" '
                   f'y="{round(top + ph - 4, 1)}">{escape(label)}</text>')
    return out


def _path(x: Sequence[float], values: Sequence[float | None], px: Callable[[float], float],
          py: Callable[[float], float], log_y: bool) -> str:
    parts: list[str] = []
    pen_down = False
    for xv, v in zip(x, values, strict=True):
        if v is None or not math.isfinite(v) or (log_y and v <= 0):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{px(xv)} {py(v)}")
        pen_down = True
    return "".join(parts)


def _legend(series: Sequence[Series], width: int) -> tuple[str, int]:
    """Swatches and names under the title, left to right, wrapping; returns (svg, rows)."""
    out: list[str] = []
    x, row = _PAD_L, 0
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        w = 24 + 6.2 * len(s.name)
        if x + w > width - _PAD_R and x > _PAD_L:
            x, row = _PAD_L, row + 1
        y = _TITLE_H + 10 + row * _LEGEND_ROW
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(f'<line x1="{round(x, 1)}" x2="{round(x + 14, 1)}" y1="{y - 4}" y2="{y - 4}" '
                   f'stroke="{color}" stroke-width="2.5"{dash}/><text class="lg" '
                   f'x="{round(x + 18, 1)}" y="{y}">{escape(s.name)}</text>')
        x += w
    return "".join(out), (row + 1 if series else 0)
