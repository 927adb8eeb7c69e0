"""Latency distributions described the way operators quote them: a median and a p95."""

from __future__ import annotations

import math

__all__ = ["Z95", "lognormal_params"]

Z95 = 1.6448536269514722  # standard normal 95th percentile


def lognormal_params(median: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal whose median and 95th percentile are the given values.

    median = exp(mu) and p95 = exp(mu + Z95 * sigma); a p95 below the median is treated as
    no spread (sigma = 0).
    """
    if median <= 0:
        raise ValueError(f"median must be positive, got {median}")
    mu = math.log(median)
    sigma = max(0.0, (math.log(max(p95, median)) - mu) / Z95)
    return mu, sigma
