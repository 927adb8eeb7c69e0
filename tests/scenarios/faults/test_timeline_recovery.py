"""The fault timeline (real thread, fake actions) and the recovery computation (pure)."""

from __future__ import annotations

import threading
import time

import pytest

from scenarios.faults import FaultError, FaultRecord, FaultTimeline, Probe, recoveries
from scenarios.spec import parse_scenario

_HEAD = "target: embedded\nduration: 30s\nload: {users: 1}\nfaults:\n"


class _Action:
    """Records when it was applied and undone; can be told to fail."""

    def __init__(self, fail_apply: bool = False, fail_undo: bool = False) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail_apply, self.fail_undo = fail_apply, fail_undo

    def apply(self) -> None:
        self.calls.append(("apply", time.time()))
        if self.fail_apply:
            raise FaultError("apply went wrong")

    def undo(self) -> None:
        self.calls.append(("undo", time.time()))
        if self.fail_undo:
            raise FaultError("undo went wrong")


def _faults(entries: str):  # type: ignore[no-untyped-def]
    return parse_scenario(_HEAD + entries).scenario.faults


def test_faults_start_and_end_on_schedule_and_are_recorded() -> None:
    faults = _faults(
        "  - {name: a, at: 0.2s, for: 0.5s, target: {stall_s: 1}}\n"
        "  - {at: 0.4s, kill: {}}\n"
        "  - {at: 0.3s, for: 0.3s, exec: {run: x, undo: y}}\n"
    )
    actions = [_Action(), _Action(), _Action(fail_undo=True)]
    timeline = FaultTimeline(faults, actions)
    t0 = time.time()
    timeline.start(t0)
    time.sleep(0.45)
    assert set(timeline.in_force()) == {"a", "exec #3"}
    time.sleep(0.6)
    records = timeline.stop()
    a, kill, ex = records
    assert a["status"] == "done" and a["error"] == ""
    assert a["started_at"] - t0 == pytest.approx(0.2, abs=0.15)
    assert a["ended_at"] - t0 == pytest.approx(0.7, abs=0.15)
    assert kill["status"] == "done" and kill["started_at"] == kill["ended_at"]
    assert kill["name"] == "kill #2" and kill["planned_for"] is None
    assert ex["status"] == "failed" and "undo failed" in ex["error"] and ex["ended_at"] is None
    assert set(a) == {
        "index", "name", "action", "spec", "planned_at", "planned_for",
        "started_at", "ended_at", "status", "error",
    }
    assert a["spec"]["target"]["stall_s"] == 1 and a["spec"]["for"] == 0.5


def test_stop_undoes_faults_in_force_and_skips_the_rest() -> None:
    faults = _faults(
        "  - {at: 0.1s, for: 60s, target: {stall_s: 1}}\n"
        "  - {at: 20s, kill: {}}\n"
        "  - {at: 0.1s, exec: {run: x}}\n"
    )
    actions = [_Action(), _Action(), _Action(fail_apply=True)]
    timeline = FaultTimeline(faults, actions)
    timeline.start(time.time())
    time.sleep(0.4)
    records = timeline.stop()
    assert [c for c, _ in actions[0].calls] == ["apply", "undo"]  # undone by stop
    assert records[0]["status"] == "interrupted" and records[0]["ended_at"] is None
    assert records[1]["status"] == "skipped" and actions[1].calls == []
    assert records[2]["status"] == "failed" and records[2]["error"] == "apply went wrong"
    assert not any(t.name == "fault-timeline" for t in threading.enumerate())


def _record(name: str, started: float | None, ended: float | None, **kw: object) -> FaultRecord:
    r = FaultRecord(0, name, "target", {}, 0.0, 1.0, started_at=started, ended_at=ended)
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_recovery_is_the_first_good_probe_sent_after_the_end() -> None:
    # probes every 0.25 s from t=100; bad until 104.6 (answers take 10 ms)
    probes = [Probe(100 + i * 0.25, 100 + i * 0.25 + 0.01, 100 + i * 0.25 >= 104.6) for i in range(40)]
    probes.insert(0, Probe(99.0, 110.0, True))  # sent before the end: never evidence
    out = recoveries([_record("db", 101.0, 103.0)], probes, run_end=110.0)
    assert len(out) == 1 and out[0].ok and out[0].name == "recovery: db"
    assert out[0].ts == 103.0
    # first good probe sent at 104.75, answered 104.76: 1.76 s after the end
    assert out[0].latency_ms == pytest.approx(1760.0, abs=1e-6)


def test_never_recovered_and_never_ended_faults_are_not_recovered() -> None:
    probes = [Probe(100 + i * 0.25, 100 + i * 0.25 + 0.01, False) for i in range(20)]
    out = recoveries(
        [
            _record("down", 100.0, 101.0),
            _record("cut", 100.0, None, interrupted_at=104.0, error="undone at the end"),
            _record("skipped", None, None),
        ],
        probes,
        run_end=105.0,
    )
    assert [r.name for r in out] == ["recovery: down", "recovery: cut"]
    down, cut = out
    assert not down.ok and down.error == "not recovered"
    assert down.latency_ms == pytest.approx((104.76 - 101.0) * 1000.0)  # observed without recovery
    assert not cut.ok and cut.ts == 104.0 and cut.error.startswith("not recovered")


class _SlowAction(_Action):
    """An apply and undo that take 0.3 s each, like pg_ctl stopping and starting a server."""

    def apply(self) -> None:
        super().apply()
        time.sleep(0.3)

    def undo(self) -> None:
        super().undo()
        time.sleep(0.3)


def test_a_slow_fault_starts_when_applying_begins_and_ends_when_undone() -> None:
    """Clients see an immediate stop before pg_ctl returns: the start is the apply's first
    instant (never after its effect), the end the moment the undo has finished."""
    action = _SlowAction()
    timeline = FaultTimeline(_faults("  - {at: 0.1s, for: 0.5s, target: {stall_s: 1}}\n"), [action])
    timeline.start(time.time())
    time.sleep(1.4)
    (record,) = timeline.stop()
    applied_at, undone_at = action.calls[0][1], action.calls[1][1]
    assert record["started_at"] <= applied_at
    assert record["ended_at"] >= undone_at + 0.3
