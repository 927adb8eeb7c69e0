"""Error rates: the two-proportion z-test and Newcombe's interval for the difference.

The test is the classic pooled two-proportion z-test (its square is Pearson's chi-square
on the 2 x 2 table without Yates' correction). The interval is Newcombe's hybrid score
interval, "method 10" of Newcombe (1998), *Interval estimation for the difference between
independent proportions: comparison of eleven methods*, Statistics in Medicine 17:873-890:
it combines the two Wilson score intervals, stays inside [-1, 1], and -- unlike the Wald
interval -- behaves when an error count is 0, which for a healthy service is the usual case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from slo.compare.model import Interval

__all__ = [
    "ProportionDifference",
    "newcombe_interval",
    "proportion_difference",
    "two_proportion_p_value",
    "wilson_interval",
]


@dataclass(frozen=True, slots=True)
class ProportionDifference:
    """``p_candidate - p_baseline`` with its interval and the test's two-sided p-value."""

    baseline: float
    candidate: float
    delta: float
    interval: Interval
    p_value: float


def wilson_interval(events: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson (1927) score interval for a proportion ``events / n``."""
    if n < 1 or not 0 <= events <= n:
        raise ValueError(f"need 0 <= events <= n and n >= 1, got {events}/{n}")
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    p = events / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def newcombe_interval(
    events_1: int, n_1: int, events_2: int, n_2: int, confidence: float = 0.95
) -> Interval:
    """Newcombe's method-10 interval for ``events_1/n_1 - events_2/n_2``."""
    p1, p2 = events_1 / n_1, events_2 / n_2
    w1 = wilson_interval(events_1, n_1, confidence)
    w2 = wilson_interval(events_2, n_2, confidence)
    delta = p1 - p2
    low = delta - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = delta + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Interval(low, high)


def two_proportion_p_value(events_1: int, n_1: int, events_2: int, n_2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when nothing varies)."""
    pooled = (events_1 + events_2) / (n_1 + n_2)
    variance = pooled * (1.0 - pooled) * (1.0 / n_1 + 1.0 / n_2)
    if variance == 0.0:
        return 1.0
    z = (events_1 / n_1 - events_2 / n_2) / math.sqrt(variance)
    return min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def proportion_difference(
    baseline_events: int,
    baseline_n: int,
    candidate_events: int,
    candidate_n: int,
    confidence: float = 0.95,
) -> ProportionDifference:
    """Candidate minus baseline error rate (as fractions), interval and p-value."""
    return ProportionDifference(
        baseline=baseline_events / baseline_n,
        candidate=candidate_events / candidate_n,
        delta=candidate_events / candidate_n - baseline_events / baseline_n,
        interval=newcombe_interval(
            candidate_events, candidate_n, baseline_events, baseline_n, confidence
        ),
        p_value=two_proportion_p_value(candidate_events, candidate_n, baseline_events, baseline_n),
    )
