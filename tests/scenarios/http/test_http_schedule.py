"""Open-model arrival schedules checked against closed forms and textbook statistics (numpy)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scenarios.http.plan import Stage
from scenarios.http.schedule import arrival_offsets, expected_arrivals, rate_segments

KS_C_001 = 1.628  # Kolmogorov distribution: P(sqrt(n) * D > 1.628) = 0.01 (published table)


def offsets(stages: list[Stage], **kw: object) -> np.ndarray:
    return np.array(list(arrival_offsets(stages, **kw)))  # type: ignore[arg-type]


def ks_exponential(samples: np.ndarray, rate: float) -> float:
    """sqrt(n) * D for samples against Exp(rate), computed directly from the definition."""
    x = np.sort(samples)
    n = len(x)
    cdf = 1.0 - np.exp(-rate * x)
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    return float(np.sqrt(n) * d)


def test_constant_rate_is_evenly_spaced() -> None:
    t = offsets([Stage(2.0, rate=50)], arrival="constant")
    assert len(t) == 100
    np.testing.assert_allclose(np.diff(t), 0.02, rtol=0, atol=1e-12)
    assert t[0] == 0.0 and t[-1] < 2.0


def test_linear_ramp_matches_the_inverse_of_its_integral() -> None:
    # 0 -> 100/s over [10, 20): Lambda(t) = 5 (t - 10)^2, so arrival n is at 10 + sqrt(n / 5)
    stages = [Stage(10, rate=0), Stage(10, rate=100, ramp=True)]
    t = offsets(stages, arrival="constant")
    assert expected_arrivals(stages) == 500
    np.testing.assert_allclose(t, 10 + np.sqrt(np.arange(500) / 5), rtol=0, atol=1e-9)


def test_ramp_down_and_steps_count_exactly_per_stage() -> None:
    stages = [Stage(2, rate=10), Stage(1, rate=100), Stage(2, rate=10), Stage(2, rate=0, ramp=True)]
    t = offsets(stages, arrival="constant")
    counts, _ = np.histogram(t, bins=[0, 2, 3, 5, 7])
    assert counts.tolist() == [20, 100, 20, 10]  # spike x10, then 10/s ramping to 0: 10 more
    assert [s.count for s in rate_segments(stages)] == [20, 100, 20, 10]


@pytest.mark.parametrize("k", [2, 3, 7])
def test_k_workers_interleave_into_the_global_schedule(k: int) -> None:
    stages = [Stage(2, rate=42), Stage(1, rate=84, ramp=True)]
    parts = [offsets(stages, arrival="constant", scale=1 / k, phase=i / k) for i in range(k)]
    merged = np.sort(np.concatenate(parts))
    np.testing.assert_allclose(merged, offsets(stages, arrival="constant"), atol=1e-9)


def test_scale_multiplies_the_rate() -> None:
    assert len(offsets([Stage(10, rate=40)], arrival="constant", scale=0.25)) == 100


def test_poisson_gaps_are_exponential_and_counts_poisson() -> None:
    rate, seconds = 200.0, 50
    t = offsets([Stage(seconds, rate=rate)], arrival="poisson", rng=random.Random(20261126))
    assert ks_exponential(np.diff(t), rate) < KS_C_001
    counts, _ = np.histogram(t, bins=np.arange(seconds + 1))
    dispersion = float(((counts - counts.mean()) ** 2).sum() / counts.mean())
    assert 27.2 < dispersion < 78.2  # chi-square, 49 dof, central 99 %: Poisson, not regular
    assert abs(len(t) - rate * seconds) < 3 * np.sqrt(rate * seconds)


def test_poisson_ramp_rescales_to_unit_exponential_gaps() -> None:
    # time-rescaling theorem: Lambda(t_n) - Lambda(t_{n-1}) ~ Exp(1) for any rate function
    stages = [Stage(20, rate=400, ramp=True)]  # rate(t) = 20 t, Lambda(t) = 10 t^2
    t = offsets(stages, arrival="poisson", rng=random.Random(7))
    gaps = np.diff(10 * t**2)
    assert ks_exponential(gaps, 1.0) < KS_C_001
    assert abs(len(t) - 4000) < 3 * np.sqrt(4000)


def test_poisson_workers_with_distinct_seeds_differ() -> None:
    stages = [Stage(1, rate=100)]
    a = offsets(stages, arrival="poisson", rng=random.Random("1:0:"))
    b = offsets(stages, arrival="poisson", rng=random.Random("1:1:"))
    assert not np.array_equal(a[:10], b[:10])


def test_phase_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="phase"):
        list(arrival_offsets([Stage(1, rate=1)], arrival="constant", phase=1.0))
