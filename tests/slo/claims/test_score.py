"""The readiness score, the GO / NO-GO decision sentence, capacity by tier and the risks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slo._types import Status
from slo.budget import RunBudget
from slo.claims import (
    CLAIMS,
    CRITICAL_IDS,
    TOTAL_WEIGHT,
    ClaimResult,
    ClaimStatus,
    Evidence,
    find_risks,
    readiness,
    tier_capacity,
)
from slo.claims.evidence import RunContext, SampleFacts, ScenarioFacts, TierPlan, TimeseriesFacts
from slo.verdict import GroupResult, ObjectiveResult, Verdict

PASSED, FAILED, NV = ClaimStatus.PASSED, ClaimStatus.FAILED, ClaimStatus.NOT_VERIFIED


def claims(statuses: dict[int, ClaimStatus], default: ClaimStatus = PASSED) -> tuple[ClaimResult, ...]:
    return tuple(ClaimResult(c, statuses.get(c.id, default), "m", "t", "why") for c in CLAIMS)


def ev(status: str = "complete", verdict: Status | None = Status.PASS,
       objectives: tuple[ObjectiveResult, ...] = ()) -> Evidence:
    v = None if verdict is None else Verdict(status=verdict, objectives=objectives)
    return Evidence(RunContext("r", status, reason="worker 1 crashed"), v)


def test_catalogue_weights_and_critical_set() -> None:
    assert [c.id for c in CLAIMS] == list(range(1, 14))
    assert TOTAL_WEIGHT == sum(c.weight for c in CLAIMS) == 27
    assert {1, 5, 6, 7, 13} == CRITICAL_IDS


@pytest.mark.parametrize(("statuses", "earned"), [
    pytest.param({}, 27, id="all-passed"),
    pytest.param({c.id: NV for c in CLAIMS}, 0, id="nothing-verified-earns-nothing"),
    pytest.param({2: FAILED, 3: NV}, 24, id="failed-and-unverified-both-earn-0"),
    pytest.param({1: NV}, 24, id="critical-weight-3"),
])
def test_score_is_weighted_share(statuses: dict[int, ClaimStatus], earned: int) -> None:
    r = readiness(ev(), claims(statuses))
    assert (r.earned, r.total) == (earned, 27)
    assert r.score == pytest.approx(100 * earned / 27)


def test_go_when_every_critical_claim_passes_even_if_others_do_not() -> None:
    r = readiness(ev(), claims({2: NV, 3: FAILED, 9: NV}))
    assert r.go and r.decision == "GO"
    assert r.sentence.startswith("GO: all 5 critical claims passed")
    assert "81 %" in r.sentence  # 22 of 27


@pytest.mark.parametrize(("evidence", "statuses", "words"), [
    pytest.param(ev(), {7: FAILED}, ["critical claims failed: 7 (isolation)"], id="critical-failed"),
    pytest.param(ev(), {13: NV}, ["critical claims not verified: 13 (no-data-loss)"],
                 id="critical-not-verified"),
    pytest.param(ev("aborted"), {}, ["the run was aborted (worker 1 crashed)"], id="aborted"),
    pytest.param(ev(verdict=None), {}, ["not judged"], id="no-verdict"),
    pytest.param(ev(verdict=Status.INSUFFICIENT_DATA, objectives=(ObjectiveResult(
        "p95", "latency", Status.INSUFFICIENT_DATA, None, 500, "<= 500 ms", "ms", 3),)), {},
        ["insufficient data (p95)"], id="insufficient-data"),
    pytest.param(ev(verdict=Status.FAIL, objectives=(ObjectiveResult(
        "ttft", "ttft", Status.FAIL, 2000, 1000, "<= 1000 ms", "ms", 300),)), {},
        ["the SLO gate failed (ttft)"], id="gate-failed-blocks-go"),
    pytest.param(ev(), {c.id: FAILED for c in CLAIMS}, ["every readiness claim failed (13 of 13)"],
                 id="every-claim-failed"),
])
def test_no_go_says_why(evidence: Evidence, statuses: dict[int, ClaimStatus], words: list[str]) -> None:
    r = readiness(evidence, claims(statuses))
    assert not r.go and r.sentence.startswith("NO-GO: ")
    for w in words:
        assert w in r.sentence
    assert r.sentence.count(".") == 1 or r.sentence.endswith(".")  # one sentence


def test_warn_verdict_does_not_block_go() -> None:
    assert readiness(ev(verdict=Status.WARN), claims({})).go


def _ratio(consumed: float, status: Status = Status.PASS) -> ObjectiveResult:
    return ObjectiveResult("avail", "availability", status, 99.7, 99.5, ">= 99.5 %", "%", 1000,
                           comparison=">=",
                           budget=RunBudget(1000, int(consumed * 5), 0.005, 5.0, consumed, 0.0))


@pytest.mark.parametrize(("objective", "kind"), [
    pytest.param(_ratio(0.9), "objective_marginal", id="budget-90-percent-spent"),
    pytest.param(_ratio(0.2), None, id="budget-20-percent-spent"),
    pytest.param(ObjectiveResult("p95", "latency", Status.PASS, 460, 500, "<= 500 ms", "ms", 9),
                 "objective_marginal", id="within-10-percent"),
    pytest.param(ObjectiveResult("p95", "latency", Status.PASS, 440, 500, "<= 500 ms", "ms", 9),
                 None, id="12-percent-headroom"),
    pytest.param(ObjectiveResult("p95", "latency", Status.FAIL, 900, 500, "<= 500 ms", "ms", 9),
                 "objective_failed", id="failed"),
    pytest.param(ObjectiveResult("p95", "latency", Status.INSUFFICIENT_DATA, None, 500,
                                 "<= 500 ms", "ms", 0, optional=True), None,
                 id="optional-without-data"),
    pytest.param(ObjectiveResult("mem", "memory_slope", Status.FAIL, 12, 5, "<= 5 MB/min",
                                 "MB/min", 9), "suspected_leak", id="leak"),
])
def test_objective_risks(objective: ObjectiveResult, kind: str | None) -> None:
    risks = find_risks(ev(objectives=(objective,)), claims({}))
    assert [r.kind for r in risks] == ([kind] if kind else [])


def test_generator_saturation_is_a_high_risk_listed_first() -> None:
    e = replace(ev(objectives=(ObjectiveResult("p95", "latency", Status.FAIL, 900, 500, "t",
                                               "ms", 9),)),
                timeseries=TimeseriesFacts(rows=60, hold_s=10, generator_saturated_share=0.5,
                                           generator_ceiling=200.0))
    risks = find_risks(e, claims({}))
    assert [r.kind for r in risks][:2] == ["generator_saturated", "objective_failed"]
    assert risks[0].severity == "high" and "50 %" in risks[0].detail


def test_cross_check_findings_become_risks() -> None:
    v = Verdict(status=Status.PASS, objectives=(),
                cross_check={"findings": [{"message": "server saw 4,210 requests, client 4,190"}]})
    risks = find_risks(Evidence(RunContext("r", "complete"), v), claims({}))
    assert [(r.kind, r.detail) for r in risks] == [
        ("cross_check", "server saw 4,210 requests, client 4,190")]


def test_capacity_per_tier_uses_only_tier_judgements() -> None:
    per_tier = ObjectiveResult("p95-tier", "latency", Status.WARN, 480, 500, "t", "ms", 9,
                               per="tier", groups=(GroupResult("team", Status.PASS, 200, 5),
                                                   GroupResult("enterprise", Status.WARN, 480, 4)))
    overall = ObjectiveResult("p95", "latency", Status.FAIL, 900, 500, "t", "ms", 9)
    e = Evidence(
        RunContext("r", "complete"), Verdict(status=Status.FAIL, objectives=(per_tier, overall)),
        scenario=ScenarioFacts(tiers=(TierPlan("team", 2, 50), TierPlan("enterprise", 1, 500))),
        timeseries=TimeseriesFacts(rows=1, hold_s=10, sessions_held_per_tier={"team": 100}),
        samples=SampleFacts(http_rps_per_tier={"starter": 2.5, "team": 4.0}),
    )
    rows = {r.tier: r for r in tier_capacity(e)}
    assert list(rows) == ["starter", "team", "enterprise"]  # reference order
    assert rows["team"].status is Status.PASS and rows["team"].sessions_held == 100
    assert rows["enterprise"].status is Status.WARN and rows["enterprise"].sessions_held is None
    assert rows["starter"].status is None  # no objective judged starter alone
    assert rows["team"].sessions_planned == 100 and rows["starter"].http_rps == 2.5
