"""The frozen results of comparing a candidate run with a baseline run.

A :class:`Comparison` holds one :class:`MetricComparison` per (operation, metric) pair, one
:class:`ObjectiveComparison` per SLO objective both verdicts judged, the run-level
:class:`Mismatch` list (scenario, rate or duration differences), and the overall
:class:`Outcome`. It is built by :func:`slo.compare.compare.compare_runs` and saved as
``comparison.json`` by :mod:`slo.compare.record`; reports render from it, never from runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "METRICS",
    "Change",
    "CompareSettings",
    "Comparison",
    "Interval",
    "MetricComparison",
    "MetricName",
    "Mismatch",
    "ObjectiveComparison",
    "OperationKey",
    "Outcome",
    "RunSummary",
]

MetricName = Literal["latency", "p95", "p99", "error_rate", "throughput"]
"""What is compared per operation.

``latency``: Mann-Whitney U with the Hodges-Lehmann shift and its confidence interval;
``p95``/``p99``: bootstrap interval of the difference of nearest-rank percentiles;
``error_rate``: two-proportion test and Newcombe's score interval of the difference;
``throughput``: successful operations per second (per-second counts, normal interval).
"""

METRICS: Final[tuple[MetricName, ...]] = ("latency", "p95", "p99", "error_rate", "throughput")


class Change(enum.StrEnum):
    """How the candidate moved, judged against the tolerance at the stated confidence.

    ``no_data`` (too few samples in either run) is never "same": it is not evidence.
    """

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    NO_DATA = "no_data"


class Outcome(enum.StrEnum):
    """The overall verdict of a comparison; ``regression`` fails the gate (exit 1)."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    SAME = "same"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed confidence interval ``[low, high]``."""

    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        """Both ends times ``factor`` (``factor > 0``), e.g. ms -> % of a baseline value."""
        return Interval(self.low * factor, self.high * factor)


@dataclass(frozen=True, slots=True, order=True)
class OperationKey:
    """One operation of a run: a sample ``kind`` x ``name`` x ``tier`` (tier may be empty)."""

    kind: str
    name: str
    tier: str = ""

    @property
    def label(self) -> str:
        """``"http GET /v1/runs [team]"``: how reports name the operation."""
        tier = f" [{self.tier}]" if self.tier else ""
        return f"{self.kind} {self.name}{tier}"


@dataclass(frozen=True, slots=True)
class CompareSettings:
    """Tolerances and statistical knobs of a comparison (all have sane defaults).

    Tolerances are **relative to the baseline's value** (0.10 = 10 % of the baseline's
    median, P95, P99 or throughput), except ``error_rate_tolerance_pp``, which is absolute
    in percentage points because a baseline error rate is often 0. ``None`` turns a
    metric's gate off: it is still reported and classified (with no tolerance, at the
    nominal confidence), but it never fails the comparison and is not counted in the
    multiple-comparison family.

    Example::

        CompareSettings(p95_tolerance=0.10, confidence=0.95)   # P95 may not get > 10 % worse
    """

    confidence: float = 0.95
    latency_tolerance: float | None = 0.10
    p95_tolerance: float | None = 0.10
    p99_tolerance: float | None = 0.20
    error_rate_tolerance_pp: float | None = 0.1
    throughput_tolerance: float | None = 0.10
    correction: Literal["bonferroni", "none"] = "bonferroni"
    min_samples: int = 30
    min_seconds: int = 5
    bootstrap_resamples: int = 2000
    max_rank_samples: int = 20_000
    seed: int = 0
    corrected_latency: bool = True

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if not 100 <= self.bootstrap_resamples <= 100_000:
            raise ValueError("bootstrap_resamples must be between 100 and 100,000")
        if self.min_samples < 2 or self.max_rank_samples < 100 or self.min_seconds < 2:
            raise ValueError("min_samples >= 2, min_seconds >= 2 and max_rank_samples >= 100")
        for name in ("latency_tolerance", "p95_tolerance", "p99_tolerance",
                     "error_rate_tolerance_pp", "throughput_tolerance"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 100:
                raise ValueError(f"{name} must be in [0, 100), got {value}")

    def tolerance(self, metric: MetricName) -> float | None:
        """The tolerance of ``metric``: a fraction of the baseline, or pp for error rate."""
        return {
            "latency": self.latency_tolerance,
            "p95": self.p95_tolerance,
            "p99": self.p99_tolerance,
            "error_rate": self.error_rate_tolerance_pp,
            "throughput": self.throughput_tolerance,
        }[metric]


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One metric of one operation, baseline against candidate.

    ``delta`` is candidate minus baseline in ``unit`` (for ``latency``: the Hodges-Lehmann
    shift; for ``error_rate``: percentage points). ``change_pct`` is ``delta`` as a share
    of the baseline value (``None`` when the baseline is 0). The intervals are at
    ``confidence``, which is already adjusted for multiple comparisons when ``gated``.
    """

    operation: OperationKey
    metric: MetricName
    unit: str
    change: Change
    baseline: float | None = None
    candidate: float | None = None
    delta: float | None = None
    delta_ci: Interval | None = None
    change_pct: float | None = None
    change_pct_ci: Interval | None = None
    tolerance: float | None = None
    tolerance_text: str = ""
    confidence: float = 0.95
    p_value: float | None = None
    n_baseline: int = 0
    n_candidate: int = 0
    gated: bool = True
    method: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ObjectiveComparison:
    """An SLO objective judged in both runs (from their ``verdict.json``).

    No test here: the objective's value is one number per run. It is ``worse`` when the
    candidate fails an objective the baseline did not fail (a regression of the SLO
    status), ``better`` for the reverse, and ``same`` otherwise; the values are shown so a
    reader sees how close to the threshold each run was.
    """

    name: str
    sli: str
    unit: str
    baseline_status: str
    candidate_status: str
    change: Change
    baseline: float | None = None
    candidate: float | None = None
    change_pct: float | None = None
    threshold_text: str = ""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A difference between the runs' set-ups that makes the comparison questionable."""

    field: str
    baseline: str
    candidate: str
    kind: Literal["scenario", "rate", "duration"] = "scenario"

    def sentence(self) -> str:
        return f"{self.field}: {self.baseline} (baseline) vs {self.candidate} (candidate)"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Identity and size of one compared run."""

    path: str
    run_id: str
    release: str | None
    status: str
    started_at: float
    window_s: float
    samples: int
    verdict_status: str | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The whole comparison; ``outcome`` decides the gate.

    ``tests`` is the size of the multiple-comparison family (gated metrics with data);
    ``per_test_confidence`` is the confidence each gated interval was computed at.
    """

    baseline: RunSummary
    candidate: RunSummary
    settings: CompareSettings
    outcome: Outcome
    metrics: tuple[MetricComparison, ...]
    objectives: tuple[ObjectiveComparison, ...] = ()
    mismatches: tuple[Mismatch, ...] = ()
    allowed_different: bool = False
    only_in_baseline: tuple[OperationKey, ...] = ()
    only_in_candidate: tuple[OperationKey, ...] = ()
    tests: int = 0
    per_test_confidence: float = 0.95
    created_at: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def regressions(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.change is Change.WORSE)

    @property
    def improvements(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.change is Change.BETTER)

    @property
    def objective_regressions(self) -> tuple[ObjectiveComparison, ...]:
        return tuple(o for o in self.objectives if o.change is Change.WORSE)
