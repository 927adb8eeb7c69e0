"""Error budgets and burn rates against the Google SRE Workbook, ch. 5 "Alerting on SLOs"."""

from __future__ import annotations

import numpy as np
import pytest

from slo.budget import (
    burn_rate,
    burn_rate_for_consumption,
    run_budget,
    window_budget_consumed,
)
from slo.burn import WORKBOOK_RULES, replay_alerts, scaled_windows

HOUR = 3600.0
DAY = 86400.0
MONTH = 30 * DAY

# The Workbook's multiwindow table for a 30-day SLO: (burn rate, long window, budget consumed).
WORKBOOK = [
    pytest.param(14.4, 1 * HOUR, 0.02, id="page_14.4x_1h_2pct"),
    pytest.param(6.0, 6 * HOUR, 0.05, id="page_6x_6h_5pct"),
    pytest.param(1.0, 3 * DAY, 0.10, id="ticket_1x_3d_10pct"),
]


@pytest.mark.parametrize(("rate", "window", "consumed"), WORKBOOK)
def test_budget_consumed_matches_workbook_table(rate: float, window: float, consumed: float) -> None:
    assert window_budget_consumed(rate, window, MONTH) == pytest.approx(consumed)
    assert burn_rate_for_consumption(consumed, window, MONTH) == pytest.approx(rate)


@pytest.mark.parametrize(("rate", "window", "consumed"), WORKBOOK)
def test_rules_carry_the_workbook_thresholds(rate: float, window: float, consumed: float) -> None:
    (rule,) = [r for r in WORKBOOK_RULES if r.long_window_s == window]
    assert rule.threshold(MONTH) == pytest.approx(rate)
    assert rule.budget_share == pytest.approx(consumed)
    assert rule.short_window_s == pytest.approx(window / 12)  # Workbook: short = long / 12


def test_threshold_scales_with_the_compliance_window() -> None:
    assert WORKBOOK_RULES[0].threshold(28 * DAY) == pytest.approx(13.44)


def test_burn_rate_is_error_ratio_over_allowed_ratio() -> None:
    # 99.9 % SLO, 0.5 % errors -> burning 5x (Workbook: "a burn rate of 1 ... exactly the budget")
    assert burn_rate(50, 10_000, 0.001) == pytest.approx(5.0)
    assert burn_rate(10, 10_000, 0.001) == pytest.approx(1.0)
    assert burn_rate(0, 0, 0.001) is None


BUDGETS = [
    pytest.param(3, 10_000, 0.001, 10.0, 0.3, id="within_budget"),
    pytest.param(10, 10_000, 0.001, 10.0, 1.0, id="exactly_spent"),
    pytest.param(25, 10_000, 0.001, 10.0, 2.5, id="overspent"),
    pytest.param(0, 0, 0.001, 0.0, None, id="no_events"),
]


@pytest.mark.parametrize(("bad", "total", "ratio", "allowed", "consumed"), BUDGETS)
def test_run_budget(
    bad: int, total: int, ratio: float, allowed: float, consumed: float | None
) -> None:
    b = run_budget(bad, total, ratio)
    assert b.allowed_bad == pytest.approx(allowed)
    assert b.consumed == (None if consumed is None else pytest.approx(consumed))
    assert b.remaining == pytest.approx(allowed - bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [((5, 3, 0.01), "bad <= total"), ((1, 3, 0.0), "allowed bad ratio"), ((1, 3, 1.0), "ratio")],
)
def test_budget_rejects_nonsense(args: tuple[int, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_budget(*args)


def _timeline(
    duration: float, rate_per_s: float, error_ratio: float, burst: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Events at a steady rate; inside ``burst`` (start, end, ratio) errors at ``ratio``."""
    rng = np.random.default_rng(11)
    n = int(duration * rate_per_s)
    offsets = np.sort(rng.random(n) * duration)
    ratio = np.where((offsets >= burst[0]) & (offsets < burst[1]), burst[2], error_ratio)
    return offsets, rng.random(n) < ratio


def test_fast_burn_pages_within_the_hour_and_not_below_threshold() -> None:
    """A 3-hour run at 99.9 %: a 20x burn for an hour pages; a 10x burn does not."""
    allowed = 0.001
    offsets, bad = _timeline(3 * HOUR, 20, 0.0, (HOUR, 2 * HOUR, 20 * allowed))
    alerts = {a.name: a for a in replay_alerts(offsets, bad, 3 * HOUR, allowed, MONTH)}
    page = alerts["page-1h"]
    assert page.fired and page.scale == 1.0 and not page.clipped
    # Fires once the 1 h window holds 14.4/20 of an hour of burst: about 43 min in, not before.
    assert page.first_fired_s is not None
    assert HOUR + 0.70 * HOUR < page.first_fired_s < HOUR + 0.76 * HOUR
    assert alerts["page-6h"].clipped  # 6 h window clipped to the 3 h run

    offsets, bad = _timeline(3 * HOUR, 20, 0.0, (HOUR, 2 * HOUR, 10 * allowed))
    quiet = {a.name: a for a in replay_alerts(offsets, bad, 3 * HOUR, allowed, MONTH)}
    assert not quiet["page-1h"].fired
    assert quiet["page-1h"].peak_burn == pytest.approx(10, rel=0.1)


def test_short_run_windows_are_scaled_then_clipped() -> None:
    """A 10-minute run is a compressed hour: 1 h -> 10 min, 5 m -> 50 s (docs/slo.md)."""
    page, slow, ticket = (scaled_windows(r, 600.0) for r in WORKBOOK_RULES)
    assert page == pytest.approx((600.0, 50.0, 1 / 6, False))
    assert slow[:2] == pytest.approx((600.0, 300.0)) and slow[3]  # 6 h * 1/6 = 1 h > run
    assert ticket[:2] == pytest.approx((600.0, 600.0)) and ticket[3]


def test_short_run_steady_burn_above_threshold_pages() -> None:
    allowed = 0.001
    offsets, bad = _timeline(600.0, 50, 16 * allowed, (0, 0, 0))
    alerts = {a.name: a for a in replay_alerts(offsets, bad, 600.0, allowed, MONTH)}
    assert alerts["page-1h"].fired and alerts["page-6h"].fired and alerts["ticket-3d"].fired
    offsets, bad = _timeline(600.0, 50, 3 * allowed, (0, 0, 0))
    alerts = {a.name: a for a in replay_alerts(offsets, bad, 600.0, allowed, MONTH)}
    assert not alerts["page-1h"].fired and not alerts["page-6h"].fired
    assert alerts["ticket-3d"].fired  # 3x over the whole run exceeds the 1x ticket


def test_no_events_no_alerts() -> None:
    alerts = replay_alerts(np.empty(0), np.empty(0, dtype=bool), 60.0, 0.001, MONTH)
    assert all(not a.fired and a.peak_burn is None for a in alerts)
