"""Frozen results of judging faults and an early stop: what ``verdict.json`` (v2) adds.

Computed by :mod:`slo.recovery` (faults) and :mod:`slo.abort` (``abort_on``); stored by
:mod:`slo.verdict`; rendered by ``reports/`` without recomputing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from slo._types import Status

__all__ = ["AbortResult", "FaultBudget", "FaultResult", "PhaseObjective", "PhaseResult"]


@dataclass(frozen=True, slots=True)
class PhaseObjective:
    """One objective judged over one phase only."""

    name: str
    status: Status
    value: float | None
    events: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """The steady-state hypothesis over one phase: ``before``, ``during`` or ``after`` a fault.

    ``status`` is the worst objective status (optional objectives without data left out).
    """

    phase: str
    start: float
    end: float
    status: Status
    objectives: tuple[PhaseObjective, ...] = ()


@dataclass(frozen=True, slots=True)
class FaultBudget:
    """Error budget one fault consumed for one objective.

    ``bad`` events fell between the fault's start and the SLI recovery (or the run's end);
    ``consumed`` is their share of the *run's* allowance, ``allowed_bad_ratio x events of the
    run`` (1.0 = this fault alone spent the whole run's budget).
    """

    objective: str
    bad: int
    allowed_bad: float
    consumed: float | None


@dataclass(frozen=True, slots=True)
class FaultResult:
    """One fault: when it happened, whether and how fast things recovered, and its cost.

    ``sli_recovery_s``: seconds from ``end`` to the start of the first ``window_s`` window in
    which every sample objective was within its threshold (docs/slo.md, "Recovery");
    ``health_recovery_s``: from the health probe's ``recovery: <name>`` sample. ``None`` where
    nothing was measured. ``recovered`` needs both (when both exist); ``recovery_s`` is the
    later of the two -- what "recovered in X s" prints.
    """

    index: int
    name: str
    action: str
    component: str
    fault_status: str
    start: float | None
    end: float | None
    recovered: bool
    recovery_s: float | None
    sli_recovered: bool
    sli_recovery_s: float | None
    health_recovered: bool | None
    health_recovery_s: float | None
    observed_s: float | None
    window_s: float
    note: str = ""
    budgets: tuple[FaultBudget, ...] = ()
    phases: tuple[PhaseResult, ...] = ()

    @property
    def summary(self) -> str:
        """``recovered in 12.3 s`` / ``not recovered`` / ``not measured``."""
        if self.recovered and self.recovery_s is not None:
            return f"recovered in {self.recovery_s:.1f} s"
        if self.start is None:
            return "did not happen" + (f" ({self.fault_status})" if self.fault_status else "")
        return "not recovered"


@dataclass(frozen=True, slots=True)
class AbortResult:
    """Why the run was stopped early by an objective's ``abort_on``.

    ``at`` is when the live check fired (epoch s); ``burn_rate`` over the last ``window_s``
    reached ``threshold``.
    """

    objective: str
    reason: str
    at: float | None
    burn_rate: float | None
    threshold: float | None
    window_s: float | None
