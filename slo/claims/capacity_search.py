"""Claim 5 judged from capacity searches (``slogate capacity``), when they are given.

A search with ``--vary tenants --tier T`` answers the claim for tier T directly: how many
tenants of T, each holding its session quota, the deployment keeps within SLO. The tier
holds its claim when at least one tenant at quota held (level >= 1); a ``--vary sessions
--tier T`` search holds it when the per-tenant sessions it found reach the quota. A search
that found capacity 0 refutes the tier; an inconclusive or unconverged one that established
nothing leaves it not verified. A tier without a search is not verified: the searches are
the evidence the report was pointed at, so the claim does not mix them with the run's.

Example::

    result = judge_from_capacity((read_capacity(Path("cap-enterprise")), ...))
"""

from __future__ import annotations

from collections.abc import Sequence

from slo.capacity import CapacityResult
from slo.claims.catalog import CLAIMS_BY_ID, SESSION_QUOTAS
from slo.claims.judge import ClaimResult, ClaimStatus

__all__ = ["judge_from_capacity"]


def _tier_status(r: CapacityResult, quota: int) -> tuple[ClaimStatus, str]:
    if r.conclusion == "zero":
        return ClaimStatus.FAILED, "0 at quota"
    if r.level is None:
        return ClaimStatus.NOT_VERIFIED, r.conclusion.replace("_", " ")
    if r.vary == "tenants":
        text = f"{r.level:g} tenant{'s' if r.level != 1 else ''} at quota"
        if r.conclusion == "at_least_ceiling":
            text = "at least " + text
        ok = r.level >= 1
    else:
        text = f"{r.level:g} sessions per tenant"
        ok = r.level >= quota
    if not ok:
        return ClaimStatus.FAILED, text
    return ClaimStatus.PASSED, text


def judge_from_capacity(results: Sequence[CapacityResult]) -> ClaimResult:
    """Claim 5 from the searches; the latest search per tier wins."""
    need = ", ".join(f"{t} {q}" for t, q in SESSION_QUOTAS.items()) + " sessions per tenant"
    by_tier = {r.tier: r for r in sorted(results, key=lambda r: r.started_at)
               if r.tier is not None and r.vary in ("tenants", "sessions")}
    parts, statuses, missing = [], [], []
    for tier, quota in SESSION_QUOTAS.items():
        r = by_tier.get(tier)
        if r is None:
            missing.append(tier)
            continue
        status, text = _tier_status(r, quota)
        parts.append(f"{tier}: {text}")
        statuses.append(status)
    measured = "; ".join(parts) or "-"
    tests = [f"capacity search ({r.vary}, {r.tier})" for r in by_tier.values()]
    claim = CLAIMS_BY_ID[5]
    if ClaimStatus.FAILED in statuses:
        why = "a tier does not hold one tenant at its quota within SLO (capacity search)"
        return ClaimResult(claim, ClaimStatus.FAILED, measured, need, why, tuple(tests))
    if missing or ClaimStatus.NOT_VERIFIED in statuses:
        why = ("no capacity search for " + ", ".join(missing) if missing
               else "a capacity search was inconclusive")
        return ClaimResult(claim, ClaimStatus.NOT_VERIFIED, measured, need, why, tuple(tests))
    return ClaimResult(claim, ClaimStatus.PASSED, measured, need,
                       "every tier holds its tenants at quota within SLO (capacity searches)",
                       tuple(tests))
