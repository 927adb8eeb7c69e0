"""Multi-window, multi-burn-rate alerts replayed over a run's timeline (pure numpy).

Source: Google SRE Workbook, ch. 5 "Alerting on SLOs", section 6 "Multiwindow,
Multi-Burn-Rate Alerts". An alert fires when the burn rate over **both** a long window and a
short window (1/12 of it) is at or above its threshold; the recommended set for a 30-day
SLO is:

========  ==========  ============  =============  ===============================
severity  burn rate   long window   short window   budget consumed at detection
========  ==========  ============  =============  ===============================
page      14.4        1 h           5 m            2 %
page      6           6 h           30 m           5 %
ticket    1           3 d           6 h            10 %
========  ==========  ============  =============  ===============================

Each rule is kept as its budget share, so for another compliance window the threshold is
``share x window / long_window`` (14.4 for 30 days; 13.44 for 28 days).

Scaling for short runs (documented in docs/slo.md): a load test rarely lasts an hour, so
the Workbook windows would never fill. For a run of ``D < 1 h`` every window (long and
short) is multiplied by ``s = D / 1 h`` -- the run is treated as a compressed hour, so the
fast page compares the whole run with its last twelfth. Any window still longer than the
run is clipped to the run (then ``clipped`` is true and the long window is the whole run).
Runs of an hour or more use the Workbook windows, clipped to the run. Burn-rate thresholds
are never scaled: a burn rate is already a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "WORKBOOK_RULES",
    "AlertResult",
    "AlertRule",
    "replay_alerts",
    "scaled_windows",
]

_HOUR: Final = 3600.0
_DAY: Final = 86400.0
_WORKBOOK_WINDOW: Final = 30 * _DAY


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One multi-window alert, defined by the share of the window's budget it guards."""

    name: str
    severity: Literal["page", "ticket"]
    budget_share: float
    long_window_s: float
    short_window_s: float

    def threshold(self, window_s: float) -> float:
        """Burn rate that spends ``budget_share`` of a ``window_s`` budget in the long window."""
        return self.budget_share * window_s / self.long_window_s


WORKBOOK_RULES: Final[tuple[AlertRule, ...]] = (
    AlertRule("page-1h", "page", 0.02, _HOUR, 5 * 60.0),
    AlertRule("page-6h", "page", 0.05, 6 * _HOUR, 30 * 60.0),
    AlertRule("ticket-3d", "ticket", 0.10, 3 * _DAY, 6 * _HOUR),
)
"""The Workbook's recommended set (thresholds 14.4, 6 and 1 for a 30-day window)."""


@dataclass(frozen=True, slots=True)
class AlertResult:
    """What one rule would have done during the run.

    ``peak_burn`` is the largest ``min(long-window burn, short-window burn)`` over the run: the
    alert fired exactly when it reached ``threshold``. ``first_fired_s`` is seconds after the
    start of the judged part of the run.
    """

    name: str
    severity: str
    threshold: float
    long_window_s: float
    short_window_s: float
    scale: float
    clipped: bool
    fired: bool
    first_fired_s: float | None
    peak_burn: float | None


def scaled_windows(rule: AlertRule, duration_s: float) -> tuple[float, float, float, bool]:
    """``(long, short, scale, clipped)`` for a run of ``duration_s`` (module docstring)."""
    scale = min(1.0, duration_s / _HOUR) if duration_s > 0 else 1.0
    long_w, short_w = rule.long_window_s * scale, rule.short_window_s * scale
    clipped = long_w > duration_s or short_w > duration_s
    return min(long_w, duration_s), min(short_w, duration_s), scale, clipped


def replay_alerts(
    offsets_s: npt.NDArray[np.float64],
    bad: npt.NDArray[np.bool_],
    duration_s: float,
    allowed_bad_ratio: float,
    window_s: float,
    rules: tuple[AlertRule, ...] = WORKBOOK_RULES,
) -> tuple[AlertResult, ...]:
    """Replay ``rules`` over events at ``offsets_s`` (seconds from start) flagged ``bad``.

    Events are binned once, at a step of at most 1 s (finer when a scaled short window is
    shorter than 5 s); trailing-window sums come from cumulative sums, so the cost is
    O(events) once plus O(bins) per rule. Windows are only evaluated once the long window fits inside
    the run, so the first seconds of a run cannot page on a handful of events.
    """
    if duration_s <= 0 or offsets_s.shape[0] == 0:
        return tuple(_empty(rule, duration_s, window_s) for rule in rules)
    windows = [scaled_windows(rule, duration_s) for rule in rules]
    # One binning for all rules, at the finest step any of them needs.
    step = max(0.01, min(1.0, min(short for _, short, _, _ in windows) / 5.0))
    nbins = max(1, math.ceil(duration_s / step))
    idx = (offsets_s * (1.0 / step)).astype(np.int64)
    np.clip(idx, 0, nbins - 1, out=idx)
    total_c = np.concatenate(([0], np.cumsum(np.bincount(idx, minlength=nbins))))
    bad_c = np.concatenate(([0], np.cumsum(np.bincount(idx[bad], minlength=nbins))))
    out: list[AlertResult] = []
    for rule, (long_w, short_w, scale, clipped) in zip(rules, windows, strict=True):
        long_b = max(1, round(long_w / step))
        short_b = max(1, round(short_w / step))
        ends = np.arange(min(long_b, nbins), nbins + 1)
        burn_long = _burn(total_c, bad_c, ends, long_b, allowed_bad_ratio)
        burn_short = _burn(total_c, bad_c, ends, short_b, allowed_bad_ratio)
        both = np.fmin(burn_long, burn_short)  # NaN (no events) loses to a number
        threshold = rule.threshold(window_s)
        valid = ~np.isnan(both)
        fired_at = np.flatnonzero(valid & (both >= threshold))
        peak = float(np.max(both[valid])) if valid.any() else None
        first = float(ends[fired_at[0]] * step) if fired_at.size else None
        out.append(
            AlertResult(
                rule.name, rule.severity, threshold, long_w, short_w, scale, clipped,
                fired_at.size > 0, first, peak,
            )
        )
    return tuple(out)


def _burn(
    total_c: npt.NDArray[np.int64],
    bad_c: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    width: int,
    allowed_bad_ratio: float,
) -> npt.NDArray[np.float64]:
    starts = np.maximum(ends - width, 0)
    total = (total_c[ends] - total_c[starts]).astype(np.float64)
    bad = (bad_c[ends] - bad_c[starts]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, bad / total / allowed_bad_ratio, np.nan)


def _empty(rule: AlertRule, duration_s: float, window_s: float) -> AlertResult:
    long_w, short_w, scale, clipped = scaled_windows(rule, max(duration_s, 0.0))
    return AlertResult(
        rule.name, rule.severity, rule.threshold(window_s), long_w, short_w, scale, clipped,
        False, None, None,
    )
