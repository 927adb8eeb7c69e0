"""Claims 3, 8, 9 and 10 on runs with faults (slo/claims/resilience.py), table-driven.

A fault is given twice, as the runner records it (``Evidence.faults``) and as the verdict
judged it (``Verdict.faults``: recovery time, recovered or not).
"""

from __future__ import annotations

from typing import Any

import pytest

from slo._types import Status
from slo.claims import ClaimStatus, Evidence, judge_claim
from slo.claims.evidence import (
    CheckFacts,
    RecoveryFacts,
    RunContext,
    SampleFacts,
    ScenarioFacts,
    ServerFacts,
    SpikeFacts,
    SpikeWindow,
)
from slo.fault_results import FaultResult
from slo.faults import FaultWindow
from slo.verdict import ObjectiveResult, Verdict

PASSED, FAILED, NV = ClaimStatus.PASSED, ClaimStatus.FAILED, ClaimStatus.NOT_VERIFIED
L0 = 1000.0  # load start (epoch s)


def window(name: str, action: str, start: float | None, end: float | None,
           spec: dict[str, Any] | None = None, status: str = "done") -> FaultWindow:
    return FaultWindow(0, name, action, status, None if start is None else L0 + start,
                       None if end is None else L0 + end, spec=spec or {})


def result(w: FaultWindow, recovery_s: float | None, observed_s: float = 100.0) -> FaultResult:
    recovered = recovery_s is not None
    return FaultResult(w.index, w.name, w.action, w.component, w.status, w.start, w.end,
                       recovered, recovery_s, recovered, recovery_s, None, None,
                       observed_s, 10.0)


KILL = window("kill #2", "kill", 100.0, 100.0)
DB = window("database outage #3", "database", 130.0, 175.0)
STORM = window("provider 429 storm", "target", 60.0, 90.0,
               {"target": {"provider": "rate_limit_storm"}})
MEM = ObjectiveResult("memory-leak", "memory_slope", Status.PASS, 0.2, 5.0, "<= 5", "MB/min", 300)


def ev(windows: tuple[FaultWindow, ...] = (), results: tuple[FaultResult, ...] = (),
       ended: float = 600.0, **kw: Any) -> Evidence:
    run = RunContext("r", "complete", started_at=L0, ended_at=L0 + ended, load_started_at=L0,
                     warmup_s=60.0)
    objectives = kw.pop("objectives", ())
    return Evidence(run, Verdict(Status.PASS, objectives, faults=results), faults=windows, **kw)


CASES = [
    # claim 9: API < 60 s, database <= 5 min (sooner than 2 min is fine)
    pytest.param(9, ev((KILL, DB), (result(KILL, 8.5), result(DB, 40.0))), PASSED,
                 id="9-kill-8.5s-db-40s-faster-than-2min-is-fine"),
    pytest.param(9, ev((KILL, DB), (result(KILL, 60.0), result(DB, 40.0))), FAILED,
                 id="9-kill-exactly-60s"),
    pytest.param(9, ev((KILL, DB), (result(KILL, 8.5), result(DB, 300.0))), PASSED,
                 id="9-db-exactly-5min"),
    pytest.param(9, ev((KILL, DB), (result(KILL, 8.5), result(DB, 300.5))), FAILED,
                 id="9-db-over-5min"),
    pytest.param(9, ev((KILL, DB), (result(KILL, 8.5), result(DB, None))), FAILED,
                 id="9-db-never-recovered"),
    pytest.param(9, ev((KILL,), (result(KILL, 8.5),)), NV, id="9-no-database-fault"),
    pytest.param(9, ev((KILL, window("db", "database", None, None, status="failed")),
                       (result(KILL, 8.5),)), NV, id="9-db-fault-never-took-effect"),
    pytest.param(9, ev((STORM,), (result(STORM, 1.0),)), NV, id="9-storm-is-not-a-recovery"),
    pytest.param(9, ev((KILL,), (result(KILL, 8.5),), samples=SampleFacts(recovery=(
        RecoveryFacts("recovery: postgres failover", "database", 150.0, True),))), PASSED,
        id="9-db-from-a-recovery-sample"),
    # claim 8: a storm that happened; runs ended, none lost, none failed on 429s
    pytest.param(8, ev((STORM,), samples=SampleFacts(durability=CheckFacts(6, 6),
                                                     retry=CheckFacts(3, 3))), PASSED,
                 id="8-storm-fault-absorbed"),
    pytest.param(8, ev((STORM,), samples=SampleFacts(durability=CheckFacts(6, 6),
                                                     retry=CheckFacts(3, 2))), FAILED,
                 id="8-retries-off-runs-failed-on-429"),
    pytest.param(8, ev((STORM,), samples=SampleFacts(durability=CheckFacts(6, 5),
                                                     retry=CheckFacts(3, 3))), FAILED,
                 id="8-a-run-lost"),
    pytest.param(8, ev((window("storm", "target", None, None,
                               {"target": {"provider": "rate_limit_storm"}}, "failed"),),
                       samples=SampleFacts(durability=CheckFacts(6, 6))), NV,
                 id="8-storm-never-took-effect"),
    pytest.param(8, ev(samples=SampleFacts(durability=CheckFacts(6, 6))), NV,
                 id="8-no-storm-at-all"),
    pytest.param(8, ev((STORM, DB), server=ServerFacts("scrape", 900, 40, 300, 5),
                       samples=SampleFacts(durability=CheckFacts(6, 6))), NV,
                 id="8-failed-runs-but-a-db-outage-too-and-no-retry-checks"),
    pytest.param(8, ev((STORM,), samples=SampleFacts(durability=CheckFacts(6, 6))), NV,
                 id="8-no-retry-checks-no-counters"),
    # claim 10: a fault overlapping the spike makes it unverifiable
    pytest.param(10, ev((KILL,), (result(KILL, 8.5),),
                        scenario=ScenarioFacts(spike=SpikeWindow(90, 120, 3.0, 60)),
                        samples=SampleFacts(spike=SpikeFacts(20.0, 60.0, 900, 4, 0, 0))), NV,
                 id="10-kill-inside-the-spike"),
    pytest.param(10, ev((DB,), (result(DB, 5.0),),
                        scenario=ScenarioFacts(spike=SpikeWindow(90, 120, 3.0, 60)),
                        samples=SampleFacts(spike=SpikeFacts(20.0, 60.0, 900, 0, 0, 3))), PASSED,
                 id="10-fault-after-the-spike"),
    # claim 3: with faults, only the quiet tail (30 s after the last fault) counts, >= 5 min
    pytest.param(3, ev((KILL, DB), objectives=(MEM,)), PASSED,
                 id="3-tail-395s-after-db-outage"),
    pytest.param(3, ev((KILL, window("db", "database", 130.0, 300.0)), objectives=(MEM,)), NV,
                 id="3-tail-only-270s"),
    pytest.param(3, ev((KILL, window("db", "database", 130.0, None)), ended=480.0,
                       objectives=(MEM,)), NV, id="3-db-never-undone-no-quiet-tail"),
]


