"""Bootstrap intervals for the difference of two percentiles (P95, P99), in O(B) per sample.

The percentile is slogate's nearest-rank definition (:mod:`slo.sli`): the value of rank
``k = ceil(p n / 100)``. A bootstrap resample of ``n`` values drawn with replacement from the
sorted sample ``s`` is ``F_n^-1(U_1..U_n)`` with ``U_i`` uniform and ``F_n^-1(u) = s[ceil(u n)]``
(1-based). ``F_n^-1`` is monotone, so the resample's k-th smallest value is
``F_n^-1(U_(k))``, and the k-th order statistic of n uniforms is ``Beta(k, n + 1 - k)``
(David & Nagaraja, *Order Statistics*, 3rd ed., sec. 2.2). One Beta draw per replicate is
therefore an exact draw from the bootstrap distribution of the percentile: no ``B x n``
resample matrix, no subsampling, any sample size in milliseconds.

Each sample is resampled independently (two-sample, unpaired bootstrap, as
``scipy.stats.bootstrap(..., paired=False)``) and the interval is the percentile interval of
the replicated differences (Efron & Tibshirani, *An Introduction to the Bootstrap*, ch. 13).
The relative interval is taken over replicated ratios ``q_c / q_b - 1``, so the baseline's
own uncertainty is part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from slo.compare.model import Interval
from slo.sli import nearest_rank

__all__ = ["PercentileDifference", "bootstrap_percentile", "percentile_difference"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PercentileDifference:
    """Point values, the difference (candidate - baseline) and its intervals."""

    baseline: float
    candidate: float
    delta: float
    delta_ci: Interval
    relative: float | None
    relative_ci: Interval | None
    resamples: int


def bootstrap_percentile(
    sorted_values: FloatArray, percentile: float, resamples: int, rng: np.random.Generator
) -> FloatArray:
    """``resamples`` draws from the bootstrap distribution of the nearest-rank percentile.

    ``sorted_values`` must be sorted ascending (the caller sorts once, reuses it for P95
    and P99).
    """
    n = int(sorted_values.size)
    k = nearest_rank(percentile, n)
    u = rng.beta(k, n + 1 - k, size=resamples)
    index = np.clip(np.ceil(u * n).astype(np.int64) - 1, 0, n - 1)
    return np.asarray(sorted_values[index], dtype=np.float64)


def percentile_difference(
    baseline_sorted: FloatArray,
    candidate_sorted: FloatArray,
    percentile: float,
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> PercentileDifference:
    """Percentile interval for ``P(candidate) - P(baseline)`` and for the relative change.

    Seeded: the same inputs and ``seed`` give the same interval, run after run.
    """
    if baseline_sorted.size < 1 or candidate_sorted.size < 1:
        raise ValueError("a percentile of no values is undefined")
    rng = np.random.default_rng(seed)
    base_draws = bootstrap_percentile(baseline_sorted, percentile, resamples, rng)
    cand_draws = bootstrap_percentile(candidate_sorted, percentile, resamples, rng)
    base = float(baseline_sorted[nearest_rank(percentile, baseline_sorted.size) - 1])
    cand = float(candidate_sorted[nearest_rank(percentile, candidate_sorted.size) - 1])
    alpha = 1.0 - confidence
    qs = [alpha / 2.0, 1.0 - alpha / 2.0]
    diff = np.quantile(cand_draws - base_draws, qs)
    relative: float | None = None
    relative_ci: Interval | None = None
    if base > 0 and bool(np.all(base_draws > 0)):
        relative = cand / base - 1.0
        rel = np.quantile(cand_draws / base_draws - 1.0, qs)
        relative_ci = Interval(float(rel[0]), float(rel[1]))
    return PercentileDifference(
        baseline=base,
        candidate=cand,
        delta=cand - base,
        delta_ci=Interval(float(diff[0]), float(diff[1])),
        relative=relative,
        relative_ci=relative_ci,
        resamples=resamples,
    )
