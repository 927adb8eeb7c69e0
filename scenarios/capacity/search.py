"""The capacity search as a pure state machine: step outcomes in, the next level out.

It neither drives load nor judges: the caller runs a step at the proposed level, has it
judged (pass / fail on an objective / inconclusive), appends the :class:`StepResult` to the
history and asks :func:`decide` again. The state *is* the history, so any search can be
replayed from its ``capacity.json`` and every decision is a function of the steps alone.

The strategy (docs/capacity.md):

1. **Grow** geometrically from ``start`` (x ``growth``, capped at ``ceiling``) while steps pass.
2. A first step that fails is followed by one step at ``floor``: if that fails too the
   target holds no load we can offer (capacity 0); otherwise the answer lies in between.
3. **Bisect** geometrically (``sqrt(lo * hi)``; levels span decades, so the middle of a
   ratio is the right middle) between the highest passing level ``lo`` and the lowest
   failing level ``hi`` until ``hi / lo <= 1 + precision`` (or they are adjacent whole
   numbers when the level counts users, sessions or tenants).
4. **Confirm**: hold ``lo`` once more, longer. If it holds, that is the answer; if not,
   ``lo`` becomes the lowest failure and the search bisects below it.
5. A step at the ceiling that passes (and is confirmed) answers "at least the ceiling".
6. An **inconclusive** step (the load generator, not the target, was the limit) stops the
   search at once: no number is better than a generator's limit reported as the target's.

Step count (tested on tables): with the defaults (growth 5, precision 12 %) an answer
anywhere in a 100x range above ``start`` is bracketed within 8 steps, before the
confirmation hold: at most 4 growing steps (x1, x5, x25, x125) and 4 halvings of the
ratio 5 (5 ** (1/16) = 1.106).

Example::

    cfg = SearchConfig(start=10, ceiling=1000)
    history: list[StepResult] = []
    while isinstance(d := decide(cfg, history), Probe):
        history.append(StepResult(d.level, judge_at(d.level), confirm=d.confirm))
    d.kind, d.level   # (Conclusion.FOUND, 40.0)
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Conclusion",
    "Done",
    "Outcome",
    "Probe",
    "SearchConfig",
    "StepResult",
    "bracket",
    "decide",
]


class Outcome(enum.StrEnum):
    """How one step was judged."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Conclusion(enum.StrEnum):
    """How a finished search ended."""

    FOUND = "found"  # lo held (confirmed), hi broke an objective
    AT_LEAST_CEILING = "at_least_ceiling"  # the ceiling held: the answer is above it
    ZERO = "zero"  # even the floor broke an objective
    INCONCLUSIVE = "inconclusive"  # the generator was the limit at some step
    EXHAUSTED = "exhausted"  # out of steps or time before converging: lo is a lower bound


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """Bounds and shape of the search.

    ``floor`` is the lowest level tried after a first failure (default ``start / 10``, at
    least 1 for whole-number levels); ``integer`` rounds levels to whole numbers (users,
    sessions, tenants); ``max_steps`` counts every step including confirmations.
    """

    start: float
    ceiling: float
    growth: float = 5.0
    precision: float = 0.12
    floor: float | None = None
    integer: bool = False
    confirm: bool = True
    max_steps: int = 16

    def __post_init__(self) -> None:
        if not (self.start > 0 and math.isfinite(self.start)):
            raise ValueError(f"the first level must be > 0, got {self.start}")
        if not self.ceiling >= self.start:
            raise ValueError(f"the ceiling ({self.ceiling:g}) is below the first level ({self.start:g})")
        if self.growth <= 1.0:
            raise ValueError(f"growth must be > 1, got {self.growth}")
        if self.precision <= 0.0:
            raise ValueError(f"precision must be > 0, got {self.precision}")
        if self.floor is not None and not 0 < self.floor <= self.start:
            raise ValueError(f"floor must be in (0, first level], got {self.floor}")

    @property
    def lowest(self) -> float:
        """The floor actually used."""
        if self.floor is not None:
            return self._round(self.floor)
        return max(1.0, round(self.start / 10)) if self.integer else self.start / 10

    def _round(self, level: float) -> float:
        return float(max(1, round(level))) if self.integer else level


