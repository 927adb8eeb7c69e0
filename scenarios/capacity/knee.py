"""The knee of a latency-throughput curve: where latency starts to climb steeply with load.

Kneedle (Satopaa, Albrecht, Irwin, Raghavan: "Finding a 'Kneedle' in a Haystack: Detecting
Knee Points in System Behavior", ICDCS workshops 2011): normalise both axes to [0, 1], take
the difference between the curve and the straight line from its first to its last point,
and pick the point where the line lies furthest *above* the curve (for a convex, increasing
curve such as latency against load, the line sits above it, and the gap is largest where
the curve turns from flat to steep). Pure numpy; no I/O.

The curve is built from the search's steps sorted by level, one point per level (the
latest step wins, e.g. a confirmation hold). Fewer than three points, or a curve that is
not increasing overall (latency fell as load rose), has no knee: ``None``, never a guess.

Example::

    knee([10, 20, 40, 80], [5, 6, 9, 250])   # 40.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["knee"]


def knee(load: Sequence[float], latency: Sequence[float | None]) -> float | None:
    """The load at the knee of ``latency`` against ``load``, or ``None`` if there is none."""
    pairs = sorted(
        (float(x), float(y)) for x, y in zip(load, latency, strict=True)
        if y is not None and np.isfinite(y) and np.isfinite(x)
    )
    dedup: dict[float, float] = {}
    for x, y in pairs:
        dedup[x] = y  # one point per load level
    if len(dedup) < 3:
        return None
    xs = np.fromiter(dedup.keys(), dtype=np.float64)
    ys = np.fromiter(dedup.values(), dtype=np.float64)
    if ys[-1] <= ys[0] or xs[-1] <= xs[0]:
        return None
    xn = (xs - xs[0]) / (xs[-1] - xs[0])
    yn = (ys - ys[0]) / (ys[-1] - ys[0])
    gap = xn - yn  # chord y = x minus the curve: largest where the curve bends upward
    i = int(np.argmax(gap))
    if gap[i] <= 0.0 or i in (0, len(xs) - 1):
        return None  # straight or concave: no knee
    return float(xs[i])
