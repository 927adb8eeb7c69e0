"""report.html in real headless Chromium: no console errors, no network, the key numbers
visible, a screenshot saved, and the readiness page prints on exactly one page.

Needs the Debian package ``chromium`` (``apt-get install -y chromium``); skipped, saying so,
when it is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reports.render import render_all
from tests.reports.browser import Browser, chromium_path, pdf_pages

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (Debian package 'chromium': apt-get install -y chromium)",
)
Record = Callable[[str], Path]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One browser for the module (starting Chromium is the slow part); a page per test."""
    with Browser(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


def test_full_report_loads_clean_and_shows_the_numbers(
    record: Record, tmp_path: Path, browser: Browser
) -> None:
    html = render_all(record("mixed"), formats=["html"], out_dir=tmp_path / "out")["html"]
    log = browser.load(html.as_uri())
    assert log.console_errors == [] and log.exceptions == [] and log.log_errors == []
    assert log.requests == []  # no network at all: no fonts, images, scripts, CSS
    text = browser.text()
    for visible in ("NO-GO", "44 %", "12 of 27 points", "critical claims not verified",
                    "1,020 held", "availability 99.69 %, P95 409 ms (corrected)",
                    "20/20 refused", "6 requests failed in the spike", "SRE detail",
                    "Failures by error", "upstream unavailable", "Scenario as run"):
        assert visible in text, f"{visible!r} is not visible"
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 6
    # the claims' evidence links resolve to elements on the page
    missing = browser.evaluate(
        "[...document.querySelectorAll('a[href^=\"#\"]')]"
        ".filter(a => !document.getElementById(a.getAttribute('href').slice(1))).length")
    assert missing == 0
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_fault_bands_on_every_time_series_chart(
    record: Record, tmp_path: Path, browser: Browser
) -> None:
    """Each of the 3 faults is a visible band on every chart over time (not on the
    percentile charts); the kill, which has no duration, is still drawn >= 2 px wide."""
    html = render_all(record("faults"), formats=["html"], out_dir=tmp_path / "out")["html"]
    log = browser.load(html.as_uri())
    assert log.console_errors == [] and log.exceptions == [] and log.requests == []
    per_chart = browser.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(s => [s.id, "
        "[...s.querySelectorAll('rect.fault')].map(r => r.getBoundingClientRect().width)])")
    timed = [(cid, widths) for cid, widths in per_chart if not cid.startswith("chart-dist")]
    assert len(timed) >= 6
    for cid, widths in timed:
        assert len(widths) == 3, cid
        assert min(widths) >= 1.0, cid  # rendered width (CSS-scaled), never invisible
    assert all(not w for cid, w in per_chart if cid.startswith("chart-dist"))
    text = browser.text()
    for visible in ("Faults and recovery", "recovered in 3.2 s", "not recovered",
                    "the health probe never answered again", "To verify:", "93.75 % (64)"):
        assert visible in text, f"{visible!r} is not visible"
    rows = browser.evaluate("document.querySelectorAll('#phases tbody tr').length")
    assert rows == 3  # one sample objective with phases x three faults
    browser.screenshot(tmp_path / "faults.png")


@pytest.mark.parametrize("variant", ["mixed", "all_fail", "aborted", "faults"])
def test_readiness_page_prints_on_one_page(
    record: Record, tmp_path: Path, browser: Browser, variant: str
) -> None:
    html = render_all(record(variant), formats=["html"], audience="exec",
                      out_dir=tmp_path / "out")["html"]
    log = browser.load(html.as_uri())
    assert log.console_errors == [] and log.requests == []
    pdf = browser.pdf(tmp_path / "exec.pdf")
    assert pdf_pages(pdf) == 1
    browser.screenshot(tmp_path / "exec.png")


def test_full_report_prints_summary_then_detail(
    record: Record, tmp_path: Path, browser: Browser
) -> None:
    html = render_all(record("mixed"), formats=["html"], out_dir=tmp_path / "out")["html"]
    browser.load(html.as_uri())
    pages = pdf_pages(browser.pdf(tmp_path / "full.pdf"))
    assert pages > 1  # the SRE detail starts on its own page after the one-page summary
