"""Progress histograms: exact merge, and quantiles within one 5 % bucket of numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.progress import BUCKET_BOUNDS_MS, LatencyHistogram, ProgressReport, merge_reports


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_quantile_is_within_one_bucket_of_numpy(q: float) -> None:
    rng = np.random.default_rng(7)
    data = rng.lognormal(mean=3.0, sigma=0.8, size=20_000)
    hist = LatencyHistogram()
    for x in data:
        hist.add(float(x))
    exact = float(np.percentile(data, q * 100, method="inverted_cdf"))
    got = hist.quantile(q)
    assert got is not None
    assert exact <= got <= exact * 1.05 + 1e-9  # the upper bound of the bucket holding it


def test_merge_of_reports_is_exact_addition() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    for x in (1.0, 2.0, 3.0):
        a.add(x)
    for x in (2.0, 500.0):
        b.add(x)
    ra = ProgressReport(worker=0, source="http", t=1.0, operations=3, errors=1,
                        active={"team": 2}, latency=a)
    rb = ProgressReport(worker=1, source="ws", t=2.0, operations=2, errors=0,
                        active={"team": 1, "starter": 4}, latency=b, schedule_slips=3)
    total = merge_reports([ra, rb])
    assert (total.operations, total.errors, total.schedule_slips) == (5, 1, 3)
    assert total.active == {"team": 3, "starter": 4}
    assert total.latency.total == 5 and total.t == 2.0


def test_report_line_round_trip_and_foreign_lines() -> None:
    hist = LatencyHistogram()
    hist.add(12.0)
    report = ProgressReport(worker=4, source="ws", t=3.5, operations=9, active={"x": 1},
                            latency=hist, done=True)
    again = ProgressReport.from_line(report.to_line())
    assert again == report
    assert ProgressReport.from_line("Locust says hello") is None
    assert ProgressReport.from_line('{"other": 1}') is None


def test_bounds_cover_loopback_to_minutes() -> None:
    assert BUCKET_BOUNDS_MS[0] <= 0.1 and BUCKET_BOUNDS_MS[-1] > 600_000 * 0.9
    assert LatencyHistogram().quantile(0.5) is None
