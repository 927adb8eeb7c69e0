"""Error budgets and burn rates: pure arithmetic, each formula with its source.

Sources:

- Google SRE Workbook (Beyer et al., O'Reilly 2018), ch. 2 "Implementing SLOs": the error
  budget is ``1 - SLO`` of the events in the compliance period; allowed bad events =
  ``(1 - target) x total``.
- Google SRE Workbook, ch. 5 "Alerting on SLOs": "burn rate is how fast, relative to the
  SLO, the service consumes the error budget"; a burn rate of 1 spends exactly the whole
  budget over the compliance window. Burn rate = observed error ratio / (1 - SLO), and the
  share of the window's budget consumed while burning at rate ``b`` for time ``t`` is
  ``b x t / window`` (their table: 14.4x for 1 h = 2 % of a 30-day budget).

Also: slo-generator's ``SLOReport.build`` computes the same quantities
(``error_budget_burn_rate = error_rate / (1 - target)``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "RunBudget",
    "burn_rate",
    "burn_rate_for_consumption",
    "run_budget",
    "window_budget_consumed",
]


@dataclass(frozen=True, slots=True)
class RunBudget:
    """The error budget of the run's own events.

    ``consumed`` is the share of the run's allowance spent (1.0 = exactly used up; it can
    exceed 1). ``None`` when there were no events.

    Example::

        b = run_budget(bad=3, total=10_000, allowed_bad_ratio=0.001)
        b.allowed_bad, b.consumed   # (10.0, 0.3)
    """

    total: int
    bad: int
    allowed_bad_ratio: float
    allowed_bad: float
    consumed: float | None
    remaining: float


def run_budget(bad: int, total: int, allowed_bad_ratio: float) -> RunBudget:
    """Allowed bad events = ``(1 - target) x total`` (SRE Workbook ch. 2); share consumed."""
    _check(bad, total, allowed_bad_ratio)
    allowed = allowed_bad_ratio * total
    consumed = None if total == 0 else bad / allowed
    return RunBudget(total, bad, allowed_bad_ratio, allowed, consumed, allowed - bad)


def burn_rate(bad: int, total: int, allowed_bad_ratio: float) -> float | None:
    """Observed error ratio / (1 - target) (SRE Workbook ch. 5); ``None`` without events."""
    _check(bad, total, allowed_bad_ratio)
    if total == 0:
        return None
    return (bad / total) / allowed_bad_ratio


def window_budget_consumed(rate: float, duration_s: float, window_s: float) -> float:
    """Share of a compliance window's budget spent burning at ``rate`` for ``duration_s``.

    ``rate x duration / window`` (SRE Workbook ch. 5, section "Alert on burn rate": budget
    consumed = burn rate x alert window / period). 14.4 over 1 h of 30 days -> 0.02.
    """
    if window_s <= 0 or duration_s < 0 or rate < 0:
        raise ValueError("window must be positive, duration and rate non-negative")
    return rate * duration_s / window_s


def burn_rate_for_consumption(consumed: float, duration_s: float, window_s: float) -> float:
    """The burn rate that spends ``consumed`` of the window's budget in ``duration_s``.

    Inverse of :func:`window_budget_consumed`: ``consumed x window / duration``; this is how
    the Workbook derives 14.4 (2 % in 1 h), 6 (5 % in 6 h) and 1 (10 % in 3 days).
    """
    if duration_s <= 0 or window_s <= 0 or consumed < 0:
        raise ValueError("duration and window must be positive, consumed non-negative")
    return consumed * window_s / duration_s


def _check(bad: int, total: int, allowed_bad_ratio: float) -> None:
    if not 0 < allowed_bad_ratio < 1:
        raise ValueError(f"the allowed bad ratio must be in (0, 1), got {allowed_bad_ratio}")
    if bad < 0 or total < 0 or bad > total:
        raise ValueError(f"need 0 <= bad <= total, got bad={bad}, total={total}")
