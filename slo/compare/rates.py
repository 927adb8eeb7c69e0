"""Throughput: successful operations per second, compared as per-second counts.

Each run's judged window is cut into whole seconds; the count of successful operations in
each second is one observation. The difference of the mean rates gets a Welch-type
normal interval, ``(m_c - m_b) +- z sqrt(s_c^2/n_c + s_b^2/n_b)`` (Welch 1947, with the
normal quantile: windows are at least ``min_seconds`` long and usually minutes). Counts of
neighbouring seconds are positively correlated in a closed-model run (a slow second is
followed by a catch-up), which makes this interval somewhat too narrow; the throughput
tolerance (10 % by default) is what keeps that from failing a gate on noise.

In an open-model run at a fixed arrival rate the throughput is set by the schedule, so a
drop means the target (or the generator) could not keep up: worth failing on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from slo.compare.model import Interval

__all__ = ["RateDifference", "per_second_counts", "rate_difference"]


@dataclass(frozen=True, slots=True)
class RateDifference:
    """Mean rates (per second), their difference and its interval."""

    baseline: float
    candidate: float
    delta: float
    interval: Interval


def per_second_counts(ts: npt.NDArray[np.float64], start: float, seconds: int) -> npt.NDArray[np.float64]:
    """Events per whole second of ``[start, start + seconds)``; events outside are dropped."""
    if seconds < 1:
        return np.zeros(0, dtype=np.float64)
    offset = np.floor(ts - start).astype(np.int64)
    inside = (offset >= 0) & (offset < seconds)
    return np.bincount(offset[inside], minlength=seconds).astype(np.float64)


def rate_difference(
    baseline_counts: npt.NDArray[np.float64],
    candidate_counts: npt.NDArray[np.float64],
    confidence: float = 0.95,
) -> RateDifference:
    """Candidate minus baseline mean rate, with a Welch normal interval."""
    n_b, n_c = baseline_counts.size, candidate_counts.size
    if n_b < 2 or n_c < 2:
        raise ValueError("a rate comparison needs at least two seconds in each run")
    m_b, m_c = float(baseline_counts.mean()), float(candidate_counts.mean())
    se = math.sqrt(
        float(baseline_counts.var(ddof=1)) / n_b + float(candidate_counts.var(ddof=1)) / n_c
    )
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    delta = m_c - m_b
    return RateDifference(m_b, m_c, delta, Interval(delta - z * se, delta + z * se))
