"""The report's "SLO burn-rate alerts" section from ``alerts.json``, and the pure pieces that
turn Prometheus's ``ALERTS`` range result into firings."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from foundation.layout import RunLayout
from reports.render import render_all
from slo.alert_history import (
    ALERTS_JSON,
    AlertRecord,
    Firing,
    RuleInfo,
    firing_intervals,
    firings_from_range,
    read_alert_record,
    write_alert_record,
)
from tests.reports.browser import Browser, chromium_path

Record = Callable[[str], Path]


@pytest.mark.parametrize(("times", "end", "expected"), [
    pytest.param([10, 11, 12, 13], 30, [(10, 14)], id="one-resolved"),
    pytest.param([10, 11, 12, 20, 21], 30, [(10, 13), (20, 22)], id="two-firings"),
    pytest.param([10, 11, 13, 14], 30, [(10, 15)], id="one-missed-evaluation-is-not-a-gap"),
    pytest.param([25, 26, 27, 28, 29], 30, [(25, None)], id="still-firing-at-the-end"),
    pytest.param([], 30, [], id="never"),
])
def test_firing_intervals(times: list[float], end: float,
                          expected: list[tuple[float, float | None]]) -> None:
    assert firing_intervals(times, 1.0, end) == expected


def test_firings_from_a_prometheus_range_result() -> None:
    result = [{"metric": {"alertname": "SLOBurnRate_avail", "alertstate": "firing",
                          "slo": "avail", "rule": "page-1h", "severity": "page"},
               "values": [[100.0, "1"], [101.0, "1"], [102.0, "1"]]}]
    (f,) = firings_from_range(result, 1.0, 130.0)
    assert (f.rule, f.fired_at, f.resolved_at) == ("page-1h", 100.0, 103.0)


def _with_alerts(record: Record, tmp_path: Path) -> Path:
    run = shutil.copytree(record("mixed"), tmp_path / "run")
    start = RunLayout(run).read_info().load_started_at
    assert start is not None
    rules = [RuleInfo(alert="SLOBurnRate_avail", slo="http-availability", rule=r, severity=s,
                      long_window_s=lw, short_window_s=sw, threshold=t)
             for r, s, lw, sw, t in (("page-1h", "page", 110, 9.2, 14.4),
                                     ("page-6h", "page", 110, 55, 6.0),
                                     ("ticket-3d", "ticket", 110, 110, 1.0))]
    firings = [Firing(alert="SLOBurnRate_avail", slo="http-availability", rule="page-1h",
                      severity="page", fired_at=start + 42, resolved_at=start + 57),
               Firing(alert="SLOBurnRate_avail", slo="http-availability", rule="page-6h",
                      severity="page", fired_at=start + 45, resolved_at=None)]
    write_alert_record(AlertRecord(start=start, end=start + 120, duration_s=110,
                                   rules=rules, firings=firings), run / ALERTS_JSON)
    return run


def test_report_lists_firings_and_quiet_rules(record: Record, tmp_path: Path) -> None:
    run = _with_alerts(record, tmp_path)
    paths = render_all(run, formats=["md", "json"], out_dir=tmp_path / "out")
    md = paths["md"].read_text()
    assert "## SLO burn-rate alerts (times from load start)" in md
    assert "| http-availability | page-1h | page | 110 s / 9.2 s | 14.4x | +42 s | +57 s | 15 s |" in md
    assert "| page-6h | page | 110 s / 55 s | 6x | +45 s | still firing at the end | - |" in md
    assert "| ticket-3d | ticket | 110 s / 110 s | 1x | did not fire | - | - |" in md
    assert '"rule": "page-1h"' in paths["json"].read_text()


def test_broken_alerts_json_is_named(tmp_path: Path) -> None:
    (tmp_path / ALERTS_JSON).write_text('{"schema_version": 2, "start": 0, "end": 1}')
    with pytest.raises(ConfigError, match=ALERTS_JSON):
        read_alert_record(tmp_path / ALERTS_JSON)


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")
def test_alerts_table_in_chromium(record: Record, tmp_path: Path) -> None:
    run = _with_alerts(record, tmp_path)
    html = render_all(run, formats=["html"], out_dir=tmp_path / "out")["html"]
    with Browser(tmp_path / "profile") as browser:
        log = browser.load(html.as_uri())
        assert log.console_errors == [] and log.exceptions == [] and log.requests == []
        rows = browser.evaluate(
            "[...document.querySelectorAll('#alerts + table tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText))")
    assert rows[0][:2] == ["http-availability", "page-1h"] and rows[0][5:] == ["+42 s", "+57 s",
                                                                                "15 s"]
    assert rows[1][6] == "still firing at the end" and rows[2][5] == "did not fire"
    assert 'id="chart-alerts"' in html.read_text() and "page-1h firing" in html.read_text()
