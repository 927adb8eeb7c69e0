"""Comparison reports: golden Markdown and JUnit, self-contained HTML, size limits, escaping."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.comparison import (
    LIMIT,
    render_comparison_html,
    render_comparison_junit,
    render_comparison_markdown,
    sparkline,
    write_comparison_reports,
)
from slo.compare import (
    Change,
    CompareSettings,
    Comparison,
    Interval,
    MetricComparison,
    Mismatch,
    ObjectiveComparison,
    OperationKey,
    Outcome,
    RunSummary,
    read_comparison,
)
from slo.history import Trend, TrendLine

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # regenerate: UPDATE_GOLDEN=1 pytest ...

RUNS = (
    RunSummary(path="runs/a", run_id="20261126-0600-aaaa", release="v1.4.0", status="complete",
               started_at=1_764_136_800.0, window_s=50.0, samples=2500, verdict_status="pass"),
    RunSummary(path="runs/b", run_id="20261127-0600-bbbb", release="v1.5.0", status="complete",
               started_at=1_764_223_200.0, window_s=50.0, samples=2480, verdict_status="fail"),
)
GET = OperationKey("http", "GET /v1/runs", "team")
POST = OperationKey("http", "POST /v1/runs", "team")


def _metric(key: OperationKey, metric: str, change: Change, **kw: object) -> MetricComparison:
    defaults: dict[str, object] = dict(unit="ms", baseline=40.0, candidate=52.0, delta=11.8,
                                       delta_ci=Interval(9.1, 14.6), change_pct=29.5,
                                       change_pct_ci=Interval(22.8, 36.5), tolerance=0.1,
                                       tolerance_text="±10 % of baseline median", confidence=0.995,
                                       p_value=1e-12, n_baseline=1200, n_candidate=1190,
                                       method="Mann-Whitney U + Hodges-Lehmann shift")
    defaults.update(kw)
    return MetricComparison(operation=key, metric=metric, change=change, **defaults)  # type: ignore[arg-type]


def _comparison() -> Comparison:
    metrics = (
        _metric(GET, "latency", Change.WORSE),
        _metric(GET, "p95", Change.SAME, baseline=90.0, candidate=95.0, delta=5.0,
                delta_ci=Interval(-4.0, 15.0), change_pct=5.6, change_pct_ci=Interval(-4.4, 16.7),
                p_value=None, tolerance_text="±10 % of baseline value"),
        _metric(GET, "error_rate", Change.SAME, unit="%", baseline=0.1, candidate=0.2, delta=0.1,
                delta_ci=Interval(-0.2, 0.4), change_pct=100.0, change_pct_ci=None,
                tolerance_text="±0.1 pp", p_value=0.4),
        _metric(POST, "throughput", Change.BETTER, unit="ops/s", baseline=10.0, candidate=12.5,
                delta=2.5, delta_ci=Interval(1.8, 3.2), change_pct=25.0,
                change_pct_ci=Interval(18.0, 32.0), p_value=None,
                tolerance_text="±10 % of baseline value"),
        MetricComparison(operation=POST, metric="p99", unit="", change=Change.NO_DATA,
                         reason="fewer than 30 samples (12 baseline, 14 candidate)",
                         tolerance=0.2, tolerance_text="±20 % of baseline value",
                         n_baseline=12, n_candidate=14),
    )
    objectives = (ObjectiveComparison(name="http-p95", sli="latency", unit="ms",
                                      baseline_status="pass", candidate_status="fail",
                                      change=Change.WORSE, baseline=420.0, candidate=560.0,
                                      change_pct=33.3, threshold_text="<= 500 ms"),)
    return Comparison(
        baseline=RUNS[0], candidate=RUNS[1], settings=CompareSettings(), outcome=Outcome.REGRESSION,
        metrics=metrics, objectives=objectives, tests=4, per_test_confidence=0.9875,
        mismatches=(Mismatch("load.rate", "50.0", "55.0", "rate"),), allowed_different=True,
        only_in_candidate=(OperationKey("http", "GET /v2/health"),), created_at=1_764_223_300.0,
    )


TREND = Trend(labels=("v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0"), passed=(True, False, True, False),
              lines=(TrendLine("p95 http", "ms", (80.0, 120.0, 90.0, 95.0)),
                     TrendLine("error rate", "%", (0.1, None, 0.1, 0.2))))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; UPDATE_GOLDEN=1 to accept"


def test_markdown_golden() -> None:
    _golden("comparison.md", render_comparison_markdown(_comparison(), TREND))


def test_junit_golden_and_counts() -> None:
    text = render_comparison_junit(_comparison())
    _golden("comparison.junit.xml", text)
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "2", "1")
    failure = suite.find("testcase[@name='GET /v1/runs [team] latency shift']/failure")
    assert failure is not None
    assert "+29.5 % [+22.8, +36.5] %" in failure.get("message", "")
    assert "99.5 % confidence" in failure.get("message", "")


def test_html_is_self_contained_and_escapes_names() -> None:
    hostile = OperationKey("http", "GET /<script>alert(1)</script>|x")
    c = _comparison()
    c = Comparison(**{**{f: getattr(c, f) for f in c.__dataclass_fields__},
                      "metrics": (*c.metrics, _metric(hostile, "latency", Change.SAME))})
    html = render_comparison_html(c, TREND)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count("<svg") == 2  # one sparkline per trend line
    assert 'id="outcome">REGRESSION<' in html and "compared anyway" in html


def test_markdown_stays_under_the_comment_limit_and_keeps_regressions() -> None:
    metrics = []
    for i in range(3000):
        key = OperationKey("http", f"GET /v1/resource/{i}/with/a/rather/long/path", "enterprise")
        metrics.append(_metric(key, "p95", Change.WORSE if i < 20 else Change.SAME))
    c = Comparison(baseline=RUNS[0], candidate=RUNS[1], settings=CompareSettings(),
                   outcome=Outcome.REGRESSION, metrics=tuple(metrics), tests=3000)
    md = render_comparison_markdown(c, TREND)
    assert len(md) <= LIMIT
    assert all(f"/resource/{i}/" in md for i in range(20))  # every regression is shown
    assert "rows left out to fit a comment" in md


def test_markdown_escapes_table_breaking_names() -> None:
    key = OperationKey("http", "GET /a|b\n<img src=x>")
    c = Comparison(baseline=RUNS[0], candidate=RUNS[1], settings=CompareSettings(),
                   outcome=Outcome.SAME, metrics=(_metric(key, "latency", Change.SAME),), tests=1)
    md = render_comparison_markdown(c)
    row = next(line for line in md.splitlines() if "GET /a" in line)
    assert "GET /a\\|b &lt;img src=x>" in row


def test_write_reports_round_trips_json(tmp_path: Path) -> None:
    paths = write_comparison_reports(_comparison(), tmp_path, TREND)
    assert sorted(p.name for p in paths.values()) == [
        "comparison.html", "comparison.json", "comparison.junit.xml", "comparison.md"]
    assert read_comparison(paths["json"]) == _comparison()


@pytest.mark.parametrize(
    ("values", "segments", "dot"),
    [
        pytest.param([1.0, 2.0, 3.0], 3, True, id="line"),
        pytest.param([1.0, None, 3.0, 4.0], 3, True, id="gap_breaks_line"),
        pytest.param([1.0, 2.0, None], 2, False, id="no_candidate_value"),
    ],
)
def test_sparkline(values: list[float | None], segments: int, dot: bool) -> None:
    svg = str(sparkline(values, title="p95 <x>"))
    path = re.search(r'd="([^"]*)"', svg)
    assert path is not None and len(re.findall(r"[ML]", path.group(1))) == segments
    assert ("<circle" in svg) == dot
    assert "p95 &lt;x&gt;" in svg
    assert svg == str(sparkline(values, title="p95 <x>"))


def test_sparkline_without_data_is_empty() -> None:
    assert "<path" not in str(sparkline([None, None]))
