"""Claim 5 from capacity searches: per tier, tenants at quota held within SLO."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slo.capacity import CapacityResult
from slo.claims import ClaimStatus, judge_claim
from slo.claims.evidence import Evidence, RunContext
from tests.capacity.builders import found_result


def _search(tier: str, conclusion: str = "found", level: float | None = 3.0,
            vary: str = "tenants", started_at: float = 1.0) -> CapacityResult:
    return replace(found_result(), vary=vary, tier=tier, unit=f"{tier} tenants",
                   conclusion=conclusion, level=level, started_at=started_at).with_sentence()


def _claim5(*results: CapacityResult) -> tuple[ClaimStatus, str, str]:
    r = judge_claim(5, Evidence(RunContext("r", "complete"), verdict=None, capacity=results))
    return r.status, r.measured, r.evidence


ALL = ("starter", "team", "enterprise")


def test_every_tier_holding_tenants_at_quota_passes() -> None:
    status, measured, _ = _claim5(*(_search(t) for t in ALL))
    assert status is ClaimStatus.PASSED
    assert measured == "starter: 3 tenants at quota; team: 3 tenants at quota; enterprise: 3 tenants at quota"


@pytest.mark.parametrize(("enterprise", "status", "said"), [
    pytest.param(_search("enterprise", "zero", None), ClaimStatus.FAILED, "does not hold",
                 id="zero_refutes"),
    pytest.param(_search("enterprise", "inconclusive", None), ClaimStatus.NOT_VERIFIED,
                 "inconclusive", id="inconclusive"),
    pytest.param(_search("enterprise", vary="sessions", level=400.0), ClaimStatus.FAILED,
                 "does not hold", id="sessions_below_quota"),
    pytest.param(_search("enterprise", vary="sessions", level=520.0), ClaimStatus.PASSED,
                 "every tier", id="sessions_at_quota"),
])
def test_enterprise_outcomes(enterprise: CapacityResult, status: ClaimStatus, said: str) -> None:
    got, _, why = _claim5(_search("starter"), _search("team"), enterprise)
    assert got is status and said in why


def test_a_tier_without_a_search_is_not_verified_and_latest_search_wins() -> None:
    status, _, why = _claim5(_search("starter"), _search("team"))
    assert status is ClaimStatus.NOT_VERIFIED and "enterprise" in why
    old_zero = _search("enterprise", "zero", None, started_at=0.5)
    status, _, _ = _claim5(_search("starter"), _search("team"), old_zero, _search("enterprise"))
    assert status is ClaimStatus.PASSED


def test_without_searches_the_run_judges_claim_5() -> None:
    status, _, why = _claim5()
    assert status is ClaimStatus.NOT_VERIFIED and why == "the run has no verdict (it was not judged)"
