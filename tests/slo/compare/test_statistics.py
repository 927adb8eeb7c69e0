"""The comparison statistics agree with independent computations: scipy, brute force, and
published tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from slo.compare import (
    Interval,
    bootstrap_percentile,
    hodges_lehmann,
    kth_difference,
    mann_whitney_u,
    newcombe_interval,
    per_second_counts,
    percentile_difference,
    rate_difference,
    two_proportion_p_value,
    wilson_interval,
)


def _latencies(rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
    return rng.lognormal(mean=np.log(40.0), sigma=0.5, size=n) * scale


# --- Mann-Whitney U ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_x", "n_y", "shift", "rounded"),
    [
        pytest.param(50, 70, 0.0, False, id="same_distribution"),
        pytest.param(300, 200, 5.0, False, id="shifted"),
        pytest.param(400, 400, 2.0, True, id="many_ties"),
        pytest.param(5, 8, 30.0, False, id="tiny"),
    ],
)
def test_mann_whitney_matches_scipy(n_x: int, n_y: int, shift: float, rounded: bool) -> None:
    rng = np.random.default_rng(7)
    x = _latencies(rng, n_x) + shift
    y = _latencies(rng, n_y)
    if rounded:  # integer milliseconds, as imported Locust data has: heavy ties
        x, y = np.round(x), np.round(y)
    ours = mann_whitney_u(x, y)
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert ours.u == pytest.approx(ref.statistic, abs=1e-9)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_mann_whitney_all_tied_is_no_evidence() -> None:
    r = mann_whitney_u(np.full(10, 3.0), np.full(12, 3.0))
    assert r.p_value == 1.0 and r.u == 60.0


# --- Hodges-Lehmann ---------------------------------------------------------------------


def test_kth_difference_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(_latencies(rng, 83))
    y = np.sort(np.round(_latencies(rng, 61), 1))  # some ties among the differences
    every = np.sort(np.subtract.outer(x, y).ravel())
    for k in [1, 2, 17, 2531, every.size // 2, every.size - 1, every.size]:
        assert kth_difference(x, y, k) == pytest.approx(every[k - 1], abs=1e-12), k


def test_hodges_lehmann_estimate_is_the_median_of_pairwise_differences() -> None:
    rng = np.random.default_rng(11)
    x, y = _latencies(rng, 120) + 4.0, _latencies(rng, 97)
    assert hodges_lehmann(x, y).estimate == pytest.approx(np.median(np.subtract.outer(x, y)))


def test_hodges_lehmann_interval_inverts_the_scipy_test() -> None:
    """The interval's ends are exactly where scipy's test of x - d against y stops
    rejecting: just outside each end p < alpha, just inside p >= alpha."""
    rng = np.random.default_rng(5)
    x, y = _latencies(rng, 60) + 6.0, _latencies(rng, 70)
    ci = hodges_lehmann(x, y, 0.95).interval
    every = np.unique(np.subtract.outer(x, y).ravel())

    def p(d: float) -> float:
        return float(stats.mannwhitneyu(x - d, y, method="asymptotic").pvalue)

    for end, outward in ((ci.low, -1), (ci.high, +1)):
        i = int(np.searchsorted(every, end))
        assert every[i] == pytest.approx(end)  # the end is one of the pairwise differences
        outside = (every[i] + every[i + outward]) / 2  # between it and its outer neighbour
        inside = (every[i] + every[i - outward]) / 2
        assert p(outside) < 0.05 <= p(inside)


def test_hodges_lehmann_interval_covers_the_true_shift_at_its_confidence() -> None:
    rng = np.random.default_rng(2024)
    trials, covered = 400, 0
    for _ in range(trials):
        x, y = _latencies(rng, 80) + 10.0, _latencies(rng, 80)
        ci = hodges_lehmann(x, y, 0.90).interval
        covered += ci.low <= 10.0 <= ci.high
    # binomial: 400 trials at 0.90 -> sd 1.5 %; allow 3.5 sd either side
    assert 0.90 - 0.053 <= covered / trials <= 0.90 + 0.053


def test_hodges_lehmann_subsamples_large_inputs_deterministically() -> None:
    rng = np.random.default_rng(1)
    x, y = _latencies(rng, 3000) + 3.0, _latencies(rng, 3000)
    a = hodges_lehmann(x, y, max_samples=1000, seed=4)
    b = hodges_lehmann(x, y, max_samples=1000, seed=4)
    full = hodges_lehmann(x, y)
    assert a == b and a.subsampled and not full.subsampled
    assert a.interval.high - a.interval.low > full.interval.high - full.interval.low
    assert a.interval.low < 3.0 < a.interval.high


# --- bootstrap of percentiles -------------------------------------------------------------


def test_order_statistic_draws_have_the_bootstrap_distribution() -> None:
    """One Beta draw per replicate equals resampling n values and taking the percentile."""
    rng = np.random.default_rng(9)
    values = np.sort(_latencies(rng, 400))
    ours = bootstrap_percentile(values, 95, 20_000, np.random.default_rng(1))
    idx = np.random.default_rng(2).integers(0, values.size, size=(4000, values.size))
    brute = np.percentile(values[idx], 95, axis=1, method="inverted_cdf")
    assert stats.ks_2samp(ours, brute).pvalue > 0.001
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(ours, q) == pytest.approx(np.quantile(brute, q), rel=0.02)


def test_percentile_difference_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(21)
    base, cand = _latencies(rng, 1500), _latencies(rng, 1500, scale=1.15)

    def p95_diff(c: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.percentile(c, 95, axis=axis, method="inverted_cdf")
                          - np.percentile(b, 95, axis=axis, method="inverted_cdf"))

    ref = stats.bootstrap((cand, base), p95_diff, n_resamples=5000, method="percentile",
                          confidence_level=0.95, random_state=np.random.default_rng(0))
    ours = percentile_difference(np.sort(base), np.sort(cand), 95, 0.95, resamples=20_000, seed=3)
    assert ours.delta == pytest.approx(p95_diff(cand, base))
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert abs(ours.delta_ci.low - ref.confidence_interval.low) < 0.1 * width
    assert abs(ours.delta_ci.high - ref.confidence_interval.high) < 0.1 * width


def test_percentile_difference_is_seeded() -> None:
    rng = np.random.default_rng(0)
    b, c = np.sort(_latencies(rng, 500)), np.sort(_latencies(rng, 500))
    assert percentile_difference(b, c, 99, seed=5) == percentile_difference(b, c, 99, seed=5)
    assert percentile_difference(b, c, 99, seed=5) != percentile_difference(b, c, 99, seed=6)


# --- error rates ------------------------------------------------------------------------

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (score, no CC).
NEWCOMBE_TABLE_II = [
    pytest.param((56, 70, 48, 80), (0.0524, 0.3339), id="a"),
    pytest.param((9, 10, 3, 10), (0.1705, 0.8090), id="b"),
    pytest.param((6, 7, 2, 7), (0.0582, 0.8062), id="c"),
    pytest.param((5, 56, 0, 29), (-0.0381, 0.1926), id="d"),
    pytest.param((0, 10, 0, 20), (-0.1611, 0.2775), id="e"),
    pytest.param((0, 10, 0, 10), (-0.2775, 0.2775), id="f"),
    pytest.param((10, 10, 0, 20), (0.6791, 1.0000), id="g"),
    pytest.param((10, 10, 0, 10), (0.6075, 1.0000), id="h"),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_published_table(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    ci = newcombe_interval(*counts)
    assert (round(ci.low, 4), round(ci.high, 4)) == published


@pytest.mark.parametrize(("events", "n"), [(0, 50), (3, 1000), (49, 50), (17, 40)])
def test_wilson_interval_matches_scipy(events: int, n: int) -> None:
    ref = stats.binomtest(events, n).proportion_ci(0.95, method="wilson")
    ours = wilson_interval(events, n, 0.95)
    assert ours.low == pytest.approx(ref.low, abs=1e-12)
    assert ours.high == pytest.approx(ref.high, abs=1e-12)


@pytest.mark.parametrize(("e1", "n1", "e2", "n2"), [(12, 1000, 4, 1100), (0, 500, 3, 500), (40, 90, 45, 95)])
def test_two_proportion_p_value_matches_chi_square(e1: int, n1: int, e2: int, n2: int) -> None:
    table = np.array([[e1, n1 - e1], [e2, n2 - e2]])
    ref = stats.chi2_contingency(table, correction=False).pvalue
    assert two_proportion_p_value(e1, n1, e2, n2) == pytest.approx(ref, rel=1e-9)


# --- throughput -------------------------------------------------------------------------


def test_per_second_counts() -> None:
    ts = np.array([10.0, 10.2, 10.99, 11.0, 13.5, 9.9, 15.0])
    assert per_second_counts(ts, 10.0, 5).tolist() == [3.0, 1.0, 0.0, 1.0, 0.0]


def test_rate_difference_matches_welch_for_long_windows() -> None:
    rng = np.random.default_rng(4)
    base, cand = rng.poisson(100, 600).astype(float), rng.poisson(95, 600).astype(float)
    ours = rate_difference(base, cand, 0.95)
    ref = stats.ttest_ind(cand, base, equal_var=False).confidence_interval(0.95)
    assert ours.delta == pytest.approx(cand.mean() - base.mean())
    width = ref.high - ref.low
    assert ours.interval.low == pytest.approx(ref.low, abs=0.01 * width)
    assert ours.interval.high == pytest.approx(ref.high, abs=0.01 * width)


def test_interval_scaled() -> None:
    assert Interval(1.0, 2.0).scaled(100.0) == Interval(100.0, 200.0)
    assert math.isinf(Interval(-math.inf, 1.0).scaled(2.0).low)
