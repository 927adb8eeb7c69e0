"""Loading run records for comparison, and refusing runs that are not comparable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from foundation.errors import RunIncompleteError
from foundation.layout import RunStatus
from slo._types import Status
from slo.compare import (
    Mismatch,
    OperationKey,
    find_mismatches,
    load_run,
    planned_duration_s,
    slo_objectives,
)
from slo.verdict import write_verdict
from tests.slo.compare.helpers import verdict_with
from tests.slo.conftest import T0, samples_table

SCENARIO: dict[str, Any] = {
    "name": "gatecheck",
    "target": "http://127.0.0.1:5000",
    "description": "",
    "duration": 30.0,
    "warmup": 5.0,
    "load": {"model": "open", "rate": 200.0, "users": None},
    "http": [{"name": "healthz", "method": "GET", "path": "/healthz"}],
    "limits": {"max_duration": None},
    "resolved": {"planned_duration_s": 30.0},
}


def _with(**changes: Any) -> dict[str, Any]:
    """SCENARIO with ``load__rate=100`` style changes (``__`` walks into a mapping)."""
    out: dict[str, Any] = {**SCENARIO}
    for dotted, value in changes.items():
        node = out
        *parents, leaf = dotted.split("__")
        for p in parents:
            node[p] = dict(node[p])
            node = node[p]
        node[leaf] = value
    return out


def test_same_scenario_on_another_port_is_comparable() -> None:
    assert find_mismatches(SCENARIO, _with(target="http://127.0.0.1:6000", description="x")) == []


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        pytest.param(_with(load__rate=100.0), Mismatch("load.rate", "200.0", "100.0", "rate"), id="rate"),
        pytest.param(_with(resolved={"planned_duration_s": 60.0}, duration=60.0),
                     Mismatch("planned duration", "30 s", "60 s", "duration"), id="duration"),
        pytest.param(_with(warmup=0.0), Mismatch("warmup", "5.0", "0.0", "duration"), id="warmup"),
        pytest.param(_with(http=[{"name": "healthz", "method": "GET", "path": "/readyz"}]),
                     Mismatch("http[0].path", "/healthz", "/readyz", "scenario"), id="request"),
        pytest.param(_with(name="soak"), Mismatch("name", "gatecheck", "soak", "scenario"), id="name"),
    ],
)
def test_differences_are_named_by_field(candidate: dict[str, Any], expected: Mismatch) -> None:
    found = find_mismatches(
        SCENARIO, candidate,
        baseline_planned_s=planned_duration_s(SCENARIO),
        candidate_planned_s=planned_duration_s(candidate),
    )
    assert found == [expected]


def test_duration_override_is_judged_by_the_plan_not_the_file() -> None:
    """`slogate run --duration 30s` of a 60 s scenario file plans the same 30 s of load."""
    other = _with(duration=60.0)
    assert find_mismatches(SCENARIO, other, baseline_planned_s=30.0, candidate_planned_s=30.0) == []


def _table(n: int, start: float, latency: float = 20.0) -> pa.Table:
    ts = start + np.linspace(0, 20, n, endpoint=False)
    return samples_table(n, ts=ts, latency_ms=np.full(n, latency), tier=["team"] * n)


def test_load_run_window_starts_at_first_send_plus_warmup(make_run: Callable[..., Path]) -> None:
    # the runner spent 4 s provisioning before the first request, then 20 s of load
    run = make_run([_table(2000, T0 + 4.0)], warmup_s=5.0, scenario=SCENARIO, release="v1")
    data = load_run(run)
    assert data.window_start == pytest.approx(T0 + 4.0 + 5.0)
    assert data.summary.samples == 1500  # the first 5 s of 20 s are warm-up
    assert data.window_seconds == 14
    op = data.operations[OperationKey("http", "GET /x", "team")]
    assert op.total == 1500 and op.latency_sorted.size == 1500
    assert data.summary.release == "v1" and data.scenario["name"] == "gatecheck"


def test_load_run_uses_corrected_latency_by_default(make_run: Callable[..., Path]) -> None:
    n = 100
    ts = T0 + np.arange(n, dtype=float)
    table = samples_table(n, ts=ts, intended_ts=ts - 0.5, latency_ms=np.full(n, 10.0))
    run = make_run([table])
    corrected = load_run(run).operations[OperationKey("http", "GET /x", "")].latency_sorted
    raw = load_run(run, corrected=False).operations[OperationKey("http", "GET /x", "")].latency_sorted
    assert corrected[0] == pytest.approx(510.0) and raw[0] == pytest.approx(10.0)


@pytest.mark.parametrize("status", [RunStatus.ABORTED, RunStatus.FAILED, RunStatus.RUNNING])
def test_unfinished_runs_are_refused(make_run: Callable[..., Path], status: RunStatus) -> None:
    run = make_run([_table(100, T0)], status=status, reason="worker 0 died")
    with pytest.raises(RunIncompleteError, match=f"ended '{status.value}'"):
        load_run(run, role="baseline")


def test_missing_run_and_empty_run_are_refused(make_run: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(RunIncompleteError, match="not a directory"):
        load_run(tmp_path / "nope")
    (tmp_path / "bare").mkdir()
    with pytest.raises(RunIncompleteError, match=r"run\.json does not exist"):
        load_run(tmp_path / "bare")
    with pytest.raises(RunIncompleteError, match="recorded no samples"):
        load_run(make_run([]))


SLO_TEXT = """\
name: t
objectives:
  - name: a-p95
    sli: latency
    percentile: 95
    threshold_ms: 100
    select: {name: "GET /a*"}
  - name: availability
    sli: availability
    target: 99
  - name: drops
    sli: ws_drop_rate
    threshold_percent: 1
