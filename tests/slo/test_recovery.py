"""Recovery, per-fault budget and phases (slo/recovery.py) against hand-computed values.

Samples are sent every 0.1 s from T0; a fault is a run.json ``faults`` entry. Every expected
number below is worked out in the test's docstring or cross-checked by brute force with
numpy (nearest-rank percentile = numpy's ``inverted_cdf``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from slo._types import Status
from slo.evaluate import evaluate, evaluate_objective
from slo.evaluate_run import EvaluateRequest, evaluate_run
from slo.faults import faults_from_run
from slo.measurements import Measurements, RunFacts
from slo.recovery import health_recovery, judge_faults, sli_recovery, window_tests
from slo.samples import SampleColumns
from slo.spec.load import parse_slo
from tests.slo.conftest import T0, samples_table

STEP = 0.1
N = 300  # 30 s of samples


def _ts(n: int = N) -> np.ndarray:
    return T0 + np.round(np.arange(n) * STEP, 6)


def _measure(ok: np.ndarray | None = None, latency: np.ndarray | None = None,
             names: list[str] | None = None, end: float = 30.0, n: int = N,
             faults: list[dict[str, Any]] | None = None) -> Measurements:
    cols: dict[str, Any] = {"ts": _ts(n)}
    if ok is not None:
        cols["ok"] = ok
    if latency is not None:
        cols["latency_ms"] = latency
    if names is not None:
        cols["name"] = names
    table = samples_table(n, **cols)
    return Measurements(RunFacts("r", T0, T0 + end), SampleColumns.from_arrow(table),
                        faults=faults_from_run(faults or []))


def _fault(start: float, end: float | None, name: str = "f", action: str = "target",
           **extra: Any) -> dict[str, Any]:
    return {"index": 0, "name": name, "action": action, "planned_at": start, "status": "done",
            "started_at": T0 + start, "ended_at": None if end is None else T0 + end, **extra}


def _objectives(text: str) -> tuple[Any, ...]:
    return parse_slo(text).objectives


ERR = "objectives: [{name: err, sli: error_rate, threshold_percent: 1, select: {kind: http}}]"
AVAIL = ("objectives: [{name: avail, sli: availability, target: 99, min_events: 10, "
         "select: {kind: http}}]")
P95 = "objectives: [{name: p95, sli: latency, percentile: 95, threshold_ms: 100}]"


def _bad_between(a: float, b: float) -> np.ndarray:
    t = np.round(np.arange(N) * STEP, 6)
    return ~((t >= a) & (t <= b))


@pytest.mark.parametrize(
    ("bad_until", "window", "expected"),
    [
        pytest.param(14.2, 1.0, 1.2, id="errors_until_14.2_window_1s"),
        # The window (s, s+5] must be clean: the last bad send is 14.2 -> still 1.2 s.
        pytest.param(14.2, 5.0, 1.2, id="errors_until_14.2_window_5s"),
        # No error after the fault's end: recovered at once.
        pytest.param(12.9, 1.0, 0.0, id="clean_after_end"),
        # Errors until 29.5: no full 1 s clean window before the run ends at 30 s.
        pytest.param(29.5, 1.0, None, id="never_clean_in_a_full_window"),
    ],
)
def test_sli_recovery_of_an_error_rate(bad_until: float, window: float,
                                       expected: float | None) -> None:
    """Fault 10..13 s; errors sent from 10 s until ``bad_until``; 1 % error budget, so any
    error in a 10-sample window breaks it."""
    m = _measure(ok=_bad_between(10.0, bad_until))
    got = sli_recovery(window_tests(_objectives(ERR), m), T0 + 13.0, T0 + 30.0, window)
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-6))


def test_percentile_recovery_matches_brute_force_nearest_rank() -> None:
    """p95 <= 100 ms over 5 s windows of 50 samples tolerates 2 slow ones (50 - ceil(47.5)).
    Slow sends until 15.0 s, fault ended at 12 s: the window after 14.8 holds 14.9 and 15.0
    -> recovered at 14.8, 2.8 s after the end. Brute force with numpy agrees."""
    t = np.round(np.arange(N) * STEP, 6)
    latency = np.where((t >= 10.0) & (t <= 15.0), 500.0, 10.0)
    m = _measure(latency=latency)
    got = sli_recovery(window_tests(_objectives(P95), m), T0 + 12.0, T0 + 30.0, 5.0)
    assert got == pytest.approx(2.8, abs=1e-6)
    for s in t[(t >= 12.0) & (t + 5.0 <= 30.0)]:  # independent check, window by window
        w = latency[(t > s + 1e-9) & (t <= s + 5.0 + 1e-9)]
        if np.percentile(w, 95, method="inverted_cdf") <= 100.0:
            assert s - 12.0 == pytest.approx(2.8, abs=1e-6)
            break


def test_health_recovery_sample_is_read_by_fault_name() -> None:
    names = ["GET /x"] * N
    names[150] = "recovery: kill #2"
    latency = np.full(N, 10.0)
    latency[150] = 4321.0
    m = _measure(latency=latency, names=names)
    assert health_recovery(m.samples, "kill #2") == (True, pytest.approx(4.321))
    assert health_recovery(m.samples, "other") is None


def test_fault_result_budget_and_phases() -> None:
    """Fault 10..13 s, errors from 10.0 to 14.2 s: 43 bad sends (10.0, 10.1, ... 14.2).
    Availability 99 % over 300 events allows 3 bad: the fault consumed 43 / 3 of the run's
    budget. Phases: before 0..10 clean (pass), during 10..13 all bad (fail), after 13..30
    holds 13 bad (13.0 .. 14.2) of 170 (7.6 %: fail)."""
    faults = [_fault(10.0, 13.0, "429 storm")]
    m = _measure(ok=_bad_between(10.0, 14.2), faults=faults)
    objectives = _objectives(AVAIL)
    (r,) = judge_faults(objectives, m, m.faults, evaluate_objective, window_s=1.0)
    assert r.recovered and r.sli_recovery_s == pytest.approx(1.2, abs=1e-6)
    assert r.recovery_s == pytest.approx(1.2, abs=1e-6) and r.summary == "recovered in 1.2 s"
    (b,) = r.budgets
    assert (b.objective, b.bad, b.allowed_bad) == ("avail", 43, pytest.approx(3.0))
    assert b.consumed == pytest.approx(43 / 3.0)
    phases = {p.phase: p for p in r.phases}
    assert [p.phase for p in r.phases] == ["before", "during", "after"]
    assert phases["before"].status is Status.PASS and phases["before"].objectives[0].events == 100
    assert phases["during"].status is Status.FAIL
    assert phases["during"].objectives[0].value == pytest.approx(0.0)
    after = phases["after"].objectives[0]
    assert after.events == 170 and after.value == pytest.approx(100 * 157 / 170)


def test_fault_never_undone_is_not_recovered() -> None:
    m = _measure(ok=_bad_between(10.0, 30.0), faults=[_fault(10.0, None, "db", "database")])
    (r,) = judge_faults(_objectives(AVAIL), m, m.faults, evaluate_objective)
    assert not r.recovered and r.recovery_s is None and r.summary == "not recovered"
    assert "never undone" in r.note and r.component == "database"
    assert r.budgets[0].bad == 200  # 10.0 .. 29.9, all counted until the run's end


def test_kill_lasts_until_recovered_and_needs_the_health_probe() -> None:
    """A kill at 10 s (start == end). Errors until 10.5, health back after 2.5 s: recovery is
    the later of SLI (0.5 s) and health (2.5 s); "during" spans 10..12.5."""
    names = ["GET /x"] * N
    names[101] = "recovery: kill"
    latency = np.full(N, 10.0)
    latency[101] = 2500.0
    ok = _bad_between(10.0, 10.5)
    ok[101] = True
    m = _measure(ok=ok, latency=latency, names=names, faults=[_fault(10.0, 10.0, "kill", "kill")])
    avail = "objectives: [{name: avail, sli: availability, target: 99, select: {name: 'GET *'}}]"
    (r,) = judge_faults(_objectives(avail), m, m.faults, evaluate_objective, window_s=1.0)
    assert r.component == "api" and r.sli_recovery_s == pytest.approx(0.5, abs=1e-6)
    assert r.health_recovery_s == pytest.approx(2.5) and r.recovery_s == pytest.approx(2.5)
    during = next(p for p in r.phases if p.phase == "during")
    assert during.end - during.start == pytest.approx(2.5)


def test_health_probe_that_never_answered_means_not_recovered() -> None:
    names = ["GET /x"] * N
    names[100] = "recovery: kill"
    ok = np.ones(N, dtype=bool)
    ok[100] = False
    m = _measure(ok=ok, names=names, faults=[_fault(10.0, 10.0, "kill", "kill")])
    avail = "objectives: [{name: avail, sli: availability, target: 99, select: {name: 'GET *'}}]"
    (r,) = judge_faults(_objectives(avail), m, m.faults, evaluate_objective)
    assert r.sli_recovered and r.health_recovered is False and not r.recovered
    assert "health probe" in r.note


def test_evaluate_run_writes_faults_into_verdict_json(make_run: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(AVAIL + "\n")
    table = samples_table(N, ts=_ts(), ok=_bad_between(10.0, 14.2))
    run = make_run([table], duration_s=30.0, faults=[_fault(10.0, 13.0, "429 storm")])
    evaluate_run(EvaluateRequest(run, slo))
    data = json.loads((run / "verdict.json").read_text())
    (fault,) = data["faults"]
    assert fault["name"] == "429 storm" and fault["recovered"] is True
    # Default 10 s window: 100 sends, of which 99 % must be good, so one bad send is
    # tolerated: (14.1, 24.1] holds only 14.2 -> recovered 1.1 s after the end at 13 s.
    assert fault["sli_recovery_s"] == pytest.approx(1.1, abs=1e-6)
    assert [p["phase"] for p in fault["phases"]] == ["before", "during", "after"]
    assert fault["budgets"][0]["bad"] == 42  # sent 10.0 .. 14.1: start to recovery


def test_no_faults_means_an_empty_list() -> None:
    m = _measure()
    assert evaluate(_objectives(AVAIL), m).faults == ()


def test_exclude_faults_judges_the_steady_state_only() -> None:
    """Errors from 10.0 to 14.2 s, fault 10..13, default 10 s window: recovered 1.1 s after
    the end (one bad send is tolerated in 100). Excluded: sends in [10, 14.1) = 41; left: 259
    sends, 2 bad (14.1, 14.2) -> 257/259. Without the option: 257/300."""
    faults = [_fault(10.0, 13.0)]
    m = _measure(ok=_bad_between(10.0, 14.2), faults=faults)
    plain = AVAIL.replace("min_events: 10,", "min_events: 10, exclude_faults: false,")
    steady = AVAIL.replace("min_events: 10,", "min_events: 10, exclude_faults: true,")
    v_plain = evaluate(_objectives(plain), m).objectives[0]
    v_steady = evaluate(_objectives(steady), m).objectives[0]
    assert v_plain.value == pytest.approx(100 * 257 / 300) and v_plain.events == 300
    assert v_steady.value == pytest.approx(100 * 257 / 259) and v_steady.events == 259
    assert v_steady.statistic.endswith("(fault spans excluded)")


def test_memory_slope_is_judged_after_the_last_fault() -> None:
    """RSS grows 1 MB/s until a kill at 100 s drops it and it settles flat: judged from the
    kill + 30 s, the slope is 0; the whole run after warm-up shows growth."""
    from slo.measurements import Timeseries

    t = T0 + np.arange(300.0)
    rss = np.where(t < T0 + 100, 100e6 + (t - T0) * 1e6, 150e6)
    slo = "objectives: [{name: mem, sli: memory_slope, threshold_mb_per_min: 5}]"
    base = Measurements(RunFacts("r", T0, T0 + 300), SampleColumns.from_arrow(samples_table(1)),
                        timeseries=Timeseries(t, {"target_rss_bytes": rss}))
    no_faults = evaluate(_objectives(slo), base).objectives[0]
    with_kill = evaluate(_objectives(slo), replace(
        base, faults=faults_from_run([_fault(100.0, 100.0, "kill", "kill")]))).objectives[0]
    assert with_kill.value == pytest.approx(0.0, abs=1e-9) and with_kill.events == 170
    assert no_faults.value is not None and no_faults.value != pytest.approx(0.0, abs=1e-3)


def test_recovery_found_in_a_later_time_block() -> None:
    """Errors until 95 s on a 200 s run (blocks of 60 s are scanned one by one): fault end
    at 13 s, recovered at the last bad send, 95.0 - 13 = 82 s."""
    n = 2000
    t = np.round(np.arange(n) * STEP, 6)
    m = _measure(ok=~((t >= 10.0) & (t <= 95.0)), n=n, end=200.0)
    got = sli_recovery(window_tests(_objectives(ERR), m), T0 + 13.0, T0 + 200.0, 1.0)
    assert got == pytest.approx(82.0, abs=1e-6)


def test_faults_are_read_whether_run_json_declares_them_or_not() -> None:
    """The runner may keep ``faults`` as a run.json extra or declare it on RunInfo."""
    from pydantic import BaseModel

    from foundation.layout import RunInfo
    from slo.faults import faults_of

    entry = _fault(10.0, 13.0, "storm")
    extra = RunInfo(run_id="r", target_url="http://127.0.0.1:1", started_at=T0, faults=[entry])

    class Entry(BaseModel):
        name: str
        action: str
        started_at: float
        ended_at: float

    class Typed(RunInfo):
        faults: list[Entry]

    typed = Typed(run_id="r", target_url="http://127.0.0.1:1", started_at=T0,
                  faults=[Entry(name="storm", action="target", started_at=T0 + 10,
                                ended_at=T0 + 13)])
    for info in (extra, typed):
        (f,) = faults_of(info)
        assert (f.name, f.start, f.end) == ("storm", T0 + 10.0, T0 + 13.0)


def test_corrected_latency_objective_recovers_on_corrected_latency() -> None:
    """Raw latency is 10 ms throughout, but sends from 10 to 15 s left 0.5 s late (a stall):
    corrected 510 ms, sent at 10.5 .. 15.5 s. On-time sends resume at 15.1 s. With 5 s
    windows after s = 15.3: late 15.4, 15.5 (2 bad) + on-time 15.4 .. 20.3 (50 good) = 52,
    and 50 >= ceil(0.95 x 52) = 50 -> within; after 15.2: 3 bad, 50 good, 50 < ceil(50.35).
    So corrected recovers 3.3 s after the 12 s end; raw latency recovers at once."""
    t = np.round(np.arange(N) * STEP, 6)
    late = np.where((t >= 10.0) & (t <= 15.0), 0.5, 0.0)
    table = samples_table(N, ts=T0 + t + late, intended_ts=T0 + t)
    m = Measurements(RunFacts("r", T0, T0 + 30.0), SampleColumns.from_arrow(table))
    corrected = _objectives(P95.replace("threshold_ms: 100", "threshold_ms: 100, corrected: true"))
    got = sli_recovery(window_tests(corrected, m), T0 + 12.0, T0 + 30.0, 5.0)
    raw = sli_recovery(window_tests(_objectives(P95), m), T0 + 12.0, T0 + 30.0, 5.0)
    assert raw == 0.0
    assert got == pytest.approx(3.3, abs=1e-6)


def test_health_recovery_is_read_when_no_objective_selects_by_name(
        make_run: Callable[..., Path], tmp_path: Path) -> None:
    """The readiness SLO selects by kind only; the ``recovery: ...`` samples are found by
    name all the same (the name column used to be read only when an objective asked)."""
    slo = tmp_path / "slo.yaml"
    slo.write_text(AVAIL + "\n")
    names = ["GET /x"] * N
    kinds = ["http"] * N
    names[101], kinds[101] = "recovery: kill", "recovery"
    latency = np.full(N, 10.0)
    latency[101] = 3200.0
    table = samples_table(N, ts=_ts(), name=names, kind=kinds, latency_ms=latency)
    run = make_run([table], duration_s=30.0, faults=[_fault(10.0, 10.0, "kill", "kill")])
    evaluate_run(EvaluateRequest(run, slo))
    (fault,) = json.loads((run / "verdict.json").read_text())["faults"]
    assert fault["health_recovery_s"] == pytest.approx(3.2)
    assert fault["recovery_s"] == pytest.approx(3.2)


def test_sessions_refused_after_a_kill_delay_the_recovery() -> None:
    """A kill at 10 s drops 25 sessions; their reconnects are refused (opened, then closed at
    once) every second until 20 s, and succeed at 21 s. HTTP never fails. The drop-rate
    objective keeps the fault open until the last refusal at 20.01 s: 10.01 s after the kill
    (W = 5 s), where availability alone would say 0 s."""
    http_t = list(np.round(np.arange(300) * STEP, 6))
    rows: list[tuple[float, str, bool]] = [(t, "http", True) for t in http_t]
    rows += [(1.0, "ws_connect", True)] * 25 + [(10.0, "ws_close", False)] * 25
    for second in range(11, 21):
        rows += [(float(second), "ws_connect", True)] * 25
        rows += [(second + 0.01, "ws_close", False)] * 25
    rows += [(21.0, "ws_connect", True)] * 25
    rows.sort(key=lambda r: r[0])
    table = samples_table(len(rows), ts=T0 + np.array([r[0] for r in rows]),
                          kind=[r[1] for r in rows], ok=np.array([r[2] for r in rows]))
    m = Measurements(RunFacts("r", T0, T0 + 30.0), SampleColumns.from_arrow(table),
                     faults=faults_from_run([_fault(10.0, 10.0, "kill", "kill")]))
    drops = "objectives: [{name: drops, sli: ws_drop_rate, threshold_percent: 0.5}]"
    tests = window_tests(_objectives(AVAIL + "\n") + _objectives(drops), m)
    assert [t.name for t in tests] == ["avail", "drops"]
    assert sli_recovery(tests[:1], T0 + 10.0, T0 + 30.0, window_s=5.0) == pytest.approx(0.0)
    assert sli_recovery(tests, T0 + 10.0, T0 + 30.0, window_s=5.0) == pytest.approx(10.01)


def test_the_next_fault_bounds_the_recovery_windows() -> None:
    """A storm over 10..13 s with errors until 14.2 s, then a kill at 18 s whose errors last
    until 25 s: the storm recovered 1.2 s after its end, judged with 2.5 s windows (half the
    5 s gap before the kill; W = 4 s), not 12+ s, which windows reaching into the kill's damage say."""
    ok = _bad_between(10.0, 14.2) & _bad_between(18.0, 25.0)
    storm, kill = _fault(10.0, 13.0, "storm"), _fault(18.0, 18.0, "kill", "kill")
    kill["index"] = 1
    m = _measure(ok=ok, faults=[storm, kill])
    first, second = judge_faults(_objectives(AVAIL), m, m.faults, evaluate_objective, window_s=4.0)
    assert first.sli_recovery_s == pytest.approx(1.2, abs=1e-6) and first.window_s == 2.5
    assert second.sli_recovery_s == pytest.approx(7.0, abs=1e-6) and second.window_s == 4.0
