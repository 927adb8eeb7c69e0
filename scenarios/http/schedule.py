"""Open-model arrival times: when each request *should* be sent, independent of responses.

Pure and clock-free: it yields offsets in seconds from the start of the load, and the worker
adds its start time. The rate is piecewise linear over the stages (a step or a linear ramp
per stage), so the expected number of arrivals by time ``t`` is the integral
``Lambda(t) = integral_0^t rate(u) du``, piecewise quadratic. Both arrival processes are
generated in ``Lambda``-space and mapped back with the inverse of ``Lambda``:

- constant: arrivals at ``Lambda = n + phase`` (evenly spaced at a steady rate, as wrk2);
- poisson: arrivals at the partial sums of Exp(1) draws, which is the time-rescaling
  construction of a non-homogeneous Poisson process (Cinlar, *Introduction to Stochastic
  Processes*, 1975, ch. 4; Brown et al., "The time-rescaling theorem", Neural Comput. 2002).

Splitting: ``K`` workers that each run this schedule with ``scale=1/K`` and
``phase=i/K`` (constant) together send exactly the plan's evenly spaced schedule; for
Poisson, the superposition of ``K`` independent Poisson processes of rate ``r/K`` is a Poisson
process of rate ``r``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from scenarios.http.plan import Stage

__all__ = ["RateSegment", "arrival_offsets", "expected_arrivals", "rate_segments"]


@dataclass(frozen=True, slots=True)
class RateSegment:
    """Rate moving linearly from ``r0`` to ``r1`` over ``[start_s, start_s + duration_s)``."""

    start_s: float
    duration_s: float
    r0: float
    r1: float

    @property
    def count(self) -> float:
        """Expected arrivals in the segment: the integral of the rate (a trapezoid)."""
        return 0.5 * (self.r0 + self.r1) * self.duration_s

    def time_of(self, n: float) -> float:
        """Offset within the segment at which ``n`` arrivals (0 <= n <= count) are expected.

        Solves ``r0*tau + s*tau**2/2 = n`` with ``s = (r1-r0)/duration`` in the form
        ``tau = 2n / (r0 + sqrt(r0**2 + 2*s*n))``, which stays exact for ``s -> 0`` and
        ``r0 = 0`` where the textbook root formula cancels or divides by zero.
        """
        if n <= 0:
            return 0.0
        slope = (self.r1 - self.r0) / self.duration_s
        disc = max(0.0, self.r0 * self.r0 + 2.0 * slope * n)
        denom = self.r0 + math.sqrt(disc)
        if denom <= 0:
            return self.duration_s
        return min(self.duration_s, 2.0 * n / denom)


def rate_segments(stages: Sequence[Stage], scale: float = 1.0) -> tuple[RateSegment, ...]:
    """The piecewise-linear rate of ``stages`` (``rate`` per second, times ``scale``)."""
    segments: list[RateSegment] = []
    start = 0.0
    previous = 0.0
    for stage in stages:
        rate = (stage.rate or 0.0) * scale
        r0 = previous if stage.ramp else rate
        segments.append(RateSegment(start, stage.duration_s, r0, rate))
        start += stage.duration_s
        previous = rate
    return tuple(segments)


def expected_arrivals(stages: Sequence[Stage], scale: float = 1.0) -> float:
    """``Lambda(end)``: the number of arrivals the plan asks for (expected, for Poisson)."""
    return sum(seg.count for seg in rate_segments(stages, scale))


def arrival_offsets(
    stages: Sequence[Stage],
    *,
    arrival: Literal["constant", "poisson"],
    scale: float = 1.0,
    phase: float = 0.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Intended send offsets (seconds from the start), increasing, all before the end.

    ``phase`` in ``[0, 1)`` shifts a constant schedule by a fraction of one interval (used
    to interleave workers); ``rng`` draws the Poisson gaps (seed it for reproducible runs).
    """
    if not 0.0 <= phase < 1.0:
        raise ValueError(f"phase must be in [0, 1), got {phase}")
    draw = rng or random.Random()
    segments = rate_segments(stages, scale)
    target = phase if arrival == "constant" else draw.expovariate(1.0)
    done = 0.0  # Lambda at the start of the current segment
    for seg in segments:
        end = done + seg.count
        while target < end:
            yield seg.start_s + seg.time_of(target - done)
            target += 1.0 if arrival == "constant" else draw.expovariate(1.0)
        done = end