@pytest.mark.parametrize(("claim_id", "evidence", "expected"), CASES)
def test_claim_with_faults(claim_id: int, evidence: Evidence, expected: ClaimStatus) -> None:
    got = judge_claim(claim_id, evidence)
    assert got.status is expected, got.evidence
    assert got.evidence
    assert bool(got.verify_with) is (expected is NV)


def test_not_verified_claims_name_the_field_that_would_verify_them() -> None:
    empty = Evidence(RunContext("r", "complete"), verdict=None)
    assert "rate_limit_storm" in judge_claim(8, empty).verify_with
    assert "kill:" in judge_claim(9, empty).verify_with
    assert "kind: spike" in judge_claim(10, empty).verify_with
    assert "memory_slope" in judge_claim(3, empty).verify_with


def test_recovery_measured_lists_each_fault() -> None:
    got = judge_claim(9, ev((KILL, DB), (result(KILL, 8.5), result(DB, None))))
    assert got.measured == "kill #2 8.5 s; database outage #3 not recovered"
    assert "database outage #3" in got.evidence


def test_health_and_isolation_probes_inside_fault_spans_are_left_out() -> None:
    """A /readyz that goes red during a database outage (20..30 s) is doing its job; outside
    the span every check answered. Isolation probes answered 503 inside it prove nothing."""
    import numpy as np

    from slo.claims.facts import sample_facts
    from slo.samples import SampleColumns
    from tests.slo.conftest import samples_table

    t = np.arange(0.0, 60.0, 1.0)
    inside = (t >= 20) & (t < 30)
    names = ["GET /readyz (probe)"] * 60
    for i in (5, 25, 45):
        names[i] = "isolation: GET /v1/runs/{id}"
    status = np.where(inside, 503, 200).astype(np.int32)
    status[[5, 45]] = 404
    table = samples_table(60, ts=L0 + t, name=names, ok=~inside, status=status,
                          kind=["check"] * 60)
    cols = SampleColumns.from_arrow(table)
    plain = sample_facts(cols, load_start=L0, end=L0 + 60, warmup_s=0.0)
    calm = sample_facts(cols, load_start=L0, end=L0 + 60, warmup_s=0.0,
                        fault_spans=[(L0 + 20, L0 + 30)])
    assert (plain.health.total, plain.health.ok) == (57, 48)
    assert (calm.health.total, calm.health.ok) == (48, 48)
    assert (plain.isolation.inconclusive, calm.isolation.inconclusive) == (1, 0)
    assert calm.isolation.refused == 2
