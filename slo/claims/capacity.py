"""Capacity by tier: what each tier held (sessions, request rate) and whether its SLOs held.

"Within SLO" for a tier means the objectives that judged *that tier* -- a ``per: tier``
objective's group for it, or an objective whose ``select.tier`` names it. An objective over
all tiers together says nothing about one tier (a tier can hide behind the others), so a
tier no objective judged alone has status ``None``: "not judged per tier".

Example::

    rows = tier_capacity(evidence)
    [(r.tier, r.sessions_held, r.status) for r in rows]
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from slo._types import Status, worst
from slo.claims.catalog import SESSION_QUOTAS
from slo.claims.evidence import Evidence

__all__ = ["TierCapacity", "tier_capacity"]


@dataclass(frozen=True, slots=True)
class TierCapacity:
    """One tier's load and verdict; ``None`` wherever the record cannot say."""

    tier: str
    tenants: int | None
    quota_per_tenant: int | None
    sessions_planned: int | None
    sessions_held: int | None
    http_rps: float | None
    status: Status | None
    objectives: tuple[str, ...]


def tier_capacity(ev: Evidence) -> tuple[TierCapacity, ...]:
    """One row per tier seen in the scenario, the timeseries or the samples."""
    plans = {p.tier: p for p in ev.scenario.tiers}
    held = ev.timeseries.sessions_held_per_tier if ev.timeseries is not None else {}
    rates = ev.samples.http_rps_per_tier
    seen = set(plans) | set(held) | set(rates)
    order = [t for t in SESSION_QUOTAS if t in seen] + sorted(seen - set(SESSION_QUOTAS))
    rows = []
    for tier in order:
        statuses, names = _judged(ev, tier)
        plan = plans.get(tier)
        rows.append(TierCapacity(
            tier=tier,
            tenants=plan.tenants if plan else None,
            quota_per_tenant=SESSION_QUOTAS.get(tier),
            sessions_planned=plan.sessions if plan else None,
            sessions_held=held.get(tier),
            http_rps=rates.get(tier),
            status=worst(statuses) if statuses else None,
            objectives=tuple(names),
        ))
    return tuple(rows)


def _judged(ev: Evidence, tier: str) -> tuple[list[Status], list[str]]:
    statuses: list[Status] = []
    names: list[str] = []
    for o in ev.objectives:
        if o.per == "tier":
            group = next((g for g in o.groups if g.key == tier), None)
            if group is not None:
                statuses.append(group.status)
                names.append(o.name)
            continue
        tiers = ev.scope(o.name).tiers
        if tiers is not None and any(fnmatch.fnmatchcase(tier, p) for p in tiers):
            statuses.append(o.status)
            names.append(o.name)
    return statuses, names
