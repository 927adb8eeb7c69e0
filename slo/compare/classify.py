"""From an interval and a tolerance to better / same / worse, and the family-wise confidence.

The rule (an equivalence-style margin test, as Kayenta's judge applies it):

* **worse** when the whole interval lies beyond the tolerance on the bad side,
* **better** when the whole interval lies beyond the tolerance on the good side,
* **same** otherwise -- no change, or not enough evidence of one larger than the tolerance.

The difference from Kayenta: its ``MannWhitneyClassifier.calculateBounds`` sets the margin
to ``fraction x |Hodges-Lehmann estimate|``, i.e. relative to the *estimate being tested*.
The margin then grows with the effect, so the rule only checks that the interval is narrow
compared to its own centre: a 0.2 ms shift of a 300 ms latency is "High" given enough
samples, and a real shift with a wide interval is "Pass". Here every margin is
``tolerance x baseline value`` (baseline median, P95, P99, throughput), which is what a
person means by "P95 may not get more than 10 % worse".

Multiple comparisons: a comparison runs one test per operation and metric, so with 5
metrics x 20 operations, 100 tests at 95 % would flag about 2-3 false regressions per A/A
run. The Bonferroni correction computes every gated interval at ``1 - (1 - confidence) / m``,
which bounds the probability of *any* false "worse" in the comparison by ``1 - confidence``
(Bonferroni 1936; Dunn 1961). Holm's step-down procedure would be more powerful, but it
adjusts p-values, not intervals, so the interval printed beside a metric would no longer be
the one that decided it; with Bonferroni it always is.
"""

from __future__ import annotations

from slo.compare.model import Change, Interval

__all__ = ["classify", "family_confidence"]


def classify(interval: Interval | None, tolerance: float, *, higher_is_better: bool) -> Change:
    """Classify a change whose interval and tolerance are in the same unit.

    >>> classify(Interval(0.12, 0.30), 0.10, higher_is_better=False)
    <Change.WORSE: 'worse'>
    >>> classify(Interval(0.02, 0.30), 0.10, higher_is_better=False)
    <Change.SAME: 'same'>
    """
    if interval is None or not (abs(interval.low) < float("inf") and abs(interval.high) < float("inf")):
        return Change.SAME if interval is not None else Change.NO_DATA
    up = interval.low > tolerance  # confidently more than the tolerance above the baseline
    down = interval.high < -tolerance
    if up:
        return Change.BETTER if higher_is_better else Change.WORSE
    if down:
        return Change.WORSE if higher_is_better else Change.BETTER
    return Change.SAME


def family_confidence(confidence: float, tests: int, correction: str = "bonferroni") -> float:
    """The confidence each of ``tests`` intervals needs for ``confidence`` family-wise.

    >>> round(family_confidence(0.95, 10), 4)
    0.995
    """
    if correction == "none" or tests <= 1:
        return confidence
    return 1.0 - (1.0 - confidence) / tests