@dataclass(frozen=True, slots=True)
class StepResult:
    """One judged step: ``objective`` names the broken objective of a failure (or why a
    step was inconclusive); ``confirm`` marks a confirmation hold."""

    level: float
    outcome: Outcome
    objective: str | None = None
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class Probe:
    """Run the next step at ``level``; ``phase`` says why (grow, floor, bisect, confirm)."""

    level: float
    phase: str
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class Done:
    """The search is over. ``level`` is the sustainable level (``None`` when inconclusive
    before any pass); ``failed_at`` the lowest level that broke an objective (``None`` if
    none did); ``objective`` the objective that broke there."""

    kind: Conclusion
    level: float | None
    failed_at: float | None
    objective: str | None
    reason: str


def decide(config: SearchConfig, history: Sequence[StepResult]) -> Probe | Done:
    """The next step, or the conclusion, from the steps so far (pure)."""
    if not history:
        return Probe(config._round(config.start), "grow")
    last = history[-1]
    lo, hi, hi_objective = bracket(history)
    if last.outcome is Outcome.INCONCLUSIVE:
        return Done(Conclusion.INCONCLUSIVE, lo, hi, hi_objective,
                    f"the step at {last.level:g} was inconclusive: {last.objective or 'generator limit'}")
    if last.confirm and last.outcome is Outcome.PASS:
        kind = Conclusion.AT_LEAST_CEILING if last.level >= config.ceiling else Conclusion.FOUND
        return Done(kind, last.level, hi, hi_objective, "confirmed by a longer hold")
    if len(history) >= config.max_steps:
        return Done(Conclusion.EXHAUSTED, lo, hi, hi_objective,
                    f"stopped after {len(history)} steps (the step limit) before converging")
    if hi is None:  # nothing failed yet: grow, or confirm the ceiling
        assert lo is not None
        if lo >= config.ceiling:
            return _confirm(config, lo)
        return Probe(min(config.ceiling, config._round(lo * config.growth)), "grow")
    if lo is None:  # something failed and nothing below it held
        floor = config.lowest
        if hi <= floor or any(s.level <= floor for s in history):
            return Done(Conclusion.ZERO, None, hi, hi_objective,
                        f"even the lowest level tried ({min(floor, hi):g}) broke {hi_objective}")
        return Probe(floor, "floor")
    if _converged(config, lo, hi):
        return _confirm(config, lo)
    return Probe(_middle(config, lo, hi), "bisect")


def _confirm(config: SearchConfig, lo: float) -> Probe | Done:
    if not config.confirm:
        return Done(
            Conclusion.AT_LEAST_CEILING if lo >= config.ceiling else Conclusion.FOUND,
            lo, None, None, "not confirmed (confirmation disabled)")
    return Probe(lo, "confirm", confirm=True)


def bracket(history: Sequence[StepResult]) -> tuple[float | None, float | None, str | None]:
    """(highest pass below every failure, lowest failure, its objective).

    A failed confirmation turns its level into a failure, so the passes at or above the
    lowest failure no longer count: only levels strictly below it bracket the answer.
    """
    failures = [s for s in history if s.outcome is Outcome.FAIL]
    hi_step = min(failures, key=lambda s: s.level, default=None)
    hi = hi_step.level if hi_step is not None else None
    passes = [s.level for s in history if s.outcome is Outcome.PASS and (hi is None or s.level < hi)]
    lo = max(passes, default=None)
    return lo, hi, (hi_step.objective if hi_step is not None else None)


def _converged(config: SearchConfig, lo: float, hi: float) -> bool:
    if config.integer and hi - lo <= 1:
        return True
    return hi / lo <= 1.0 + config.precision + 1e-12


def _middle(config: SearchConfig, lo: float, hi: float) -> float:
    mid = math.sqrt(lo * hi)
    if not config.integer:
        return mid
    whole = float(round(mid))
    return min(max(whole, lo + 1), hi - 1)  # strictly inside, since hi - lo >= 2
