"""The inline SVG charts: round ticks, gaps for missing data, escaped text, stable bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from reports.charts import Series, line_chart, nice_ticks, percentile_x

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 100, [0, 20, 40, 60, 80, 100]),
    (0, 1020, [0, 250, 500, 750, 1000]),
    (0, 0.9, [0, 0.2, 0.4, 0.6, 0.8]),
    (3, 3, [3]),
])
def test_nice_ticks(lo: float, hi: float, expected: list[float]) -> None:
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_percentile_axis_counts_nines() -> None:
    assert [round(percentile_x(p), 6) for p in (90, 99, 99.9)] == [1.0, 2.0, 3.0]


def test_none_breaks_the_line_and_text_is_escaped() -> None:
    svg = line_chart("<b>t</b>", [0, 1, 2, 3, 4], [Series("a&b", [1.0, 2.0, None, 4.0, 5.0])])
    root = ET.fromstring(str(svg))  # well-formed XML
    path = root.find(f"{SVG}path")
    assert path is not None
    d = path.get("d") or ""
    assert d.count("M") == 2 and d.count("L") == 2  # two segments around the gap
    assert "<b>" not in str(svg) and "&lt;b&gt;" in str(svg) and "a&amp;b" in str(svg)


def test_no_data_is_said_not_drawn() -> None:
    assert "no data recorded" in str(line_chart("Sessions", [0, 1], [Series("x", [None, None])]))


def test_same_data_same_bytes() -> None:
    def draw() -> str:
        return str(line_chart("t", [0.0, 1.5, 3.0], [Series("p95", [10.0, 12.25, 11.0])],
                              shade=(0.0, 1.0, "warm-up")))

    assert draw() == draw()
