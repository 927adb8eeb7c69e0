"""The provider's latency model and the executor's retry backoff, checked against numpy.

``lognormal_params`` must produce the lognormal whose median and p95 are the operator's
numbers: 200,000 numpy draws must show them. ``Z95`` is checked against the standard
library's independent inverse normal CDF (``statistics.NormalDist``), and against scipy when
it is installed. ``backoff_s`` must be full jitter (AWS, "Exponential Backoff And Jitter"):
uniform on [0, min(cap, base * 2**attempt)].
"""

from __future__ import annotations

import math
import random
from statistics import NormalDist

import numpy as np
import pytest

from target_service.distributions import Z95, lognormal_params
from target_service.orchestration.executor import backoff_s

DRAWS = 200_000


def test_z95_is_the_standard_normal_95th_percentile() -> None:
    assert pytest.approx(NormalDist().inv_cdf(0.95), rel=1e-12) == Z95


@pytest.mark.parametrize(
    ("median", "p95"),
    [
        pytest.param(120.0, 400.0, id="default-ttft"),
        pytest.param(6.0, 15.0, id="default-token"),
        pytest.param(1.0, 1.01, id="almost-fixed"),
        pytest.param(50.0, 5000.0, id="heavy-tail"),
    ],
)
def test_lognormal_params_reproduce_median_and_p95(median: float, p95: float) -> None:
    mu, sigma = lognormal_params(median, p95)
    draws = np.random.default_rng(20240611).lognormal(mu, sigma, DRAWS)
    # Sampling error of a quantile: ~ sqrt(p(1-p)/n) / density; 2 % (median) and 3 % (p95)
    # are several standard errors even for the heavy tail.
    assert np.median(draws) == pytest.approx(median, rel=0.02)
    assert np.percentile(draws, 95) == pytest.approx(p95, rel=0.03)


@pytest.mark.parametrize(("median", "p95"), [(120.0, 400.0), (3.0, 9.0)])
def test_lognormal_params_match_scipy(median: float, p95: float) -> None:
    stats = pytest.importorskip("scipy.stats", reason="scipy is optional; numpy checks above still run")
    mu, sigma = lognormal_params(median, p95)
    assert stats.lognorm.ppf(0.5, sigma, scale=math.exp(mu)) == pytest.approx(median, rel=1e-9)
    assert stats.lognorm.ppf(0.95, sigma, scale=math.exp(mu)) == pytest.approx(p95, rel=1e-9)


def test_p95_below_median_means_no_spread() -> None:
    mu, sigma = lognormal_params(100.0, 50.0)
    assert mu == pytest.approx(math.log(100.0))
    assert sigma == 0.0
    assert lognormal_params(100.0, 100.0)[1] == 0.0


def test_median_must_be_positive() -> None:
    with pytest.raises(ValueError, match="median must be positive, got 0"):
        lognormal_params(0.0, 10.0)


@pytest.mark.parametrize(
    ("attempt", "bound_ms"),
    [
        pytest.param(0, 100.0, id="first-retry"),
        pytest.param(3, 800.0, id="doubling"),
        pytest.param(6, 5000.0, id="capped"),  # 100 * 64 = 6400 > cap 5000
        pytest.param(40, 5000.0, id="far-past-cap"),
    ],
)
def test_backoff_is_full_jitter(attempt: int, bound_ms: float) -> None:
    rng = random.Random(7)
    draws = np.array([backoff_s(attempt, 100.0, 5000.0, rng) for _ in range(20_000)])
    bound = bound_ms / 1000.0
    assert draws.min() >= 0.0 and draws.max() <= bound
    # Uniform on [0, bound]: mean bound/2 and the deciles evenly spread (KS-like check).
    assert draws.mean() == pytest.approx(bound / 2, rel=0.02)
    deciles = np.percentile(draws, np.arange(10, 100, 10)) / bound
    np.testing.assert_allclose(deciles, np.arange(0.1, 1.0, 0.1), atol=0.015)
