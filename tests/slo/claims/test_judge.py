"""Each readiness claim, table-driven: passed only on evidence, failed on contradiction,
not_verified when the run did not test it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from slo._types import Status
from slo.claims import CLAIMS, ClaimStatus, Evidence, ObjectiveScope, judge_claim
from slo.claims.evidence import (
    CheckFacts,
    HealthFacts,
    ProbeFacts,
    RecoveryFacts,
    RunContext,
    SampleFacts,
    ScenarioFacts,
    ServerFacts,
    SpikeFacts,
    SpikeWindow,
    TierPlan,
    TimeseriesFacts,
)
from slo.verdict import GroupResult, ObjectiveResult, Verdict

P, W, F, INS = Status.PASS, Status.WARN, Status.FAIL, Status.INSUFFICIENT_DATA
PASSED, FAILED, NV = ClaimStatus.PASSED, ClaimStatus.FAILED, ClaimStatus.NOT_VERIFIED


def obj(name: str, sli: str, status: Status = P, value: float | None = 1.0, **kw: Any) -> ObjectiveResult:
    return ObjectiveResult(name=name, sli=sli, status=status, value=value,
                           threshold=kw.pop("threshold", 1.0), threshold_text=kw.pop("text", "t"),
                           unit=kw.pop("unit", "ms"), events=kw.pop("events", 100), **kw)


WS = (obj("ws-drop-rate", "ws_drop_rate", value=0.1, unit="%"),
      obj("ws-message-p95", "latency", value=900.0, statistic="p95"))
SCOPES = {
    "ws-drop-rate": ObjectiveScope(known=True, kinds=("ws_connect", "ws_close")),
    "ws-message-p95": ObjectiveScope(known=True, kinds=("ws_message",)),
    "http-availability": ObjectiveScope(known=True, kinds=("http",)),
    "http-p95": ObjectiveScope(known=True, kinds=("http",), corrected=True),
    "http-p95-raw": ObjectiveScope(known=True, kinds=("http",)),
    "all-p95": ObjectiveScope(known=True, kinds=None),
    "db": ObjectiveScope(known=True, metric="slogate_db_query_duration_seconds"),
}
QUOTA_TIERS = (TierPlan("starter", 2, 10), TierPlan("team", 2, 50), TierPlan("enterprise", 1, 500))
HELD_AT_QUOTA = {"starter": 20, "team": 100, "enterprise": 500}


def evidence(*objectives: ObjectiveResult, verdict: bool = True, **kw: Any) -> Evidence:
    """Evidence of a complete 10-minute run (5 min after warm-up would be 9 min here)."""
    run = kw.pop("run", RunContext("r", "complete", started_at=0.0, ended_at=600.0,
                                   warmup_s=60.0))
    return Evidence(
        run=run,
        verdict=Verdict(status=P, objectives=objectives) if verdict else None,
        scopes=kw.pop("scopes", SCOPES),
        scenario=kw.pop("scenario", ScenarioFacts(planned_sessions=1020, tiers=QUOTA_TIERS)),
        timeseries=kw.pop("timeseries", TimeseriesFacts(
            rows=600, hold_s=10.0, sessions_held=1020, sessions_held_per_tier=HELD_AT_QUOTA)),
        samples=kw.pop("samples", SampleFacts()),
        server=kw.pop("server", None),
    )


def ts(**kw: Any) -> TimeseriesFacts:
    base = TimeseriesFacts(rows=600, hold_s=10.0, sessions_held=1020,
                           sessions_held_per_tier=HELD_AT_QUOTA)
    return replace(base, **kw)


CASES = [
    # claim 1: sessions held stable
    pytest.param(1, evidence(*WS), PASSED, id="1-held-1020-objectives-pass"),
    pytest.param(1, evidence(WS[0], replace(WS[1], status=F)), FAILED, id="1-message-latency-failed"),
    pytest.param(1, evidence(*WS, timeseries=ts(sessions_held=800)), FAILED,
                 id="1-planned-1020-held-800"),
    pytest.param(1, evidence(*WS, scenario=ScenarioFacts(planned_sessions=500),
                             timeseries=ts(sessions_held=500)), NV, id="1-scenario-too-small"),
    pytest.param(1, evidence(*WS, timeseries=None), NV, id="1-no-timeseries"),
    pytest.param(1, evidence(WS[0]), NV, id="1-no-message-latency-objective"),
    pytest.param(1, evidence(WS[0], replace(WS[1], status=INS, value=None)), NV,
                 id="1-message-latency-insufficient"),
    pytest.param(1, evidence(*WS, verdict=False), NV, id="1-not-judged"),
    # claim 2: database P95 < 100 ms, judged against the claim's own 100 ms
    pytest.param(2, evidence(obj("db", "server_latency", value=42.0)), PASSED, id="2-42ms"),
    pytest.param(2, evidence(obj("db", "server_latency", value=100.0)), FAILED, id="2-exactly-100"),
    pytest.param(2, evidence(obj("db", "server_latency", P, 150.0, threshold=200.0)), FAILED,
                 id="2-looser-slo-passes-but-claim-fails"),
    pytest.param(2, evidence(obj("db", "server_latency", INS, None)), NV, id="2-no-observations"),
    pytest.param(2, evidence(), NV, id="2-no-objective"),
    # claim 3: no leak, needs >= 5 min after warm-up
    pytest.param(3, evidence(obj("mem", "memory_slope", value=0.2)), PASSED, id="3-flat"),
    pytest.param(3, evidence(obj("mem", "memory_slope", F, 12.0)), FAILED, id="3-leak"),
    pytest.param(3, evidence(obj("mem", "memory_slope", value=0.2),
                             run=RunContext("r", "complete", ended_at=200.0, warmup_s=60.0)),
                 NV, id="3-too-short"),
    # claim 4: CPU 45-60 %
    pytest.param(4, evidence(obj("cpu", "cpu", value=52.0, unit="%")), PASSED, id="4-52"),
    pytest.param(4, evidence(obj("cpu", "cpu", value=75.0, unit="%")), FAILED, id="4-75-no-headroom"),
    pytest.param(4, evidence(obj("cpu", "cpu", value=12.0, unit="%")), NV, id="4-12-not-loaded"),
    pytest.param(4, evidence(obj("cpu", "cpu", value=45.0, unit="%")), PASSED, id="4-45-boundary"),
    pytest.param(4, evidence(obj("cpu", "cpu", value=60.0, unit="%")), PASSED, id="4-60-boundary"),
    pytest.param(4, evidence(timeseries=ts(target_cpu_mean=52.0)), PASSED,
                 id="4-timeseries-52-no-objective"),
    pytest.param(4, evidence(timeseries=ts(target_cpu_mean=75.0)), FAILED,
                 id="4-timeseries-75-no-objective"),
    pytest.param(4, evidence(timeseries=ts(target_cpu_mean=None)), NV, id="4-not-measured"),
    # claim 5: each tier at quota, held, within SLO
    pytest.param(5, evidence(*WS), PASSED, id="5-all-tiers-at-quota"),
    pytest.param(5, evidence(*WS, timeseries=ts(sessions_held_per_tier={**HELD_AT_QUOTA,
                                                                       "team": 99})),
                 FAILED, id="5-team-held-99-of-100"),
    pytest.param(5, evidence(*WS, scenario=ScenarioFacts(
        planned_sessions=1020, tiers=(*QUOTA_TIERS[:2], TierPlan("enterprise", 1, 450)))),
        NV, id="5-enterprise-below-quota"),
    pytest.param(5, evidence(WS[0], obj("ws-message-p95", "latency", F, 9000.0, per="tier",
                                        groups=(GroupResult("starter", P, 1.0, 10),
                                                GroupResult("team", F, 9000.0, 10)))),
                 FAILED, id="5-team-group-failed"),
    pytest.param(5, evidence(), NV, id="5-no-ws-objectives"),
    # claim 6: availability > 99.5 % and P95 < 500 ms (corrected preferred)
    pytest.param(6, evidence(obj("http-availability", "availability", value=99.9, unit="%"),
                             obj("http-p95", "latency", value=300.0, statistic="p95 corrected")),
                 PASSED, id="6-pass"),
    pytest.param(6, evidence(obj("http-availability", "availability", value=99.5, unit="%"),
                             obj("http-p95", "latency", value=300.0, statistic="p95 corrected")),
                 FAILED, id="6-availability-exactly-99.5-is-not-above"),
    pytest.param(6, evidence(obj("http-availability", "availability", value=99.9, unit="%"),
                             obj("http-p95-raw", "latency", value=200.0, statistic="p95"),
                             obj("http-p95", "latency", value=700.0, statistic="p95 corrected")),
                 FAILED, id="6-corrected-p95-wins-over-raw"),
    pytest.param(6, evidence(obj("http-availability", "availability", value=99.9, unit="%"),
                             obj("all-p95", "latency", value=300.0, statistic="p95")),
                 NV, id="6-p95-over-all-kinds-is-not-http"),
    pytest.param(6, evidence(obj("http-availability", "availability", INS, None, unit="%"),
                             obj("http-p95", "latency", INS, None, statistic="p95")),
                 NV, id="6-insufficient"),
    # claim 7: isolation probes
    pytest.param(7, evidence(samples=SampleFacts(isolation=ProbeFacts(20, 20, 0, 0, 10, 10))),
                 PASSED, id="7-all-refused"),
    pytest.param(7, evidence(samples=SampleFacts(isolation=ProbeFacts(20, 19, 1, 0, 10, 10))),
                 FAILED, id="7-one-leak"),
    pytest.param(7, evidence(samples=SampleFacts(isolation=ProbeFacts(10, 10, 0, 0, 10, 0))),
                 NV, id="7-reads-only"),
    pytest.param(7, evidence(samples=SampleFacts(isolation=ProbeFacts(20, 18, 0, 2, 10, 10))),
                 NV, id="7-inconclusive-5xx"),
    pytest.param(7, evidence(), NV, id="7-no-probes"),
    # claim 8: provider 429s absorbed
    pytest.param(8, evidence(server=ServerFacts("scrape", 900, 12, 300, 0),
                             samples=SampleFacts(durability=CheckFacts(10, 10))),
                 PASSED, id="8-absorbed"),
    pytest.param(8, evidence(server=ServerFacts("scrape", 900, 12, 300, 0)), NV,
                 id="8-absorbed-but-no-read-back"),
    pytest.param(8, evidence(server=ServerFacts("scrape", 900, 12, 300, 3),
                             samples=SampleFacts(durability=CheckFacts(10, 10))),
                 FAILED, id="8-runs-failed"),
    pytest.param(8, evidence(server=ServerFacts("scrape", 900, 0, 300, 0)), NV, id="8-no-429s"),
    pytest.param(8, evidence(), NV, id="8-no-server-json"),
    # claim 9: recovery
    pytest.param(9, evidence(samples=SampleFacts(recovery=(
        RecoveryFacts("recovery: api", "api", 20.0, True),
        RecoveryFacts("recovery: db failover", "database", 180.0, True)))), PASSED, id="9-both"),
    pytest.param(9, evidence(samples=SampleFacts(recovery=(
        RecoveryFacts("recovery: api", "api", 60.0, True),
        RecoveryFacts("recovery: db failover", "database", 180.0, True)))), FAILED,
        id="9-api-exactly-60s"),
    pytest.param(9, evidence(samples=SampleFacts(recovery=(
        RecoveryFacts("recovery: api", "api", 20.0, True),
        RecoveryFacts("recovery: db failover", "database", 300.0, True)))), PASSED,
        id="9-db-exactly-5min"),
    pytest.param(9, evidence(samples=SampleFacts(recovery=(
        RecoveryFacts("recovery: api", "api", 20.0, True),))), NV, id="9-db-missing"),
    # claim 10: spike
    pytest.param(10, evidence(scenario=ScenarioFacts(spike=SpikeWindow(55, 70, 3.0, 40)),
                              samples=SampleFacts(spike=SpikeFacts(20.0, 60.0, 900, 0, 0, 12))),
                 PASSED, id="10-shed-with-429-only"),
    pytest.param(10, evidence(scenario=ScenarioFacts(spike=SpikeWindow(55, 70, 3.0, 40)),
                              samples=SampleFacts(spike=SpikeFacts(20.0, 60.0, 900, 1, 0, 0))),
                 FAILED, id="10-one-5xx"),
    pytest.param(10, evidence(scenario=ScenarioFacts(spike=SpikeWindow(55, 70, 3.0, 40)),
                              samples=SampleFacts(spike=SpikeFacts(20.0, 60.0, 900, 0, 2, 0))),
                 FAILED, id="10-timeouts"),
    pytest.param(10, evidence(scenario=ScenarioFacts(spike=SpikeWindow(55, 70, 3.0, 40)),
                              samples=SampleFacts(spike=SpikeFacts(20.0, 40.0, 600, 0, 0, 0))),
                 NV, id="10-generator-delivered-2x"),
    pytest.param(10, evidence(scenario=ScenarioFacts(spike=SpikeWindow(55, 70, 2.0, 40))), NV,
                 id="10-spike-only-2x"),
    pytest.param(10, evidence(), NV, id="10-no-spike"),
    # claim 11: provisioning
    pytest.param(11, evidence(run=RunContext("r", "complete", provisioning_tenants=5,
                                             provisioning_max_s=0.4)), PASSED, id="11-fast"),
    pytest.param(11, evidence(run=RunContext("r", "complete", provisioning_tenants=5,
                                             provisioning_max_s=120.0)), FAILED, id="11-2min"),
    pytest.param(11, evidence(), NV, id="11-none"),
    # claim 12: health
    pytest.param(12, evidence(samples=SampleFacts(health=HealthFacts(60, 60, 12.0))), PASSED,
                 id="12-all-answered"),
    pytest.param(12, evidence(samples=SampleFacts(health=HealthFacts(60, 59, 12.0))), FAILED,
                 id="12-one-missed"),
    pytest.param(12, evidence(samples=SampleFacts(health=HealthFacts(60, 60, 1500.0))), FAILED,
                 id="12-too-slow"),
    pytest.param(12, evidence(samples=SampleFacts(health=HealthFacts(3, 3, 1.0))), NV,
                 id="12-too-few"),
    # claim 13: nothing lost
    pytest.param(13, evidence(samples=SampleFacts(durability=CheckFacts(50, 50))), PASSED,
                 id="13-all-read-back"),
    pytest.param(13, evidence(samples=SampleFacts(durability=CheckFacts(50, 49))), FAILED,
                 id="13-one-lost"),
    pytest.param(13, evidence(), NV, id="13-no-checks"),
]


@pytest.mark.parametrize(("claim_id", "ev", "expected"), CASES)
def test_claim(claim_id: int, ev: Evidence, expected: ClaimStatus) -> None:
    result = judge_claim(claim_id, ev)
    assert result.status is expected, result.evidence
    assert result.claim.id == claim_id
    assert result.evidence  # every verdict says why


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_empty_evidence_never_passes(claim: Any) -> None:
    """A run that tested nothing verifies nothing -- whatever the claim."""
    empty = Evidence(RunContext("r", "complete"), verdict=None)
    assert judge_claim(claim.id, empty).status is NV


def test_warn_objective_passes_marginal() -> None:
    result = judge_claim(1, evidence(WS[0], replace(WS[1], status=W)))
    assert result.status is PASSED and result.marginal


def test_failed_objective_is_named() -> None:
    result = judge_claim(3, evidence(obj("memory-leak", "memory_slope", F, 12.0)))
    assert "memory-leak" in result.evidence


def test_claim4_reads_cpu_from_timeseries_when_no_objective_measures_it(tmp_path: Any) -> None:
    """A run record whose SLO file has no cpu objective but whose timeseries holds target CPU:
    claim 4 gives the mean after warm-up (numpy on the same rows), never "not measured"."""
    from pathlib import Path

    import pyarrow.parquet as pq

    from foundation.layout import RunLayout
    from slo.claims.gather import gather_evidence
    from slo.verdict import read_verdict, write_verdict
    from tests.reports.builders import build_run

    run_dir = build_run(Path(tmp_path) / "r", "mixed")
    layout = RunLayout(run_dir)
    verdict = read_verdict(layout.verdict_json)
    write_verdict(replace(verdict, objectives=tuple(o for o in verdict.objectives
                                                    if o.sli != "cpu")), layout.verdict_json)
    ev = gather_evidence(run_dir)
    table = pq.read_table(layout.timeseries).to_pandas()
    info = layout.read_info()
    judged = table[table["ts"] >= info.load_started_at + info.warmup_s]
    expected = float(judged["target_cpu_percent"].mean())
    result = judge_claim(4, ev)
    assert result.value == pytest.approx(expected)
    assert "not measured" not in result.evidence
    assert result.measured == f"mean {expected:.1f} %"
    assert result.status is PASSED  # 50 + (t % 7) averages 53 % over 110 s after warm-up
