"""SLIs against independent values: numpy, published examples, and properties that must hold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slo.sli import (
    PERCENTILE_METHOD,
    aggregate,
    corrected_latency_ms,
    histogram_quantile,
    linear_slope,
    nearest_rank,
    percentiles,
)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001, 99_991])
@pytest.mark.parametrize("pct", [1, 25, 50, 90, 95, 99, 99.5])
def test_percentiles_equal_numpy_inverted_cdf(n: int, pct: float) -> None:
    rng = np.random.default_rng(n)
    values = rng.lognormal(3, 1, n)
    q = pct / 100
    if abs(q * n - round(q * n)) < 1e-6:
        # q*n is a whole number: numpy's float rounding may pick the next rank (see the trap
        # test below), so compare with the sorted array at that rank instead.
        expected = np.sort(values)[round(q * n) - 1]
    else:
        expected = np.quantile(values, q, method=PERCENTILE_METHOD)
    assert percentiles(values, [pct])[0] == expected


@pytest.mark.parametrize("n", [100, 1000, 20, 10_000, 1_000_000])
@pytest.mark.parametrize("pct", [5, 7, 50, 95, 99, 99.9])
def test_percentile_is_the_nearest_rank_even_when_float_rounding_lies(n: int, pct: float) -> None:
    values = np.arange(1, n + 1, dtype=np.float64)[::-1].copy()  # value == its rank
    tenths = round(pct * 10)  # integer arithmetic: smallest k with k / n >= pct / 100
    rank = -(-(tenths * n) // 1000)
    assert percentiles(values, [pct])[0] == rank


def test_numpy_float_rank_trap_is_real() -> None:
    """Why slogate computes the rank exactly: numpy's float rank is off by one here."""
    values = np.arange(1, 1001, dtype=np.float64)
    assert np.quantile(values, 99.9 / 100, method="inverted_cdf") == 1000.0
    assert percentiles(values, [99.9])[0] == 999.0
    hundred = np.arange(1, 101, dtype=np.float64)
    assert np.quantile(hundred, 7 / 100, method="inverted_cdf") == 8.0
    assert percentiles(hundred, [7])[0] == 7.0


# Wikipedia, "Percentile", nearest-rank method, worked example 1: {15, 20, 35, 40, 50}.
WIKIPEDIA = [(5, 15), (30, 20), (40, 20), (50, 35), (100, 50)]


@pytest.mark.parametrize(("pct", "expected"), WIKIPEDIA)
def test_published_nearest_rank_example(pct: float, expected: float) -> None:
    assert percentiles(np.array([15.0, 20, 35, 40, 50]), [pct])[0] == expected


def test_percentile_judgement_agrees_with_share_of_fast_events() -> None:
    """p <= T  iff  at least p % of events took <= T (the reason for nearest rank)."""
    rng = np.random.default_rng(3)
    values = np.round(rng.exponential(100, 2_000), 0)  # ties on purpose
    for pct in (50, 90, 95, 99, 99.9):
        for threshold in np.linspace(0, 800, 161):
            by_percentile = percentiles(values, [pct])[0] <= threshold
            by_share = np.mean(values <= threshold) >= pct / 100 - 1e-12
            assert by_percentile == by_share, (pct, threshold)


def test_several_percentiles_at_once_match_one_by_one() -> None:
    values = np.random.default_rng(5).random(10_007)
    together = percentiles(values, [50, 95, 99, 99.9])
    alone = [percentiles(values, [p])[0] for p in (50, 95, 99, 99.9)]
    assert list(together) == alone


def test_rank_edges() -> None:
    assert nearest_rank(100, 10) == 10
    assert nearest_rank(0.0001, 10) == 1
    with pytest.raises(ValueError, match="no values"):
        percentiles(np.empty(0), [95])


def test_aggregates_against_numpy() -> None:
    values = np.random.default_rng(9).random(1000)
    assert aggregate(values, "avg") == pytest.approx(np.mean(values))
    assert aggregate(values, "min") == values.min()
    assert aggregate(values, "max") == values.max()


def test_corrected_latency_adds_the_schedule_delay() -> None:
    latency = np.array([5.0, 5.0, 5.0])
    ts = np.array([10.0, 11.5, 12.0])
    intended = np.array([10.0, 11.0, 12.1])  # on time, 500 ms late, early (clock jitter)
    assert list(corrected_latency_ms(latency, ts, intended)) == [5.0, 505.0, 5.0]


# Anscombe (1973), "Graphs in statistical analysis": all four sets share the fitted line
# y = 3.00 + 0.500 x (slope 0.500 to three decimal places).
ANSCOMBE = {
    "I": ([10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5],
          [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]),
    "II": ([10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5],
           [9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74]),
    "III": ([10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5],
            [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]),
    "IV": ([8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8],
           [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89]),
}


@pytest.mark.parametrize("name", ANSCOMBE)
def test_slope_matches_anscombe(name: str) -> None:
    x, y = (np.array(v, dtype=np.float64) for v in ANSCOMBE[name])
    assert linear_slope(x, y) == pytest.approx(0.500, abs=5e-4)
    assert linear_slope(x, y) == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-12)


def test_slope_is_stable_on_epoch_timestamps() -> None:
    t = 1.764e9 + np.arange(600, dtype=np.float64)
    y = 200e6 + 1234.5 * (t - t[0])
    assert linear_slope(t, y) == pytest.approx(1234.5, rel=1e-9)


# histogram_quantile: hand-computed with PromQL's rules (prometheus/promql/quantile.go).
BUCKETS = ([0.1, 0.2, 0.5, 1.0, math.inf], [10, 30, 80, 95, 100])
HISTOGRAM_CASES = [
    pytest.param(0.5, 0.2 + 0.3 * (50 - 30) / 50, id="interpolates_inside_bucket"),
    pytest.param(0.05, 0.1 * 5 / 10, id="first_bucket_starts_at_zero"),
    pytest.param(0.99, 1.0, id="rank_in_inf_bucket_returns_last_finite_bound"),
    pytest.param(0.95, 1.0, id="rank_on_bucket_edge"),
]


@pytest.mark.parametrize(("q", "expected"), HISTOGRAM_CASES)
def test_histogram_quantile_follows_promql(q: float, expected: float) -> None:
    assert histogram_quantile(q, *BUCKETS) == pytest.approx(expected)


def test_histogram_quantile_without_data_or_inf_bucket() -> None:
    assert histogram_quantile(0.5, [0.1, math.inf], [0, 0]) is None
    assert histogram_quantile(0.5, [0.1, 0.2], [3, 5]) is None


def test_overwrite_gives_the_same_answer_and_only_touches_the_given_array() -> None:
    values = np.random.default_rng(8).random(10_001)
    keep = values.copy()
    scratch = values.copy()
    assert list(percentiles(scratch, [50, 95, 99.9], overwrite=True)) == list(
        percentiles(values, [50, 95, 99.9])
    )
    assert np.array_equal(values, keep)  # the default never reorders the caller's array
