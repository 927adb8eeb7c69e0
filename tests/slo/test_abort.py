"""``abort_on``: the SLO field (validated with file, line and field) and the pure live
burn-rate check, table-tested with hand-computed burn rates."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from foundation.errors import ConfigError
from slo.abort import BurnWatch, abort_from_record, abort_rules
from slo.spec.load import parse_slo

T0 = 1_764_000_000.0

SLO = """\
objectives:
  - name: avail
    sli: availability
    target: 99
    select: {kind: http}
    abort_on: {burn_rate: 14.4, window: 10s, min_events: 20}
"""


def _table(ts: np.ndarray, ok: np.ndarray, kind: str = "http") -> pa.Table:
    n = ts.shape[0]
    return pa.table({"ts": ts, "ok": ok, "kind": [kind] * n, "name": ["GET /x"] * n,
                     "tier": [""] * n, "tenant": [""] * n})


def _watch(text: str = SLO) -> BurnWatch:
    return BurnWatch(abort_rules(parse_slo(text).objectives))


@pytest.mark.parametrize(
    ("bad", "fires", "rate"),
    [
        # 100 sends in the last 10 s, allowed 1 %: 14 bad = 14x (below 14.4), 15 bad = 15x.
        pytest.param(14, False, None, id="14_of_100_is_14x"),
        pytest.param(15, True, 15.0, id="15_of_100_is_15x"),
        pytest.param(100, True, 100.0, id="all_bad_is_100x"),
    ],
)
def test_burn_over_the_window(bad: int, fires: bool, rate: float | None) -> None:
    watch = _watch()
    ts = T0 + np.arange(100) * 0.1  # 0.0 .. 9.9 s
    ok = np.ones(100, dtype=bool)
    ok[100 - bad:] = False
    watch.feed(_table(ts, ok))
    result = watch.check(T0 + 9.95)
    assert (result is not None) is fires
    if result is not None:
        assert result.objective == "avail" and result.burn_rate == pytest.approx(rate)
        assert result.threshold == 14.4 and result.window_s == 10.0
        assert abort_from_record({"at": result.at, "reason": result.reason}) == result.__class__(
            "avail", result.reason, result.at, pytest.approx(rate, abs=0.05), 14.4, 10.0)


def test_old_sends_leave_the_window_and_other_kinds_are_ignored() -> None:
    """50 bad sends at 0..4.9 s; at 20 s the window (10, 20] holds only 100 good ones."""
    watch = _watch()
    watch.feed(_table(T0 + np.arange(50) * 0.1, np.zeros(50, dtype=bool)))
    assert watch.check(T0 + 4.95) is not None  # then, the bad sends were the window
    watch.feed(_table(T0 + 10.05 + np.arange(100) * 0.1, np.ones(100, dtype=bool)))
    watch.feed(_table(T0 + 15 + np.arange(100) * 0.01, np.zeros(100, dtype=bool), "ws_message"))
    assert watch.check(T0 + 20.0) is None


def test_too_few_events_never_abort() -> None:
    watch = _watch()
    watch.feed(_table(T0 + np.arange(19) * 0.1, np.zeros(19, dtype=bool)))
    assert watch.check(T0 + 2.0) is None  # 19 < min_events 20


def test_warmup_sends_are_ignored() -> None:
    text = SLO.replace("    select:", "    warmup: 5s\n    select:")
    watch = _watch(text)
    watch.feed(_table(T0 + np.arange(50) * 0.1, np.zeros(50, dtype=bool)))  # 0 .. 4.9 s
    watch.feed(_table(T0 + 5 + np.arange(30) * 0.1, np.ones(30, dtype=bool)))
    assert watch.check(T0 + 8.0) is None


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        pytest.param(SLO.replace("burn_rate: 14.4", "burn_rate: -1"), 6,
                     "objectives[0].abort_on.burn_rate", "greater than 0", id="negative_burn"),
        pytest.param(SLO.replace("window: 10s", "window: soon"), 6,
                     "objectives[0].abort_on.window", "", id="bad_window"),
        pytest.param("objectives:\n  - name: d\n    sli: ws_drop_rate\n    threshold_percent: 1\n"
                     "    abort_on: {burn_rate: 2, window: 1m}\n", 5,
                     "objectives[0].abort_on", "per-send budget", id="drop_rate_has_none"),
        pytest.param("objectives:\n  - name: l\n    sli: latency\n    percentile: 95\n"
                     "    threshold_ms: 5\n    abort_on: {burn_rate: 2, window: 1m}\n", 6,
                     "objectives[0].abort_on", "", id="latency_has_none"),
    ],
)
def test_bad_abort_on_names_line_and_field(text: str, line: int, field: str,
                                           message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_slo(text, source="slo.yaml")
    err = info.value
    assert (err.path, err.field) == ("slo.yaml", field), str(err)
    assert err.line == line, str(err)
    assert message in str(err)


def test_reason_from_elsewhere_keeps_the_text() -> None:
    got = abort_from_record({"at": 5, "reason": "stopped by hand"})
    assert got is not None and got.objective == "" and got.burn_rate is None and got.at == 5.0
    assert abort_from_record(None) is None