"""


def test_objectives_become_operations_over_their_own_selection(
    make_run: Callable[..., Path], tmp_path: Path
) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO_TEXT)
    n = 300
    names = ["GET /a/1", "GET /a/2", "GET /b"] * (n // 3)
    ok = np.ones(n, dtype=bool)
    ok[:30] = False
    table = samples_table(n, ts=T0 + np.linspace(0, 30, n, endpoint=False), name=names, ok=ok,
                          latency_ms=np.where(np.array(names) == "GET /b", 500.0, 20.0))
    run = make_run([table])
    write_verdict(verdict_with(Status.PASS, 20.0), run / "verdict.json")
    verdict = (run / "verdict.json").read_text().replace('"slo": ""', f'"slo": "{slo}"')
    (run / "verdict.json").write_text(verdict)
    objectives, note = slo_objectives(run)
    assert [o.name for o in objectives] == ["a-p95", "availability", "drops"] and note == ""
    data = load_run(run, objectives=objectives)
    a = data.operations[OperationKey("slo", "a-p95")]
    assert a.total == 200 and a.metrics == ("latency", "p95", "p99")
    assert float(a.latency_sorted.max()) == 20.0  # GET /b (500 ms) is not selected
    availability = data.operations[OperationKey("slo", "availability")]
    assert (availability.total, availability.errors, availability.metrics) == (300, 30, ("error_rate",))
    assert OperationKey("slo", "drops") not in data.operations  # per session, not per sample


def test_slo_objectives_without_a_verdict_or_file(make_run: Callable[..., Path], tmp_path: Path) -> None:
    run = make_run([_table(10, T0)])
    assert slo_objectives(run)[0] == () and "no verdict.json" in slo_objectives(run)[1]
    write_verdict(verdict_with(Status.PASS, 1.0), run / "verdict.json")
    text = (run / "verdict.json").read_text().replace('"slo": ""', '"slo": "/gone/slo.yaml"')
    (run / "verdict.json").write_text(text)
    objectives, note = slo_objectives(run)
    assert objectives == () and "by status only" in note and "/gone/slo.yaml" in note
