"""Service level indicators computed exactly from sample arrays (pure numpy, no loops over samples).

The percentile definition
=========================
slogate uses one definition everywhere: the **nearest-rank** percentile, Hyndman & Fan (1996)
definition 1, numpy ``method="inverted_cdf"``. The p-th percentile of n values is the value
of rank ``ceil(p/100 * n)`` in ascending order.

Why this one, and not numpy's default (``linear``, definition 7):

1. It is a latency some request actually had, never an interpolation between two.
2. It makes a percentile objective agree exactly with the ratio form of a latency SLO
   (SRE Workbook ch. 2: "share of requests faster than T"): with nearest rank,
   ``p95 <= T`` holds **if and only if** at least 95 % of events took ``<= T``. With linear
   interpolation the two can disagree near T.
3. It is what HdrHistogram and most load tools report as "value at percentile".

The rank is computed with exact decimal arithmetic (``Fraction(repr(p))``), not
``p / 100 * n`` in floating point: numpy's ``inverted_cdf`` given ``q = 99.9 / 100``
(``0.9990000000000001``) and 1,000 values returns the 1,000th value, and for p7 of 100 values
(``0.07 * 100 == 7.000000000000001``) the 8th; the nearest ranks are 999 and 7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "PERCENTILE_METHOD",
    "FloatArray",
    "aggregate",
    "corrected_latency_ms",
    "histogram_quantile",
    "linear_slope",
    "nearest_rank",
    "percentiles",
]

FloatArray = npt.NDArray[np.float64]

PERCENTILE_METHOD: Final = "inverted_cdf"
"""The numpy ``method`` that slogate's percentile equals (up to exact rank arithmetic)."""


def nearest_rank(percentile: float, n: int) -> int:
    """1-based rank of the ``percentile``-th percentile of ``n`` values (``n >= 1``).

    >>> nearest_rank(99.9, 1000)
    999
    >>> nearest_rank(50, 5)
    3
    """
    if n < 1:
        raise ValueError("a percentile of no values is undefined")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    return max(1, math.ceil(Fraction(repr(float(percentile))) * n / 100))


def percentiles(
    values: FloatArray, pcts: Sequence[float], *, overwrite: bool = False
) -> FloatArray:
    """Nearest-rank percentiles of ``values`` (see module docstring), one per entry of ``pcts``.

    Uses one ``np.partition`` for all of them: O(n), no full sort. ``overwrite=True``
    partitions ``values`` in place (for a temporary copy the caller owns: on 10 million
    samples that saves an 80 MB copy per objective).
    """
    n = int(values.shape[0])
    if n == 0:
        raise ValueError("a percentile of no values is undefined")
    kth = [nearest_rank(p, n) - 1 for p in pcts]
    if overwrite:
        values.partition(sorted(set(kth)))
        part = values
    else:
        part = np.partition(values, sorted(set(kth)))
    return np.asarray(part[kth], dtype=np.float64)


def aggregate(values: FloatArray, how: Literal["avg", "min", "max"]) -> float:
    """Mean, minimum or maximum of ``values`` (k6's ``avg``/``min``/``max``)."""
    if values.shape[0] == 0:
        raise ValueError(f"{how} of no values is undefined")
    if how == "avg":
        return float(np.mean(values))
    return float(np.min(values) if how == "min" else np.max(values))


def corrected_latency_ms(
    latency_ms: FloatArray, ts: FloatArray, intended_ts: FloatArray
) -> FloatArray:
    """Response time corrected for coordinated omission: ``latency_ms + (ts - intended_ts) * 1000``.

    In an open-model run ``intended_ts`` is when the schedule wanted the request sent; a
    request sent late because the generator or server was stalled carries that delay
    (DESIGN.md, run record). Negative offsets (clock jitter) are not subtracted.

    The one definition of the corrected SLI (the verdict, recovery and the report's tables
    use it). Computed in one buffer, so 10M samples cost one extra array; when nothing was
    sent late, ``latency_ms`` itself is returned (callers must not write into the result).
    """
    delay = np.subtract(ts, intended_ts, dtype=np.float64)
    np.maximum(delay, 0.0, out=delay)
    if not delay.any():
        return np.asarray(latency_ms, dtype=np.float64)
    delay *= 1000.0
    delay += latency_ms
    return delay


def linear_slope(t: FloatArray, y: FloatArray) -> float:
    """Ordinary least-squares slope of ``y`` against ``t`` (units of y per unit of t).

    Closed form ``sum((t - t̄)(y - ȳ)) / sum((t - t̄)²)``, centred first for numerical
    stability with epoch-second timestamps.
    """
    if t.shape[0] < 2:
        raise ValueError("a slope needs at least two points")
    tc = t - np.mean(t)
    denominator = float(np.dot(tc, tc))
    if denominator == 0.0:
        raise ValueError("a slope needs at least two distinct times")
    return float(np.dot(tc, y - np.mean(y)) / denominator)


def histogram_quantile(
    q: float, upper_bounds: Sequence[float], cumulative_counts: Sequence[float]
) -> float | None:
    """The q-quantile (0..1) of a Prometheus histogram, exactly as PromQL computes it.

    Port of ``bucketQuantile`` in prometheus/promql/quantile.go (v2.x): find the bucket
    holding rank ``q * count``, interpolate linearly inside it; a rank in the ``+Inf`` bucket
    returns the largest finite bound; the first bucket starts at 0 when its bound is
    positive. Returns ``None`` when there are no observations or no ``+Inf`` bucket.
    ``cumulative_counts`` are the ``_bucket`` values (cumulative), aligned with the bounds.
    """
    pairs = sorted(zip(upper_bounds, cumulative_counts, strict=True))
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]):
        return None
    bounds = [b for b, _ in pairs]
    counts = list(np.maximum.accumulate([c for _, c in pairs]))  # ensureMonotonic
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    b = next((i for i, c in enumerate(counts[:-1]) if c >= rank), len(counts) - 1)
    if b == len(counts) - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return float(start + (end - start) * (rank / count))
